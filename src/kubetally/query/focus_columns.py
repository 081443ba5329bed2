"""The FOCUS 1.2 export's vocabulary: its columns in order, the cost components and their ledger columns.

:data:`COMPONENTS` is the one table saying which ``allocations`` columns make up each cost component; every cost
column of the ledger is in exactly one component, so the components of a row add up to its ``total_cost``
(:func:`kubetally.query.focus_export.focus_frame` checks it on every exported row). Bill-reconciliation columns
(``cpu_bill_adjustment``, ...) join their component when the ledger schema has them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from kubetally.costs import ALLOCATIONS

FOCUS_VERSION = "1.2"
"""The FOCUS version the export conforms to."""

GIB = float(2**30)


class Granularity(StrEnum):
    """The length of each row's charge period."""

    HOUR = "hour"
    DAY = "day"


class FocusFormat(StrEnum):
    """The file formats of an export."""

    CSV = "csv"
    PARQUET = "parquet"


class AllocationKind(StrEnum):
    """``x_AllocationKind``: what a row's cost is."""

    WORKLOAD = "workload"
    IDLE = "idle"
    UNMOUNTED = "unmounted"
    OVERHEAD = "overhead"


@dataclass(frozen=True)
class Component:
    """One cost component: the ledger columns summed into its cost, its usage quantity and how FOCUS names it."""

    name: str
    """``x_CostComponent``."""
    label: str
    """The component in words (``ChargeDescription``, ``SkuMeter``)."""
    costs: tuple[str, ...]
    """The ``allocations`` columns whose sum is the component's charged cost."""
    quantity: str
    """SQL over an ``allocations`` row (alias ``a``) giving the consumed quantity in :attr:`unit`."""
    unit: str
    service_name: str
    service_category: str
    service_subcategory: str
    sku_id: str


def _present(*columns: str) -> tuple[str, ...]:
    """The columns that exist in the ledger's ``allocations`` schema (optional bill adjustments)."""
    return tuple(column for column in columns if column in ALLOCATIONS)


COMPUTE = ("Kubernetes Compute", "Compute", "Containers")

COMPONENTS: tuple[Component, ...] = (
    Component(
        "cpu",
        "CPU",
        ("cpu_cost", "cpu_cost_adjustment", *_present("cpu_bill_adjustment")),
        "a.cpu_core_hours",
        "vCPU-Hours",
        *COMPUTE,
        "kubernetes-cpu",
    ),
    Component(
        "ram",
        "RAM",
        ("ram_cost", "ram_cost_adjustment", *_present("ram_bill_adjustment")),
        f"a.ram_byte_hours / {GIB!r}",
        "GiB-Hours",
        *COMPUTE,
        "kubernetes-ram",
    ),
    Component(
        "gpu",
        "GPU",
        ("gpu_cost", "gpu_cost_adjustment", *_present("gpu_bill_adjustment")),
        "a.gpu_hours",
        "GPU-Hours",
        *COMPUTE,
        "kubernetes-gpu",
    ),
    Component(
        "storage",
        "Storage",
        ("pv_cost", *_present("pv_bill_adjustment")),
        f"a.pv_byte_hours / {GIB!r}",
        "GiB-Hours",
        "Kubernetes Persistent Volumes",
        "Storage",
        "Block Storage",
        "kubernetes-storage",
    ),
    Component(
        "network",
        "Network egress",
        ("network_cost",),
        f"a.network_transfer_bytes / {GIB!r}",
        "GiB",
        "Kubernetes Network",
        "Networking",
        "Network Infrastructure",
        "kubernetes-network",
    ),
    Component(
        "load_balancer",
        "Load balancer",
        ("load_balancer_cost",),
        "a.lb_hours",
        "Hours",
        "Kubernetes Load Balancers",
        "Networking",
        "Load Balancing",
        "kubernetes-load-balancer",
    ),
)
"""The cost components of ``allocations`` rows, in export order."""

CLUSTER_MANAGEMENT = Component(
    "cluster_management",
    "Cluster management",
    (),
    "a.overhead_hours",
    "Hours",
    "Kubernetes Cluster Management",
    *COMPUTE[1:],
    "kubernetes-cluster-management",
)
"""The overhead component: the ``ClusterManagement`` assets, which no allocation row carries."""

ALL_COMPONENTS: tuple[Component, ...] = (*COMPONENTS, CLUSTER_MANAGEMENT)

COST_COLUMNS: frozenset[str] = frozenset(column for component in COMPONENTS for column in component.costs)
"""Every ledger column that is part of a component's cost."""

PROVIDER_NAME = "Kubernetes"
PUBLISHER_NAME = "Kubernetes"
INVOICE_ISSUER_NAME = "Kubernetes"
BILLING_ACCOUNT_ID = "kubetally"
BILLING_ACCOUNT_NAME = "kubetally"

DIMENSIONS: tuple[tuple[str, str], ...] = (
    ("cluster", "x_Cluster"),
    ("node", "x_Node"),
    ("namespace", "x_Namespace"),
    ("controllerKind", "x_ControllerKind"),
    ("controller", "x_Controller"),
    ("pod", "x_Pod"),
    ("container", "x_Container"),
)
"""The Kubernetes dimensions (``--aggregate`` names, case-insensitive) and their columns, in canonical order."""

FOCUS_COLUMNS: tuple[tuple[str, pl.DataType], ...] = (
    ("AvailabilityZone", pl.String()),
    ("BilledCost", pl.Float64()),
    ("BillingAccountId", pl.String()),
    ("BillingAccountName", pl.String()),
    ("BillingCurrency", pl.String()),
    ("BillingPeriodEnd", pl.String()),
    ("BillingPeriodStart", pl.String()),
    ("ChargeCategory", pl.String()),
    ("ChargeClass", pl.String()),
    ("ChargeDescription", pl.String()),
    ("ChargeFrequency", pl.String()),
    ("ChargePeriodEnd", pl.String()),
    ("ChargePeriodStart", pl.String()),
    ("CommitmentDiscountStatus", pl.String()),
    ("ConsumedQuantity", pl.Float64()),
    ("ConsumedUnit", pl.String()),
    ("ContractedCost", pl.Float64()),
    ("ContractedUnitPrice", pl.Float64()),
    ("EffectiveCost", pl.Float64()),
    ("InvoiceId", pl.String()),
    ("InvoiceIssuerName", pl.String()),
    ("ListCost", pl.Float64()),
    ("ListUnitPrice", pl.Float64()),
    ("PricingCategory", pl.String()),
    ("PricingCurrency", pl.String()),
    ("PricingCurrencyContractedUnitPrice", pl.Float64()),
    ("PricingCurrencyEffectiveCost", pl.Float64()),
    ("PricingCurrencyListUnitPrice", pl.Float64()),
    ("PricingQuantity", pl.Float64()),
    ("PricingUnit", pl.String()),
    ("ProviderName", pl.String()),
    ("PublisherName", pl.String()),
    ("RegionId", pl.String()),
    ("RegionName", pl.String()),
    ("ResourceId", pl.String()),
    ("ResourceName", pl.String()),
    ("ResourceType", pl.String()),
    ("ServiceCategory", pl.String()),
    ("ServiceName", pl.String()),
    ("ServiceSubcategory", pl.String()),
    ("SkuId", pl.String()),
    ("SkuMeter", pl.String()),
    ("SkuPriceDetails", pl.String()),
    ("SkuPriceId", pl.String()),
    ("SubAccountId", pl.String()),
    ("SubAccountName", pl.String()),
    ("Tags", pl.String()),
)
"""The FOCUS columns of the export, in order. Date-times are ``YYYY-MM-DDTHH:mm:ssZ`` strings."""

EXTENSION_COLUMNS: tuple[tuple[str, pl.DataType], ...] = (
    *((column, pl.String()) for _, column in DIMENSIONS),
    ("x_CostComponent", pl.String()),
    ("x_AllocationKind", pl.String()),
    ("x_PriceSource", pl.String()),
)
"""The kubetally columns after the FOCUS ones."""

EXPORT_SCHEMA = pl.Schema([*FOCUS_COLUMNS, *EXTENSION_COLUMNS])
"""Every exported column and its type, in order."""

APPLICABILITY_CRITERIA: tuple[str, ...] = (
    "ACCOUNT_NAMING_SUPPORTED",
    "AVAILABILITY_ZONE_SUPPORTED",
    "BILLING_BASED_ON_PROVISIONED_RESOURCES_SUPPORTED",
    "NEGOTIATED_PRICING_SUPPORTED",
    "PUBLIC_PRICE_LIST_SUPPORTED",
    "REGION_SUPPORTED",
    "RESOURCE_TYPE_ASSIGNMENT_SUPPORTED",
    "SUB_ACCOUNT_SUPPORTED",
    "TAGGING_SUPPORTED",
    "UNIT_PRICING_SUPPORTED",
    "USAGE_MEASUREMENT_SUPPORTED",
)
"""The FOCUS applicability criteria the export claims (``focus-validator --applicability-criteria``)."""

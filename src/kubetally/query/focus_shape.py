"""Shaping the export's GROUP BY result into FOCUS rows: one per group and non-zero cost component.

Every column's value and the reason for it are in docs/focus-export.md.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from kubetally.domain.names import IDLE, UNALLOCATED, UNMOUNTED
from kubetally.domain.window import Window
from kubetally.errors import LedgerError
from kubetally.query.focus_columns import (
    ALL_COMPONENTS,
    BILLING_ACCOUNT_ID,
    BILLING_ACCOUNT_NAME,
    COMPONENTS,
    EXPORT_SCHEMA,
    INVOICE_ISSUER_NAME,
    PROVIDER_NAME,
    PUBLISHER_NAME,
    AllocationKind,
    Component,
    Granularity,
)

CLUSTER_MANAGEMENT_NAME = "__cluster_management__"
"""The last part of the ResourceId of overhead rows."""

TOLERANCE = 1e-9
"""Largest relative difference allowed between a row's components and its ``total_cost``."""

NEGLIGIBLE_COST = 1e-12
"""A component cost this small (in the billing currency) is floating-point residue of the cost arithmetic (an
idle GPU left at -6e-18 after subtraction), not a charge: its row is omitted."""

NODE_PRICED = frozenset({"cpu", "ram", "gpu"})
"""Components priced per node, whose price depends on the node's capacity type (spot or on-demand)."""

_PERIODS = {Granularity.HOUR: timedelta(hours=1), Granularity.DAY: timedelta(days=1)}
_DATE_TIME = "%Y-%m-%dT%H:%M:%SZ"


def check_components(grouped: pl.DataFrame) -> None:
    """Raise LedgerError when the components of an allocation group do not add up to its ``total_cost``."""
    parts = pl.sum_horizontal(*(pl.col(f"cost_{c.name}") for c in COMPONENTS))
    bad = grouped.filter(
        (pl.col("kind") != AllocationKind.OVERHEAD)
        & (
            (parts - pl.col("total_cost")).abs()
            > TOLERANCE * pl.max_horizontal(pl.lit(1.0), pl.col("total_cost").abs())
        )
    )
    if bad.height:
        first = bad.row(0, named=True)
        raise LedgerError(
            f"the cost components of {bad.height} exported rows do not add up to their total_cost (first: cluster "
            f"{first['cluster']}, kind {first['kind']}, total {first['total_cost']!r}); a cost column of allocations "
            "is missing from kubetally.query.focus_columns.COMPONENTS"
        )


def _path(*parts: pl.Expr) -> pl.Expr:
    """Parts joined with ``/``, skipping null parts."""
    return pl.concat_list(parts).list.drop_nulls().list.join("/")


def _kept(column: str, kept: bool) -> pl.Expr:
    """The value of a kept dimension (``__unallocated__`` when missing), or null when it is not kept."""
    return pl.col(column).fill_null(UNALLOCATED) if kept else pl.lit(None, dtype=pl.String)


def _identity(keys: frozenset[str]) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """ResourceId, ResourceType and ResourceName (which reads ResourceId) of each group."""
    kind = pl.col("kind")
    controller = None
    if "controller" in keys and "pod" not in keys:
        controller = pl.concat_str(
            [pl.col("controller_kind").fill_null(""), pl.lit(":"), pl.col("controller").fill_null("")]
        )
        controller = pl.when(pl.col("controller").is_null()).then(pl.lit(UNALLOCATED)).otherwise(controller)
    workload_parts = [
        pl.col("cluster"),
        _kept("node", "node" in keys),
        _kept("namespace", "namespace" in keys),
        controller if controller is not None else pl.lit(None, dtype=pl.String),
        _kept("pod", "pod" in keys),
        _kept("container", "container" in keys),
    ]
    workload_id = _path(*workload_parts)
    idle_id = _path(pl.col("cluster"), pl.col("node"), pl.lit(IDLE))
    namespace = pl.col("namespace") if "namespace" in keys else pl.lit(None, dtype=pl.String)
    unmounted_id = _path(pl.col("cluster"), namespace, pl.lit(UNMOUNTED))
    overhead_id = _path(pl.col("cluster"), pl.lit(CLUSTER_MANAGEMENT_NAME))
    resource_id = (
        pl.when(kind == AllocationKind.IDLE)
        .then(idle_id)
        .when(kind == AllocationKind.UNMOUNTED)
        .then(unmounted_id)
        .when(kind == AllocationKind.OVERHEAD)
        .then(overhead_id)
        .otherwise(workload_id)
    )
    finest = "Cluster"
    for key, name in (
        ("node", "Node"),
        ("namespace", "Namespace"),
        ("controller", "Controller"),
        ("pod", "Pod"),
        ("container", "Container"),
    ):
        if key in keys:
            finest = name
    resource_type = (
        pl.when(kind == AllocationKind.IDLE)
        .then(pl.lit("Node"))
        .when(kind == AllocationKind.UNMOUNTED)
        .then(pl.lit("Unmounted"))
        .when(kind == AllocationKind.OVERHEAD)
        .then(pl.lit("Cluster"))
        .otherwise(pl.lit(finest))
    )
    resource_name = (
        pl.when(kind == AllocationKind.IDLE)
        .then(pl.col("node"))
        .when(kind == AllocationKind.OVERHEAD)
        .then(pl.col("cluster"))
        .otherwise(pl.col("ResourceId").str.split("/").list.last())
    )
    return resource_id.alias("ResourceId"), resource_type.alias("ResourceType"), resource_name.alias("ResourceName")


def _component_rows(base: pl.DataFrame, component: Component) -> pl.DataFrame:
    """The rows of one component: the groups where its cost is not zero (nor negligible residue)."""
    node_priced = component.name in NODE_PRICED
    capacity = pl.when(pl.col("spot")).then(pl.lit("spot")).otherwise(pl.lit("on-demand"))
    sku_price_id = (
        pl.concat_str([pl.lit(component.sku_id + "/"), capacity]) if node_priced else pl.lit(component.sku_id)
    )
    details = (
        pl.concat_str([pl.lit('{"x_CapacityType": "'), capacity, pl.lit('"}')])
        if node_priced
        else pl.lit(None, dtype=pl.String)
    )
    pricing_category = pl.when(pl.col("spot")).then(pl.lit("Dynamic")).otherwise(pl.lit("Standard"))
    return base.filter(pl.col(f"cost_{component.name}").abs() > NEGLIGIBLE_COST).with_columns(
        cost=pl.col(f"cost_{component.name}"),
        quantity=pl.col(f"qty_{component.name}"),
        x_CostComponent=pl.lit(component.name),
        component_label=pl.lit(component.label),
        ConsumedUnit=pl.lit(component.unit),
        ServiceName=pl.lit(component.service_name),
        ServiceCategory=pl.lit(component.service_category),
        ServiceSubcategory=pl.lit(component.service_subcategory),
        SkuId=pl.lit(component.sku_id),
        SkuMeter=pl.lit(component.label),
        SkuPriceId=sku_price_id,
        SkuPriceDetails=details,
        pricing_category=pricing_category if node_priced else pl.lit("Standard"),
    )


def _description() -> pl.Expr:
    kind = pl.col("kind")
    label = pl.col("component_label")
    return (
        pl.when(kind == AllocationKind.IDLE)
        .then(
            pl.concat_str([pl.lit("Idle "), label, pl.lit(" of node "), pl.col("cluster"), pl.lit("/"), pl.col("node")])
        )
        .when(kind == AllocationKind.UNMOUNTED)
        .then(pl.concat_str([label, pl.lit(" used by no running pod: "), pl.col("ResourceId")]))
        .when(kind == AllocationKind.OVERHEAD)
        .then(pl.concat_str([label, pl.lit(" of cluster "), pl.col("cluster")]))
        .otherwise(
            pl.concat_str(
                [label, pl.lit(" of "), pl.col("ResourceType").str.to_lowercase(), pl.lit(" "), pl.col("ResourceId")]
            )
        )
    )


def empty_export() -> pl.DataFrame:
    """An export with no rows."""
    return pl.DataFrame(schema=EXPORT_SCHEMA)


def shape_focus(
    grouped: pl.DataFrame, window: Window, granularity: Granularity, keys: frozenset[str], currency: str
) -> pl.DataFrame:
    """FOCUS rows from the GROUP BY of :func:`kubetally.query.focus_sql.focus_group_sql`."""
    if grouped.height == 0:
        return empty_export()
    check_components(grouped)
    period = pl.col("period")
    start = pl.max_horizontal(period, pl.lit(window.start))
    end = pl.min_horizontal(period + _PERIODS[granularity], pl.lit(window.end))
    resource_id, resource_type, resource_name = _identity(keys)
    base = (
        grouped.with_columns(charge_start=start, charge_end=end, spot=pl.col("spot").fill_null(False))
        .with_columns(resource_id, resource_type)
        .with_columns(resource_name)
    )
    rows = pl.concat([_component_rows(base, component) for component in ALL_COMPONENTS], how="vertical")
    usage = (pl.col("quantity") > 0) & (pl.col("cost") > 0)
    unit_price = pl.when(usage).then(pl.col("cost") / pl.col("quantity"))
    quantity = pl.when(usage).then(pl.col("quantity"))
    month = pl.col("charge_start").dt.truncate("1mo")
    frame = rows.with_columns(
        AvailabilityZone=pl.col("zone"),
        BilledCost=pl.col("cost"),
        BillingAccountId=pl.lit(BILLING_ACCOUNT_ID),
        BillingAccountName=pl.lit(BILLING_ACCOUNT_NAME),
        BillingCurrency=pl.lit(currency),
        BillingPeriodEnd=month.dt.offset_by("1mo").dt.strftime(_DATE_TIME),
        BillingPeriodStart=month.dt.strftime(_DATE_TIME),
        ChargeCategory=pl.when(usage).then(pl.lit("Usage")).otherwise(pl.lit("Adjustment")),
        ChargeClass=pl.lit(None, dtype=pl.String),
        ChargeDescription=_description(),
        ChargeFrequency=pl.lit("Usage-Based"),
        ChargePeriodEnd=pl.col("charge_end").dt.strftime(_DATE_TIME),
        ChargePeriodStart=pl.col("charge_start").dt.strftime(_DATE_TIME),
        CommitmentDiscountStatus=pl.lit(None, dtype=pl.String),
        ConsumedQuantity=quantity,
        ConsumedUnit=pl.when(usage).then(pl.col("ConsumedUnit")),
        ContractedCost=pl.col("cost"),
        ContractedUnitPrice=unit_price,
        EffectiveCost=pl.col("cost"),
        InvoiceId=pl.lit(None, dtype=pl.String),
        InvoiceIssuerName=pl.lit(INVOICE_ISSUER_NAME),
        ListCost=pl.col("cost"),
        ListUnitPrice=unit_price,
        PricingCategory=pl.when(usage).then(pl.col("pricing_category")),
        PricingCurrency=pl.lit(currency),
        PricingCurrencyContractedUnitPrice=unit_price,
        PricingCurrencyEffectiveCost=pl.col("cost"),
        PricingCurrencyListUnitPrice=unit_price,
        PricingQuantity=quantity,
        PricingUnit=pl.when(usage).then(pl.col("ConsumedUnit")),
        ProviderName=pl.lit(PROVIDER_NAME),
        PublisherName=pl.lit(PUBLISHER_NAME),
        RegionId=pl.col("region"),
        RegionName=pl.col("region"),
        SubAccountId=pl.col("cluster"),
        SubAccountName=pl.col("cluster"),
        Tags=pl.col("tags"),
        x_Cluster=pl.col("cluster"),
        x_Node=pl.col("node"),
        x_Namespace=pl.col("namespace"),
        x_ControllerKind=pl.col("controller_kind"),
        x_Controller=pl.col("controller"),
        x_Pod=pl.col("pod"),
        x_Container=pl.col("container"),
        x_AllocationKind=pl.col("kind"),
        x_PriceSource=pl.col("price_source"),
    )
    order = [
        "ChargePeriodStart",
        "SubAccountId",
        "ResourceId",
        "x_CostComponent",
        "RegionId",
        "AvailabilityZone",
        "SkuPriceId",
    ]
    return frame.select(pl.col(name).cast(dtype) for name, dtype in EXPORT_SCHEMA.items()).sort(order, nulls_last=True)

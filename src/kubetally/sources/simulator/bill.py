"""The simulated cloud bill: what the provider would invoice for a simulation, as FOCUS 1.2 cost rows.

The bill is priced the way a cloud prices, not the way kubetally estimates: EC2 instances at their on-demand list
price (spot capacity at a spot price that moves from day to day), EBS volumes per GB-month, the EKS control plane
per cluster-hour, and a few services that are not Kubernetes at all (object storage, a managed database, a NAT
gateway) so that a bill never maps entirely onto clusters. One row per resource and UTC day (the charge period),
clipped to the simulation's window; ResourceIds are ARNs, as AWS writes them, so that matching them with node and
volume provider IDs is exercised.

It is a fixture for demos and tests of FOCUS ingestion and reconciliation; the numbers are list prices of
``us-east-1`` / ``eu-west-1`` in 2025, not a price source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from kubetally.sources.simulator.model import GIB, Simulation, Span, overlap

ON_DEMAND_HOURLY: dict[tuple[str, str], float] = {
    ("us-east-1", "m5.xlarge"): 0.192,
    ("us-east-1", "m5.2xlarge"): 0.384,
    ("us-east-1", "r5.2xlarge"): 0.504,
    ("us-east-1", "c5.2xlarge"): 0.34,
    ("us-east-1", "g5.12xlarge"): 5.672,
    ("eu-west-1", "m5.xlarge"): 0.214,
    ("eu-west-1", "m5.2xlarge"): 0.428,
    ("eu-west-1", "r5.2xlarge"): 0.564,
    ("eu-west-1", "c5.2xlarge"): 0.384,
    ("eu-west-1", "g5.12xlarge"): 6.324,
}
"""On-demand Linux list prices, $ per instance-hour."""

FALLBACK_VCPU_HOURLY = 0.048
"""$ per vCPU-hour for an instance type missing from :data:`ON_DEMAND_HOURLY` (the m5 family's rate)."""

EBS_GB_MONTH: dict[str, float] = {"gp2": 0.10, "gp3": 0.08, "io1": 0.125, "io2": 0.125, "st1": 0.045, "sc1": 0.015}
"""EBS storage, $ per GB-month (a month is 730 hours)."""

EKS_CLUSTER_HOURLY = 0.10
HOURS_PER_MONTH = 730.0
SPOT_SHARE = (0.30, 0.42)
"""A spot day costs this share of the on-demand price, drawn uniformly per instance and day."""

ACCOUNT = "210987654321"
ACCOUNT_NAME = "kubetally-demo-payer"


@dataclass(frozen=True)
class _Charge:
    """One resource of the bill and its hourly cost while it exists."""

    service: str
    category: str
    subcategory: str
    resource_id: str
    resource_name: str
    resource_type: str
    region: str
    zone: str | None
    sku: str
    unit: str
    unit_price: float
    """Price per ``unit``; the row's quantity is ``hours * quantity_per_hour``."""
    quantity_per_hour: float
    spans: tuple[Span, ...]
    spot: bool
    tags: dict[str, str]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(value: datetime) -> tuple[datetime, datetime]:
    start = value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _node_charges(sim: Simulation) -> list[_Charge]:
    charges = []
    for node in sim.nodes:
        region = sim.regions.get(node.cluster, node.region) or node.region
        hourly = ON_DEMAND_HOURLY.get((region, node.instance_type), FALLBACK_VCPU_HOURLY * node.cpu_cores)
        instance = node.provider_id.rsplit("/", 1)[-1]
        charges.append(
            _Charge(
                service="Amazon Elastic Compute Cloud",
                category="Compute",
                subcategory="Virtual Machines",
                resource_id=f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance}",
                resource_name=node.name,
                resource_type="Instance",
                region=region,
                zone=node.zone or None,
                sku=f"BoxUsage:{node.instance_type}"
                if node.capacity_type != "spot"
                else f"SpotUsage:{node.instance_type}",
                unit="Hours",
                unit_price=hourly,
                quantity_per_hour=1.0,
                spans=tuple(node.spans),
                spot=node.capacity_type == "spot",
                tags={"eks:cluster-name": node.cluster, "kubernetes.io/hostname": node.name},
            )
        )
    return charges


def _volume_charges(sim: Simulation) -> list[_Charge]:
    charges = []
    for volume in sim.volumes:
        region = sim.regions.get(volume.cluster, "us-east-1")
        gb = volume.capacity_bytes / GIB
        price = EBS_GB_MONTH.get(volume.storage_class, EBS_GB_MONTH["gp3"])
        charges.append(
            _Charge(
                service="Amazon Elastic Block Store",
                category="Storage",
                subcategory="Block Storage",
                resource_id=f"arn:aws:ec2:{region}:{ACCOUNT}:volume/{volume.provider_id}",
                resource_name=volume.name,
                resource_type="Volume",
                region=region,
                zone=None,
                sku=f"EBS:VolumeUsage.{volume.storage_class}",
                unit="GB-Hours",
                unit_price=price / HOURS_PER_MONTH,
                quantity_per_hour=gb,
                spans=(volume.span,),
                spot=False,
                tags={"eks:cluster-name": volume.cluster, "kubernetes.io/created-for/pv/name": volume.name},
            )
        )
    return charges


def _other_charges(sim: Simulation) -> list[_Charge]:
    window: tuple[Span, ...] = ((0, sim.hours * 3600),)
    charges = []
    for cluster, region in sorted(sim.regions.items()):
        charges.append(
            _Charge(
                "Amazon Elastic Kubernetes Service", "Compute", "Containers",
                f"arn:aws:eks:{region}:{ACCOUNT}:cluster/{cluster}", cluster, "Cluster", region, None,
                "AmazonEKS-Hours:perCluster", "Hours", EKS_CLUSTER_HOURLY, 1.0, window, False,
                {"eks:cluster-name": cluster},
            )
        )  # fmt: skip
    region = next(iter(sorted(sim.regions.values())), "us-east-1")
    charges += [
        _Charge(
            "Amazon Simple Storage Service", "Storage", "Object Storage",
            f"arn:aws:s3:::{ACCOUNT_NAME}-backups", f"{ACCOUNT_NAME}-backups", "Bucket", region, None,
            "TimedStorage-ByteHrs", "GB-Hours", 0.023 / HOURS_PER_MONTH, 4200.0, window, False, {"team": "platform"},
        ),
        _Charge(
            "Amazon Relational Database Service", "Databases", "Relational Databases",
            f"arn:aws:rds:{region}:{ACCOUNT}:db:orders", "orders", "DB Instance", region, f"{region}a",
            "InstanceUsage:db.r6g.large", "Hours", 0.225, 1.0, window, False, {"team": "payments"},
        ),
        _Charge(
            "Amazon Virtual Private Cloud", "Networking", "Network Connectivity",
            f"arn:aws:ec2:{region}:{ACCOUNT}:natgateway/nat-0a1b2c3d4e5f60718", "nat-egress", "NAT Gateway", region,
            f"{region}a", "NatGateway-Hours", "Hours", 0.045, 1.0, window, False, {"team": "platform"},
        ),
    ]  # fmt: skip
    return charges


def simulated_bill(sim: Simulation) -> pl.DataFrame:
    """The simulation's cloud bill: FOCUS 1.2 columns (all strings, as a CSV export holds them), one row per
    resource and UTC day it existed in; spot prices are drawn from the simulation's seed."""
    rng = np.random.default_rng(sim.seed + 7919)
    first_day = sim.start.replace(hour=0, minute=0, second=0, microsecond=0)
    end = sim.start + timedelta(hours=sim.hours)
    days = []
    day = first_day
    while day < end:
        days.append(day)
        day += timedelta(days=1)
    rows: list[dict[str, Any]] = []
    for charge in _node_charges(sim) + _volume_charges(sim) + _other_charges(sim):
        spot_shares = rng.uniform(*SPOT_SHARE, size=len(days))
        for index, day in enumerate(days):
            lo = max(0, int((day - sim.start).total_seconds()))
            hi = min(sim.hours * 3600, int((day + timedelta(days=1) - sim.start).total_seconds()))
            seconds = overlap(list(charge.spans), lo, hi) if hi > lo else 0
            if seconds <= 0:
                continue
            rows.append(_row(charge, day, seconds / 3600.0, float(spot_shares[index]) if charge.spot else 1.0))
    return pl.DataFrame(rows, schema=dict.fromkeys(_COLUMNS, pl.String), orient="row")


_COLUMNS = (
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodStart",
    "BillingPeriodEnd", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodStart",
    "ChargePeriodEnd", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost",
    "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit",
    "ProviderName", "PublisherName", "RegionId", "AvailabilityZone", "ResourceId", "ResourceName", "ResourceType",
    "ServiceCategory", "ServiceSubcategory", "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName",
    "Tags",
)  # fmt: skip


def _row(charge: _Charge, day: datetime, hours: float, price_share: float) -> dict[str, Any]:
    billing_start, billing_end = _month(day)
    quantity = hours * charge.quantity_per_hour
    list_cost = quantity * charge.unit_price
    cost = list_cost * price_share
    values = {
        "BilledCost": cost,
        "BillingAccountId": ACCOUNT,
        "BillingAccountName": ACCOUNT_NAME,
        "BillingCurrency": "USD",
        "BillingPeriodStart": _iso(billing_start),
        "BillingPeriodEnd": _iso(billing_end),
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": f"{charge.sku} in {charge.region}",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodStart": _iso(day),
        "ChargePeriodEnd": _iso(day + timedelta(days=1)),
        "ConsumedQuantity": quantity,
        "ConsumedUnit": charge.unit,
        "ContractedCost": cost,
        "ContractedUnitPrice": charge.unit_price * price_share,
        "EffectiveCost": cost,
        "InvoiceIssuerName": "Amazon Web Services, Inc.",
        "ListCost": list_cost,
        "ListUnitPrice": charge.unit_price,
        "PricingCategory": "Dynamic" if charge.spot else "Standard",
        "PricingQuantity": quantity,
        "PricingUnit": charge.unit,
        "ProviderName": "AWS",
        "PublisherName": "AWS",
        "RegionId": charge.region,
        "AvailabilityZone": charge.zone,
        "ResourceId": charge.resource_id,
        "ResourceName": charge.resource_name,
        "ResourceType": charge.resource_type,
        "ServiceCategory": charge.category,
        "ServiceSubcategory": charge.subcategory,
        "ServiceName": charge.service,
        "SkuId": charge.sku,
        "SkuPriceId": f"{charge.sku}:{charge.region}",
        "SubAccountId": ACCOUNT,
        "SubAccountName": ACCOUNT_NAME,
        "Tags": json.dumps(charge.tags, sort_keys=True),
    }
    return {key: value if value is None or isinstance(value, str) else f"{value:.10f}" for key, value in values.items()}


__all__ = ["ON_DEMAND_HOURLY", "simulated_bill"]

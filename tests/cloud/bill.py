"""A small FOCUS bill for the ``small`` scenario's three hours, and the oracle helpers the cloud tests share.

Two of the billed resources are the scenario's nodes (written as EC2 ARNs, upper-case) and one is a disk (its
bare volume ID): those rows are Kubernetes costs. The others (a database, a bucket, support) are not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from kubetally.ledger.schema import CLOUD_COSTS

START = datetime(2026, 1, 1, tzinfo=UTC)
HOURS = 3

K8S_RESOURCES = {
    "node-a": "arn:aws:ec2:us-east-1:111111111111:instance/{node-a}",
    "node-b": "arn:aws:ec2:us-east-1:222222222222:instance/{node-b}",
    "pv-db": "{pv-db}",
}
"""Bill ResourceId templates of the ledger's assets (``{asset}`` is replaced by the asset's provider ID key)."""

# (ResourceId, ResourceName, service, category, billing account, sub-account, region, zone, tags, list, billed,
#  effective) per hour; the costs are multiplied by (1 + hour) so that the sets differ.
RESOURCES: tuple[
    tuple[str | None, str, str, str, str, str | None, str, str | None, dict[str, str], float, float, float], ...
] = (
    (
        "node-a",
        "node-a",
        "Amazon EC2",
        "Compute",
        "payer-1",
        "111111111111",
        "us-east-1",
        "us-east-1a",
        {"team": "platform", "env": "prod"},
        0.20,
        0.15,
        0.12,
    ),
    (
        "node-b",
        "node-b",
        "Amazon EC2",
        "Compute",
        "payer-1",
        "222222222222",
        "us-east-1",
        "us-east-1b",
        {"team": "platform"},
        0.20,
        0.15,
        0.14,
    ),
    (
        "pv-db",
        "pv-db",
        "Amazon EBS",
        "Storage",
        "payer-1",
        "222222222222",
        "us-east-1",
        "us-east-1a",
        {"team": "data"},
        0.05,
        0.05,
        0.05,
    ),
    (
        "db-1",
        "orders-db",
        "Amazon RDS",
        "Databases",
        "payer-1",
        "222222222222",
        "us-east-1",
        "us-east-1b",
        {"team": "data", "env": "prod"},
        0.50,
        0.40,
        0.30,
    ),
    ("bucket-logs", "logs", "Amazon S3", "Storage", "payer-1", None, "us-east-1", None, {}, 0.03, 0.03, 0.03),
    (
        None,
        "support",
        "AWS Support",
        "Management and Governance",
        "payer-2",
        None,
        "global",
        None,
        {"env": "prod"},
        1.00,
        1.00,
        0.90,
    ),
)


def bill(
    provider_keys: dict[str, str],
    *,
    source: str = "bill.csv",
    start: datetime = START,
    periods: int = HOURS,
    period: timedelta = timedelta(hours=1),
) -> pl.DataFrame:
    """The bill as a ``cloud_costs`` frame, one row per resource and charge period (``periods`` of ``period`` from
    ``start``); ``provider_keys`` maps ``node-a``, ``node-b`` and ``pv-db`` to their assets' provider ID keys."""
    rows = []
    for hour in range(periods):
        charge_start = start + hour * period
        for resource, name, service, category, payer, sub, region, zone, tags, listed, billed, effective in RESOURCES:
            resource_id = resource
            if resource in K8S_RESOURCES:
                resource_id = K8S_RESOURCES[resource].format(
                    **{key: value.upper() for key, value in provider_keys.items()}
                )
            factor = 1 + hour
            rows.append(
                {
                    "BillingAccountId": payer,
                    "BillingAccountName": f"{payer} name",
                    "SubAccountId": sub,
                    "SubAccountName": None if sub is None else f"account {sub}",
                    "BillingPeriodStart": charge_start.replace(day=1, hour=0),
                    "BillingPeriodEnd": charge_start.replace(day=1, hour=0) + timedelta(days=31),
                    "ChargePeriodStart": charge_start,
                    "ChargePeriodEnd": charge_start + period,
                    "ChargeCategory": "Usage",
                    "ChargeDescription": f"{service} usage",
                    "ProviderName": "AWS",
                    "PublisherName": "AWS",
                    "InvoiceIssuerName": "AWS",
                    "RegionId": region,
                    "AvailabilityZone": zone,
                    "ResourceId": resource_id,
                    "ResourceName": name,
                    "ResourceType": category,
                    "ServiceCategory": category,
                    "ServiceName": service,
                    "SkuId": f"sku-{name}",
                    "SkuPriceId": f"price-{name}",
                    "PricingUnit": "Hours",
                    "PricingQuantity": 1.0,
                    "ConsumedUnit": "Hours",
                    "ConsumedQuantity": 1.0,
                    "ListUnitPrice": listed * factor,
                    "ListCost": listed * factor,
                    "ContractedCost": billed * factor,
                    "EffectiveCost": effective * factor,
                    "BilledCost": billed * factor,
                    "BillingCurrency": "USD",
                    "Tags": [{"key": k, "value": v} for k, v in tags.items()],
                    "source": source,
                    "kubernetes": resource in K8S_RESOURCES,
                }
            )
    return pl.DataFrame(rows, schema={**CLOUD_COSTS, "kubernetes": pl.Boolean()})


def ledger_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The bill without the oracle's ``kubernetes`` column: what is written to the ledger."""
    return frame.select(list(CLOUD_COSTS))

"""R9: egress cost per pod and bucket by class, split among the pod's containers; Network assets."""

from __future__ import annotations

import polars as pl

from kubetally.domain.pricing import GIB
from kubetally.engine.spread import over_containers
from kubetally.history import ClusterHistory

CLASS_COSTS = {
    "zone": "network_cross_zone_cost",
    "region": "network_cross_region_cost",
    "internet": "network_internet_cost",
}
"""Egress class -> its ALLOCATIONS cost column (unclassified egress has none of its own)."""

NETWORK_VALUES = [
    "network_transfer_bytes",
    "network_receive_bytes",
    *CLASS_COSTS.values(),
    "network_cost",
]


def network(history: ClusterHistory, cluster_prices: pl.DataFrame) -> pl.LazyFrame:
    """Per container and bucket: egress and receive bytes and network costs (R9).

    Only egress rows with any bytes count; a pod's values are split evenly among its spec containers.
    """
    classes = [*CLASS_COSTS, "unclassified"]
    priced = {c: pl.col(f"{c}_bytes") / GIB * pl.col(f"{c}_egress_price_per_gib").fill_null(0.0) for c in classes}
    pods = (
        history.egress.lazy()
        .filter(pl.sum_horizontal(*[f"{c}_bytes" for c in classes], "receive_bytes") > 0)
        .join(cluster_prices.lazy(), on="cluster", how="left")
        .select(
            "cluster",
            "pod_uid",
            "hour",
            pl.sum_horizontal(*[f"{c}_bytes" for c in classes]).alias("network_transfer_bytes"),
            pl.col("receive_bytes").alias("network_receive_bytes"),
            *[priced[c].alias(column) for c, column in CLASS_COSTS.items()],
            pl.sum_horizontal(*priced.values()).alias("network_cost"),
        )
    )
    return over_containers(pods, history.containers, NETWORK_VALUES)


def network_assets(shares: pl.LazyFrame) -> pl.LazyFrame:
    """One Network asset per cluster and bucket with egress: the bucket's total network cost."""
    return (
        shares.group_by("cluster", "hour")
        .agg(pl.col("network_cost").sum().alias("total_cost"), pl.col("network_transfer_bytes").sum())
        .filter(pl.col("network_transfer_bytes") > 0)
        .drop("network_transfer_bytes")
    )

"""R9: egress cost per pod and bucket by class, split among the pod's containers; Network assets."""

from __future__ import annotations

import polars as pl

from kubetally.domain.pricing import GIB
from kubetally.engine.ids import Keys
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


def pod_network(history: ClusterHistory, cluster_prices: pl.DataFrame) -> pl.LazyFrame:
    """Per pod and bucket (one row each): egress and receive bytes and network costs by class (R9).

    Only egress rows with any bytes count; several rows of one pod and bucket are summed.
    """
    classes = [*CLASS_COSTS, "unclassified"]
    priced = {c: pl.col(f"{c}_bytes") / GIB * pl.col(f"{c}_egress_price_per_gib").fill_null(0.0) for c in classes}
    volumes = [f"{c}_bytes" for c in classes] + ["receive_bytes"]
    return (
        history.egress.lazy()
        .filter(pl.sum_horizontal(volumes) > 0)
        .group_by("cluster", "pod_uid", "hour", maintain_order=True)
        .agg(pl.col(volumes).sum())
        .join(cluster_prices.lazy(), on="cluster", how="left", maintain_order="left")
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


def container_network(pods: pl.LazyFrame, keys: Keys) -> pl.LazyFrame:
    """:func:`pod_network` split evenly among each pod's spec containers, per ``cid`` and bucket."""
    return over_containers(pods, keys, NETWORK_VALUES).drop("cluster", "pod_uid")


def network_totals(pods: pl.LazyFrame) -> pl.LazyFrame:
    """Per cluster and bucket with egress: total network cost and egress bytes (the Network asset)."""
    return (
        pods.group_by("cluster", "hour", maintain_order=True)
        .agg(pl.col("network_cost").sum().alias("total_cost"), pl.col("network_transfer_bytes").sum())
        .filter(pl.col("network_transfer_bytes") > 0)
    )

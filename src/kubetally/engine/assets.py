"""Asset rows: Node (R4), Disk (R7), LoadBalancer (R8), Network (R9) and ClusterManagement (R10)."""

from __future__ import annotations

from datetime import datetime

import polars as pl

from kubetally.costs import ASSETS
from kubetally.engine.resources import QUANTITY_HOURS, RESOURCES
from kubetally.engine.rows import conform
from kubetally.history import STRING_MAP, TIME

SERVICE = "Kubernetes"
"""The ``service`` of every asset (OpenCost's name for the platform that bills it)."""
DEFAULT_SOURCE = "default"
"""``price_source`` of Network and ClusterManagement assets, priced from cluster-wide settings."""


def node_assets(nodes: pl.LazyFrame) -> pl.LazyFrame:
    """Node assets from the per-node-and-bucket frame of :func:`kubetally.engine.nodes.node_hours`."""
    return nodes.select(
        "cluster",
        "hour",
        pl.lit("Node").alias("type"),
        pl.col("node").alias("name"),
        "provider_id",
        pl.lit("Compute").alias("category"),
        "labels",
        (pl.col("node_hours") * 60.0).alias("minutes"),
        pl.col("instance_type").alias("node_type"),
        "region",
        "zone",
        "preemptible",
        "discount",
        "cpu_cores",
        "ram_bytes",
        "gpu_count",
        *QUANTITY_HOURS.values(),
        *[f"{res}_cost" for res in RESOURCES],
        pl.sum_horizontal(*[f"{res}_cost" for res in RESOURCES]).alias("total_cost"),
        "price_source",
    )


def disk_assets(disks: pl.LazyFrame) -> pl.LazyFrame:
    """Disk assets from :class:`kubetally.engine.storage.Storage` ``assets``."""
    return disks.select(
        "cluster",
        "hour",
        pl.lit("Disk").alias("type"),
        pl.col("pv").alias("name"),
        "provider_id",
        pl.lit("Storage").alias("category"),
        "minutes",
        "bytes",
        "byte_hours",
        "storage_class",
        "claim",
        "claim_namespace",
        "total_cost",
        "price_source",
    )


def load_balancer_assets(balancers: pl.LazyFrame) -> pl.LazyFrame:
    """LoadBalancer assets (named ``namespace/service``) from :class:`kubetally.engine.balancers.Balancers`."""
    return balancers.select(
        "cluster",
        "hour",
        pl.lit("LoadBalancer").alias("type"),
        pl.concat_str("namespace", pl.lit("/"), "service").alias("name"),
        pl.lit("Network").alias("category"),
        "namespace",
        "minutes",
        "ip",
        "private",
        "total_cost",
        "price_source",
    )


def network_assets(network: pl.LazyFrame) -> pl.LazyFrame:
    """Network assets (named after the cluster; ``bytes`` = egress bytes) from per-cluster-and-bucket totals."""
    return network.select(
        "cluster",
        "hour",
        pl.lit("Network").alias("type"),
        pl.col("cluster").alias("name"),
        pl.lit("Network").alias("category"),
        pl.lit(60.0).alias("minutes"),
        *[pl.lit(0.0).alias(f"{res}_cost") for res in RESOURCES],
        pl.col("network_transfer_bytes").alias("bytes"),
        "total_cost",
        pl.lit(DEFAULT_SOURCE).alias("price_source"),
    )


def management_assets(start: datetime, end: datetime, cluster_prices: pl.DataFrame) -> pl.LazyFrame:
    """R10: one ClusterManagement asset per cluster and bucket of ``[start, end)`` when its fee is above 0."""
    hours = pl.LazyFrame({"hour": pl.datetime_range(start, end, "1h", closed="left", eager=True).cast(TIME)})
    fees = cluster_prices.lazy().filter(pl.col("management_price_per_hour") > 0)
    return fees.join(hours, how="cross").select(
        "cluster",
        "hour",
        pl.lit("ClusterManagement").alias("type"),
        pl.col("cluster").alias("name"),
        pl.lit("Management").alias("category"),
        pl.lit(60.0).alias("minutes"),
        pl.col("management_price_per_hour").alias("total_cost"),
        pl.lit(DEFAULT_SOURCE).alias("price_source"),
    )


def asset_rows(parts: list[pl.LazyFrame]) -> pl.LazyFrame:
    """All asset parts in the ASSETS schema: ``adjustment`` 0, ``service`` Kubernetes, ``labels`` empty unless set."""
    return pl.concat([conform(part, ASSETS, missing_float=None) for part in parts]).with_columns(
        pl.lit(0.0).alias("adjustment"),
        pl.lit(SERVICE).alias("service"),
        pl.col("labels").fill_null(pl.lit([], dtype=STRING_MAP)),
    )

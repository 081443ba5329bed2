"""R4–R6: node assets per bucket, the over-commit adjustment and idle per node and bucket."""

from __future__ import annotations

import polars as pl

from kubetally.domain.hours import explode_hours
from kubetally.engine.ids import Keys
from kubetally.engine.resources import ADJUSTMENTS, COSTS, PRICE, PRICE_UNIT, QUANTITY_HOURS, RESOURCES
from kubetally.engine.timeline import SECONDS_PER_HOUR
from kubetally.history import TIME, ClusterHistory

NODE_KEY = ["nid", "hour"]
CAPACITY = {"cpu": "cpu_cores", "ram": "ram_bytes", "gpu": "gpu_count"}
ATTRIBUTES = ["provider_id", "instance_type", "region", "zone", "labels", "cpu_cores", "ram_bytes", "gpu_count"]
PRICE_ATTRIBUTES = ["cluster", "node", "preemptible", "discount", "price_source", *PRICE.values()]


def node_hours(history: ClusterHistory, keys: Keys) -> pl.LazyFrame:
    """R4: per node and bucket with existence, ``node_hours``, the first and last instant of that existence
    (``running_start``/``running_end``), capacity-hours, unit prices and resource costs.

    Capacity-hours are Σ capacity x overlap over the node's existence intervals (capacity x ``node_hours`` when
    the node's size does not change); attributes are those of the latest interval in the bucket.
    """
    hours = pl.col("seconds") / SECONDS_PER_HOUR
    capacity_hours = [(pl.col(CAPACITY[res]) * hours).sum().alias(QUANTITY_HOURS[res]) for res in RESOURCES]
    nids = keys.nodes.lazy().select("nid", "cluster", "node")
    return (
        explode_hours(history.nodes.lazy().join(nids, on=["cluster", "node"], how="inner"))
        .sort([*NODE_KEY, "lo_us"])
        .group_by(NODE_KEY)
        .agg(
            hours.sum().alias("node_hours"),
            pl.col("lo_us").min().cast(TIME).alias("running_start"),
            pl.col("hi_us").max().cast(TIME).alias("running_end"),
            *capacity_hours,
            *[pl.col(a).last() for a in ATTRIBUTES],
        )
        .filter(pl.col("node_hours") > 0)
        .join(keys.nodes.lazy().select("nid", *PRICE_ATTRIBUTES), on="nid", how="left", maintain_order="left")
        .with_columns(
            (pl.col(QUANTITY_HOURS[res]) / PRICE_UNIT[res] * pl.col(PRICE[res])).alias(f"{res}_cost")
            for res in RESOURCES
        )
    )


def adjust_overcommit(rows: pl.LazyFrame, nodes: pl.LazyFrame) -> pl.LazyFrame:
    """R5: add ``*_cost_adjustment`` = cost x (C/A − 1) where a node's charged quantity A exceeds capacity C.

    A node absent in a bucket has capacity 0 there, so rows on it are charged nothing.
    """
    charged = rows.group_by(NODE_KEY).agg(pl.col(QUANTITY_HOURS[res]).sum().alias(f"__a_{res}") for res in RESOURCES)
    capacity = nodes.select(*NODE_KEY, *[pl.col(QUANTITY_HOURS[res]).alias(f"__c_{res}") for res in RESOURCES])
    factors = (
        charged.join(capacity, on=NODE_KEY, how="left", maintain_order="left")
        .with_columns(pl.col(f"__c_{res}").fill_null(0.0) for res in RESOURCES)
        .select(
            *NODE_KEY,
            *[
                pl.when(pl.col(f"__a_{res}") > pl.col(f"__c_{res}"))
                .then(pl.col(f"__c_{res}") / pl.col(f"__a_{res}") - 1.0)
                .otherwise(0.0)
                .alias(f"__f_{res}")
                for res in RESOURCES
            ],
        )
    )
    return (
        rows.join(factors, on=NODE_KEY, how="left", maintain_order="left")
        .with_columns(
            (pl.col(f"{res}_cost") * pl.col(f"__f_{res}")).alias(f"{res}_cost_adjustment") for res in RESOURCES
        )
        .drop(f"__f_{res}" for res in RESOURCES)
    )


def idle_rows(rows: pl.LazyFrame, nodes: pl.LazyFrame) -> pl.LazyFrame:
    """R6: one row per node and bucket: node resource cost minus what workloads were charged, at least 0.

    Idle quantity-hours are the capacity-hours no workload was billed for, also at least 0.
    """
    charged = rows.group_by(NODE_KEY).agg(
        *[(pl.col(cost) + pl.col(adj)).sum().alias(f"__{cost}") for cost, adj in zip(COSTS, ADJUSTMENTS, strict=True)],
        *[pl.col(QUANTITY_HOURS[res]).sum().alias(f"__qty_{res}") for res in RESOURCES],
    )
    used = [f"__{cost}" for cost in COSTS] + [f"__qty_{res}" for res in RESOURCES]
    return (
        nodes.join(charged, on=NODE_KEY, how="left", maintain_order="left")
        .with_columns(pl.col(used).fill_null(0.0))
        .select(
            "cluster",
            "hour",
            "node",
            (pl.col("node_hours") * 60.0).alias("running_minutes"),
            "running_start",
            "running_end",
            *[
                (pl.col(QUANTITY_HOURS[res]) - pl.col(f"__qty_{res}")).clip(lower_bound=0.0).alias(QUANTITY_HOURS[res])
                for res in RESOURCES
            ],
            *[(pl.col(cost) - pl.col(f"__{cost}")).clip(lower_bound=0.0).alias(cost) for cost in COSTS],
            "price_source",
        )
    )

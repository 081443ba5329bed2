"""R11: assembling allocation rows (workload, unmounted, idle) and the pod dimension table."""

from __future__ import annotations

import polars as pl

from kubetally.costs import ALLOCATIONS, POD_DIMENSIONS
from kubetally.domain.hours import HOUR_US
from kubetally.engine.ids import Keys
from kubetally.engine.resources import RESOURCES
from kubetally.history import STRING_MAP, TIME, ClusterHistory

WORKLOAD_KEY = ["cid", "hour"]
UNMOUNTED = "__unmounted__"
COST_PARTS = [
    *[f"{res}_cost" for res in RESOURCES],
    *[f"{res}_cost_adjustment" for res in RESOURCES],
    "pv_cost",
    "network_cost",
    "load_balancer_cost",
    *[f"{res}_bill_adjustment" for res in (*RESOURCES, "pv")],
]
"""The columns whose sum is a row's ``total_cost`` (bill adjustments are 0 here: only a reconciled bill sets them)."""


def conform(frame: pl.LazyFrame, schema: pl.Schema, missing_float: float | None = 0.0) -> pl.LazyFrame:
    """``frame`` with exactly the columns of ``schema``; missing float columns are ``missing_float``, others null."""
    names = set(frame.collect_schema().names())
    columns = []
    for column, dtype in schema.items():
        if column in names:
            columns.append(pl.col(column).cast(dtype))
        elif dtype == pl.Float64:
            columns.append(pl.lit(missing_float, dtype=pl.Float64).alias(column))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(column))
    return frame.select(columns)


def with_total(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Fill missing cost parts with 0 and set ``total_cost`` to their sum."""
    return (
        conform(frame, ALLOCATIONS)
        .with_columns(pl.col(pl.Float64).fill_null(0.0))
        .with_columns(pl.sum_horizontal(COST_PARTS).alias("total_cost"))
    )


def workload_rows(keys: Keys, unique_parts: list[pl.LazyFrame], parts: list[pl.LazyFrame]) -> pl.LazyFrame:
    """One workload row per container and bucket that has compute, storage, load balancer or network cost.

    Every part holds :data:`WORKLOAD_KEY` and its own value columns. ``unique_parts`` have at most one row per
    key; ``parts`` may have several, which are summed first. The parts are then full-joined on one integer key
    (cheaper than summing their union), and the container's name, pod, namespace, node and the node's
    ``price_source`` are added. Rows are in ``cid`` and ``hour`` order.
    """
    dimensions = keys.containers.lazy().select(
        "cid", "cluster", "pod_uid", "container", "namespace", "pod", "node", "price_source"
    )
    keyed = [part.with_columns(row_key()).drop(WORKLOAD_KEY) for part in unique_parts]
    for part in parts:
        values = [c for c in part.collect_schema().names() if c not in WORKLOAD_KEY]
        keyed.append(part.with_columns(row_key()).group_by("__key").agg(pl.col(values).sum()))
    combined = keyed[0]
    for part in keyed[1:]:
        combined = combined.join(part, on="__key", how="full", coalesce=True)
    return with_total(
        combined.sort("__key")
        .with_columns(
            (pl.col("__key") // HOURS_SPAN).alias("cid"),
            ((pl.col("__key") % HOURS_SPAN) * HOUR_US).cast(TIME).alias("hour"),
        )
        .join(dimensions, on="cid", how="left", maintain_order="left")
        .with_columns(pl.lit("workload").alias("kind"))
    )


HOURS_SPAN = 1 << 22
"""Hour indexes (hours since 1970) stay below this until the year 2448, so ``cid`` x span + hour is unique."""


def row_key() -> pl.Expr:
    """One int64 per (``cid``, ``hour``): ``cid`` x :data:`HOURS_SPAN` + hours since the epoch."""
    return (pl.col("cid") * HOURS_SPAN + pl.col("hour").dt.epoch("us") // HOUR_US).alias("__key")


def unmounted_rows(parts: list[pl.LazyFrame]) -> pl.LazyFrame:
    """One unmounted row per cluster, bucket and namespace that received storage or load balancer cost.

    ``price_source`` is that of the volumes or load balancers priced in the row (the first in sort order when
    several sources meet in one row).
    """
    combined = pl.concat(parts, how="diagonal_relaxed")
    values = [c for c in combined.collect_schema().names() if c not in ("cluster", "hour", "namespace", "price_source")]
    return with_total(
        combined.group_by("cluster", "hour", "namespace")
        .agg(pl.col(values).sum(), pl.col("price_source").drop_nulls().sort().first())
        .sort("cluster", "hour", "namespace")
        .with_columns(
            pl.lit("unmounted").alias("kind"),
            pl.lit(UNMOUNTED).alias("pod"),
            pl.lit(UNMOUNTED).alias("container"),
        )
    )


def idle_allocations(idle: pl.LazyFrame) -> pl.LazyFrame:
    """Idle rows in the ALLOCATIONS schema."""
    return with_total(idle.sort("cluster", "hour", "node").with_columns(pl.lit("idle").alias("kind")))


def pod_dimensions(history: ClusterHistory) -> pl.LazyFrame:
    """One row per pod: its properties, node provider ID, selecting services and namespace labels."""
    empty_map = pl.lit([], dtype=STRING_MAP)
    providers = (
        history.nodes.lazy()
        .sort("cluster", "node", "start")
        .group_by("cluster", "node")
        .agg(pl.col("provider_id").drop_nulls().last())
    )
    services = (
        history.service_pods.lazy()
        .group_by("cluster", "pod_uid")
        .agg(pl.col("service").unique().sort().alias("services"))
    )
    namespaces = (
        history.namespaces.lazy()
        .unique(["cluster", "namespace"], keep="last")
        .select(
            "cluster",
            "namespace",
            pl.col("labels").alias("namespace_labels"),
            pl.col("annotations").alias("namespace_annotations"),
        )
    )
    return conform(
        history.pods.lazy()
        .join(providers, on=["cluster", "node"], how="left", maintain_order="left")
        .join(services, on=["cluster", "pod_uid"], how="left", maintain_order="left")
        .join(namespaces, on=["cluster", "namespace"], how="left", maintain_order="left")
        .with_columns(
            pl.col("services").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("namespace_labels").fill_null(empty_map),
            pl.col("namespace_annotations").fill_null(empty_map),
        ),
        POD_DIMENSIONS,
    )

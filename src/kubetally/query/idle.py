"""Idle cost on the grouped frame: hidden, kept as ``__idle__`` rows, or shared onto the allocations.

The frame has one row per (set, kind, cluster, node scope, shared, in_filter, name). Idle rows carry the idle
cost of their scope (a cluster, or a node with ``idleByNode``) in ``cpu_cost``, ``ram_cost`` and ``gpu_cost``.
Sharing gives each receiving row of the scope a part of each resource's idle, recorded in ``*_cost_idle``;
idle that has no receiver in its scope (no allocation with a weight there) stays an ``__idle__`` row, so that
no cost is lost.
"""

from __future__ import annotations

import polars as pl

from kubetally.domain.names import IDLE, SEPARATOR
from kubetally.query.params import IdleMode, ShareSplit, SplitMethod

RESOURCES = ("cpu", "ram", "gpu")
RESOURCE_HOURS = {"cpu": "cpu_core_hours", "ram": "ram_byte_hours", "gpu": "gpu_hours"}
REQUEST_MINUTES = {"cpu": "cpu_request_minutes", "ram": "ram_request_minutes", "gpu": "gpu_request_minutes"}
"""The request weight of each resource under ``request`` split: Σ request average x running minutes."""
SCOPE = ("set_idx", "cluster", "node")
IS_IDLE = pl.col("kind") == "idle"


def idle_names(frame: pl.DataFrame, split: bool, by_node: bool) -> pl.DataFrame:
    """Name idle rows ``__idle__``, ``<cluster>/__idle__`` or ``<cluster>/<node>/__idle__``."""
    if not split:
        name = pl.lit(IDLE)
    elif by_node:
        name = pl.concat_str([pl.col("cluster"), pl.col("node"), pl.lit(IDLE)], separator=SEPARATOR)
    else:
        name = pl.concat_str([pl.col("cluster"), pl.lit(IDLE)], separator=SEPARATOR)
    return frame.with_columns(name=pl.when(IS_IDLE).then(name).otherwise(pl.col("name")))


def split_weights(split: ShareSplit, cost_of: dict[str, pl.Expr], group: tuple[str, ...]) -> dict[str, pl.Expr]:
    """The weight expression of each key of ``cost_of`` under ``split``.

    ``weighted`` uses the expression given for that key; ``even`` gives every name of a ``group`` the same
    total weight (1 split over its rows); ``request`` weighs each resource by its requested minutes;
    ``metric`` weighs by the split's metric column.
    """
    if split.method is SplitMethod.EVEN:
        even = 1.0 / pl.len().over([*group, "name"]).cast(pl.Float64)
        return dict.fromkeys(cost_of, even)
    if split.method is SplitMethod.REQUEST:
        return {key: pl.col(REQUEST_MINUTES.get(key, "cpu_request_minutes")).fill_null(0.0) for key in cost_of}
    if split.method is SplitMethod.METRIC:
        metric = pl.col(split.metric or "cpu_core_hours").fill_null(0.0)
        return dict.fromkeys(cost_of, metric)
    return cost_of


def share_idle(frame: pl.DataFrame, split: ShareSplit) -> pl.DataFrame:
    """Distribute each scope's idle per resource onto its non-idle rows (see module docstring)."""
    idle = frame.filter(IS_IDLE).group_by(SCOPE).agg(*(pl.col(f"{r}_cost").sum().alias(f"idle_{r}") for r in RESOURCES))
    receivers = frame.filter(~IS_IDLE)
    charged = {r: pl.col(f"{r}_cost") + pl.col(f"{r}_cost_adjustment") for r in RESOURCES}
    weights = split_weights(split, charged, SCOPE)
    receivers = receivers.with_columns(
        *(weights[r].clip(lower_bound=0.0).alias(f"w_{r}") for r in RESOURCES)
    ).with_columns(*(pl.col(f"w_{r}").sum().over(SCOPE).alias(f"W_{r}") for r in RESOURCES))
    receivers = receivers.join(idle, on=list(SCOPE), how="left").with_columns(
        *(
            pl.when(pl.col(f"W_{r}") > 0)
            .then(pl.col(f"idle_{r}").fill_null(0.0) * pl.col(f"w_{r}") / pl.col(f"W_{r}"))
            .otherwise(0.0)
            .alias(f"{r}_cost_idle")
            for r in RESOURCES
        )
    )
    totals = receivers.group_by(SCOPE).agg(*(pl.col(f"w_{r}").sum().alias(f"W_{r}") for r in RESOURCES))
    left = frame.filter(IS_IDLE).join(totals, on=list(SCOPE), how="left")
    left = left.with_columns(
        *(
            pl.when(pl.col(f"W_{r}").fill_null(0.0) > 0).then(0.0).otherwise(pl.col(c)).alias(c)
            for r in RESOURCES
            for c in (f"{r}_cost", RESOURCE_HOURS[r])
        )
    ).filter(sum((pl.col(f"{r}_cost").abs() for r in RESOURCES), pl.lit(0.0)) > 0)
    columns = frame.columns
    return pl.concat([receivers.select(columns), left.select(columns)], how="vertical")


def apply_idle(frame: pl.DataFrame, mode: IdleMode, split: ShareSplit, split_idle: bool, by_node: bool) -> pl.DataFrame:
    """Hide, name, or share the idle rows of ``frame`` according to the query."""
    if mode is IdleMode.HIDE:
        return frame.filter(~IS_IDLE)
    if mode is IdleMode.SHARE:
        frame = share_idle(frame, split)
    return idle_names(frame, split_idle, by_node)

"""Synthetic CostResults of any size, with every ledger column filled (values depend on a seed)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl

from kubetally.costs import COST_SCHEMAS, CostResult
from kubetally.history import STRING_MAP, TIME

START = datetime(2026, 3, 1, tzinfo=UTC)
UNIQUE = frozenset({"name", "container", "pv", "service"})
"""Columns that identify a row within its (cluster, hour), so that every table has a total order."""


def hours_of(start: datetime, hours: int) -> pl.Series:
    return pl.datetime_range(
        start, start + timedelta(hours=hours), "1h", closed="left", time_unit="us", time_zone="UTC", eager=True
    )


def _fill(keys: pl.DataFrame, schema: pl.Schema, seed: int) -> pl.DataFrame:
    """``keys`` (cluster, hour?, pod_uid, row) extended to every column of ``schema``; values vary with seed."""
    row = pl.col("row")
    columns: list[pl.Expr] = []
    for name, dtype in schema.items():
        if name in keys.columns and name != "row":
            columns.append(pl.col(name).cast(dtype))
        elif dtype == pl.Float64:
            columns.append(((row * 7 + seed * 13 + len(name)) % 1000 / 7.0).alias(name))
        elif dtype == pl.Boolean:
            columns.append(((row + seed) % 2 == 0).alias(name))
        elif dtype == STRING_MAP:
            columns.append(
                pl.concat_list(
                    pl.struct(key=pl.lit("team"), value=pl.format("t{}", (row + seed) % 5)),
                    pl.struct(key=pl.lit("app"), value=pl.format("a{}", row % 11)),
                ).alias(name)
            )
        elif dtype == pl.List(pl.String):
            columns.append(pl.concat_list(pl.format("svc{}", row % 3)).alias(name))
        elif dtype == TIME:
            columns.append(pl.lit(START, dtype=TIME).alias(name))
        elif name in UNIQUE:
            columns.append(pl.format(f"{name}-{{}}-{seed}", row).alias(name))
        else:
            columns.append(pl.format(f"{name}-{{}}-{seed}", row % 97).alias(name))
    return keys.select(columns)


def make_result(clusters: Sequence[str], start: datetime, hours: int, pods: int, *, seed: int = 0) -> CostResult:
    """``pods`` containers per cluster and hour, with one pv, lb and asset row per cluster, hour and pod."""
    grid = (
        pl.DataFrame({"cluster": list(clusters)})
        .join(pl.DataFrame({"hour": hours_of(start, hours)}), how="cross")
        .join(pl.DataFrame({"pod_index": pl.arange(0, pods, eager=True)}), how="cross")
        .with_row_index("row")
        .with_columns(
            pl.col("row").cast(pl.Int64),
            pod_uid=pl.format("uid-{}", "pod_index"),
            kind=pl.lit("workload"),
        )
    )
    dims = grid.select("cluster", "pod_uid").unique(maintain_order=True).with_row_index("row")
    dims = dims.with_columns(pl.col("row").cast(pl.Int64))
    return CostResult(
        allocations=_fill(grid, COST_SCHEMAS["allocations"], seed),
        allocation_pvs=_fill(grid.filter(pl.col("pod_index") % 4 == 0), COST_SCHEMAS["allocation_pvs"], seed),
        allocation_lbs=_fill(grid.filter(pl.col("pod_index") % 9 == 0), COST_SCHEMAS["allocation_lbs"], seed),
        pods=_fill(dims, COST_SCHEMAS["pods"], seed),
        assets=_fill(grid.filter(pl.col("pod_index") % 3 == 0), COST_SCHEMAS["assets"], seed),
    )

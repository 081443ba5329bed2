"""Completing the grouped allocation frame: constant columns and the name parts of each row kind.

Workload rows take each key's value (an empty value reads as missing, later ``__unallocated__``). Unmounted rows
are named ``__unmounted__`` for every key except ``cluster`` (their cost stays in their cluster). Idle rows have
no parts: they are named by the idle rules.
"""

from __future__ import annotations

import polars as pl

from kubetally.domain.aggregation import AggregateKey, KeySource
from kubetally.domain.names import UNMOUNTED

_CONSTANTS: dict[str, pl.Expr] = {
    "set_idx": pl.lit(0, dtype=pl.Int64),
    "node": pl.lit(None, dtype=pl.String),
    "shared": pl.lit(False),
    "in_filter": pl.lit(True),
    "cpu_core_usage_max": pl.lit(None, dtype=pl.Float64),
    "ram_byte_usage_max": pl.lit(None, dtype=pl.Float64),
}


def _part(key: AggregateKey, index: int) -> pl.Expr:
    kind = pl.col("kind")
    if key.source is KeySource.ALL:
        value = pl.lit(key.constant or "", dtype=pl.String)
        unmounted = value
    else:
        raw = pl.col(f"k{index}").cast(pl.String)
        value = pl.when(raw != "").then(raw)
        unmounted = pl.col("cluster") if key.column == "cluster" else pl.lit(UNMOUNTED)
    return (
        pl.when(kind == "workload")
        .then(value)
        .when(kind == "unmounted")
        .then(unmounted)
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(f"k{index}")
    )


def complete_groups(frame: pl.DataFrame, keys: tuple[AggregateKey, ...]) -> pl.DataFrame:
    """Add the constant columns the SQL left out and turn raw key values into name parts ``k<i>``."""
    missing = [expr.alias(name) for name, expr in _CONSTANTS.items() if name not in frame.columns]
    return frame.with_columns(*missing).with_columns(*(_part(key, i) for i, key in enumerate(keys)))

"""Shared costs on the grouped frame: shared allocations and fixed costs moved into receivers' ``shared_cost``.

Per set, the amount shared is the total cost of the shared rows (including idle they received) plus the
fixed overhead of the set (``shareCost``) and, with ``shareTenancyCosts``, the set's ClusterManagement cost.
Receivers are every non-idle, non-shared row (filtered out or not: a filter selects what is shown, not who
pays). When no receiver has a weight, the amount stays in one ``__shared__`` row, so nothing is lost.
"""

from __future__ import annotations

import polars as pl

from kubetally.domain.names import SHARED
from kubetally.query.idle import IS_IDLE, split_weights
from kubetally.query.params import ShareSplit

COST_COLUMNS: tuple[str, ...] = (
    "cpu_cost",
    "cpu_cost_adjustment",
    "cpu_cost_idle",
    "ram_cost",
    "ram_cost_adjustment",
    "ram_cost_idle",
    "gpu_cost",
    "gpu_cost_adjustment",
    "gpu_cost_idle",
    "pv_cost",
    "pv_cost_adjustment",
    "network_cost",
    "load_balancer_cost",
    "shared_cost",
)
"""Every column whose sum is a row's total cost."""

ROW_TOTAL = pl.sum_horizontal(*(pl.col(c).fill_null(0.0) for c in COST_COLUMNS))
IS_SHARED = (~IS_IDLE) & pl.col("shared")


def apply_sharing(frame: pl.DataFrame, split: ShareSplit, extra: pl.DataFrame) -> pl.DataFrame:
    """Move the cost of shared rows and the per-set ``extra`` amounts (columns ``set_idx``, ``amount``) onto
    the receivers; remove the shared rows."""
    from_rows = frame.filter(IS_SHARED).group_by("set_idx").agg(ROW_TOTAL.sum().alias("amount"))
    amounts = (
        pl.concat([from_rows, extra.select("set_idx", pl.col("amount").cast(pl.Float64))], how="vertical")
        .group_by("set_idx")
        .agg(pl.col("amount").sum())
    )
    receivers = frame.filter((~IS_IDLE) & ~pl.col("shared"))
    weight = split_weights(split, {"total": ROW_TOTAL}, ("set_idx",))["total"]
    receivers = (
        receivers.with_columns(w=weight.clip(lower_bound=0.0))
        .with_columns(W=pl.col("w").sum().over("set_idx"))
        .join(amounts, on="set_idx", how="left")
        .with_columns(
            shared_cost=pl.col("shared_cost")
            + pl.when(pl.col("W") > 0).then(pl.col("amount").fill_null(0.0) * pl.col("w") / pl.col("W")).otherwise(0.0)
        )
    )
    paid = receivers.group_by("set_idx").agg(pl.col("W").first())
    leftover = amounts.join(paid, on="set_idx", how="left").filter(
        (pl.col("W").fill_null(0.0) <= 0) & (pl.col("amount") != 0)
    )
    columns = frame.columns
    shared_rows = _shared_rows(leftover, frame.schema)
    return pl.concat([receivers.select(columns), frame.filter(IS_IDLE), shared_rows.select(columns)], how="vertical")


def _shared_rows(leftover: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """One ``__shared__`` row per set holding an amount nobody could receive."""
    values: dict[str, pl.Expr] = {}
    for column, dtype in schema.items():
        if column == "set_idx":
            continue
        if column == "name":
            values[column] = pl.lit(SHARED)
        elif column == "kind":
            values[column] = pl.lit("shared")
        elif column == "shared":
            values[column] = pl.lit(False)
        elif column == "in_filter":
            values[column] = pl.lit(True)
        elif column == "shared_cost":
            values[column] = pl.col("amount")
        elif dtype.is_numeric():
            values[column] = pl.lit(0.0, dtype=dtype)
        else:
            values[column] = pl.lit(None, dtype=dtype)
    return leftover.select(pl.col("set_idx").cast(schema["set_idx"]), **values)

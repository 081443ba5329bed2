"""Spreading bills: pure Polars steps from matched bill rows to asset and allocation bill adjustments.

1. :func:`bill_by_asset_hour`: each bill row covers the hour buckets its charge period overlaps; its cost is spread
   over the matched asset's hours in that period pro rata to their estimated cost (to their minutes when the
   estimate is 0). A bill row without any such asset hour is unmatched.
2. The asset-hour's adjustment is ``delta = bill − estimate``.
3. :func:`node_parts`: a node-hour's delta is spread over its allocation rows (workload and idle) pro rata to
   each row's charged CPU, RAM and GPU cost, into ``cpu_bill_adjustment``, ``ram_bill_adjustment`` and
   ``gpu_bill_adjustment``; with no charged cost at all it goes to the idle row's CPU.
4. :func:`disk_parts`: a disk-hour's delta is spread over the volume's ``allocation_pvs`` rows pro rata to their
   ``pv_cost`` (evenly when all are 0) and summed per allocation row into ``pv_bill_adjustment``.

Every spread puts its floating-point rounding residual on its largest part, so that the parts of a delta add up to
it.
"""

from __future__ import annotations

import polars as pl

from kubetally.ledger.adjustments import ALLOCATION_ADJUSTMENTS, ALLOCATION_KEY, BILL_COLUMNS

HOUR = "1h"
ASSET_HOUR = ("cluster", "hour", "type", "name")
NODE_RESOURCES = ("cpu", "ram", "gpu")


def _residual_to_largest(
    frame: pl.DataFrame, group: list[str], weight: str, parts: list[str], total: str
) -> pl.DataFrame:
    """Add ``total − Σ parts`` of each group to the largest of ``parts`` of the group's heaviest row."""
    sums = pl.sum_horizontal(parts).sum().over(group)
    ranked = frame.with_columns(
        __residual=pl.col(total) - sums,
        __top=pl.col(weight).rank("ordinal", descending=True).over(group) == 1,
    )
    if len(parts) == 1:
        choice = [pl.lit(True)]
    else:
        largest = pl.max_horizontal(parts)
        taken = pl.lit(False)
        choice = []
        for part in parts:
            this = (pl.col(part) == largest) & ~taken
            choice.append(this)
            taken = taken | this
    return ranked.with_columns(
        pl.when(pl.col("__top") & chosen).then(pl.col(part) + pl.col("__residual")).otherwise(pl.col(part)).alias(part)
        for part, chosen in zip(parts, choice, strict=True)
    ).drop("__residual", "__top")


def bill_hours(bills: pl.DataFrame) -> pl.DataFrame:
    """One row per bill row (``bill_id``, ``type``, ``key``) and hour bucket its charge period overlaps."""
    first = pl.col("charge_start").dt.truncate(HOUR)
    last = (pl.col("charge_end") - pl.duration(microseconds=1)).dt.truncate(HOUR)
    return (
        bills.filter(pl.col("charge_end") > pl.col("charge_start"))
        .select("bill_id", "type", "key", hour=pl.datetime_ranges(first, last, HOUR, closed="both"))
        .explode("hour")
    )


def bill_by_asset_hour(bills: pl.DataFrame, asset_hours: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The billed cost of each asset hour, and the ids of the bill rows that matched no asset hour.

    ``bills``: ``bill_id``, ``type``, ``key``, ``charge_start``, ``charge_end``, ``cost``. ``asset_hours``:
    :data:`ASSET_HOUR` plus ``key``, ``estimate`` and ``minutes`` (only hours that can receive an adjustment).
    Returns (:data:`ASSET_HOUR` + ``bill``, one row per billed asset hour; ``bill_id`` of unmatched rows).
    """
    joined = bill_hours(bills).join(asset_hours, on=["type", "key", "hour"], how="inner")
    by_estimate = pl.col("estimate").clip(lower_bound=0.0)
    weighted = joined.with_columns(
        weight=pl.when(by_estimate.sum().over("bill_id") > 0).then(by_estimate).otherwise(pl.col("minutes"))
    ).with_columns(total_weight=pl.col("weight").sum().over("bill_id"))
    costs = bills.select("bill_id", "cost")
    shares = (
        weighted.join(costs, on="bill_id", how="left")
        .with_columns(
            share=pl.when(pl.col("total_weight") > 0)
            .then(pl.col("cost") * pl.col("weight") / pl.col("total_weight"))
            .otherwise(pl.col("cost") / pl.len().over("bill_id"))
        )
        .pipe(_residual_to_largest, ["bill_id"], "weight", ["share"], "cost")
    )
    billed = shares.group_by(*ASSET_HOUR).agg(pl.col("share").sum().alias("bill"))
    unmatched = bills.select("bill_id").join(shares.select("bill_id").unique(), on="bill_id", how="anti")
    return billed, unmatched


def node_parts(deltas: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Allocation bill adjustments (:data:`ALLOCATION_ADJUSTMENTS`) spreading each node-hour's ``delta``.

    ``deltas``: ``cluster``, ``hour``, ``node``, ``delta``. ``rows``: the :data:`ALLOCATION_KEY` columns and the
    charged ``cpu``, ``ram`` and ``gpu`` cost of every workload and idle row on those nodes and hours.
    """
    node_hour = ["cluster", "hour", "node"]
    weights = [pl.col(r).fill_null(0.0).clip(lower_bound=0.0).alias(f"w_{r}") for r in NODE_RESOURCES]
    frame = rows.join(deltas, on=node_hour, how="inner").with_columns(weights)
    weight = pl.sum_horizontal(f"w_{r}" for r in NODE_RESOURCES)
    idle = (pl.col("kind") == "idle").cast(pl.Float64)
    fallback = pl.when(idle.sum().over(node_hour) > 0).then(idle).otherwise(1.0)
    frame = frame.with_columns(weight=weight, total=weight.sum().over(node_hour), fallback=fallback).with_columns(
        fallback_total=pl.col("fallback").sum().over(node_hour)
    )
    charged = pl.col("total") > 0
    parts = [
        pl.when(charged)
        .then(pl.col("delta") * pl.col(f"w_{r}") / pl.col("total"))
        .otherwise(pl.col("delta") * pl.col("fallback") / pl.col("fallback_total") if r == "cpu" else 0.0)
        .alias(f"{r}_bill_adjustment")
        for r in NODE_RESOURCES
    ]
    columns = [f"{r}_bill_adjustment" for r in NODE_RESOURCES]
    spread = (
        frame.with_columns(parts)
        .with_columns(rank=pl.when(charged).then(pl.col("weight")).otherwise(pl.col("fallback")))
        .pipe(_residual_to_largest, node_hour, "rank", columns, "delta")
    )
    return spread.select(*ALLOCATION_KEY, *columns, pv_bill_adjustment=pl.lit(0.0))


def disk_parts(deltas: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Allocation bill adjustments (:data:`ALLOCATION_ADJUSTMENTS`) spreading each disk-hour's ``delta``.

    ``deltas``: ``cluster``, ``hour``, ``pv``, ``delta``. ``rows``: the :data:`ALLOCATION_KEY` columns, ``pv`` and
    ``pv_cost`` of every ``allocation_pvs`` row of those volumes and hours.
    """
    disk_hour = ["cluster", "hour", "pv"]
    cost = pl.col("pv_cost").fill_null(0.0).clip(lower_bound=0.0)
    spread = (
        rows.join(deltas, on=disk_hour, how="inner")
        .with_columns(weight=cost, total=cost.sum().over(disk_hour))
        .with_columns(
            pv_bill_adjustment=pl.when(pl.col("total") > 0)
            .then(pl.col("delta") * pl.col("weight") / pl.col("total"))
            .otherwise(pl.col("delta") / pl.len().over(disk_hour))
        )
        .pipe(_residual_to_largest, disk_hour, "weight", ["pv_bill_adjustment"], "delta")
    )
    return spread.select(
        *ALLOCATION_KEY, *(pl.lit(0.0).alias(f"{r}_bill_adjustment") for r in NODE_RESOURCES), "pv_bill_adjustment"
    )


def combine(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """One row per allocation row: the sum of its parts, rows whose adjustments are all 0 left out."""
    frames = [part.select(*ALLOCATION_ADJUSTMENTS) for part in parts]
    if not frames:
        return pl.DataFrame(schema=ALLOCATION_ADJUSTMENTS)
    summed = (
        pl.concat(frames, how="vertical_relaxed")
        .group_by(*ALLOCATION_KEY)
        .agg(pl.col(list(BILL_COLUMNS)).sum())
        .filter(pl.any_horizontal(pl.col(list(BILL_COLUMNS)) != 0.0))
    )
    return summed.select(pl.col(c).cast(t) for c, t in ALLOCATION_ADJUSTMENTS.items()).sort(
        ["cluster", "hour", "kind", "node", "namespace", "pod_uid", "container"], nulls_last=True
    )


__all__ = ["ASSET_HOUR", "bill_by_asset_hour", "bill_hours", "combine", "disk_parts", "node_parts"]

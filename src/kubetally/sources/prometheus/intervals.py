"""Running intervals from per-bucket presence (sample count, first and last sample) and exact timestamps.

A sample taken at ``t`` stands for ``[t, t + interval)``. In a bucket whose samples are contiguous
(``count · interval = last + interval − first``) the object was present over ``[first, last + interval)``. A bucket
with a gap (a container restart) is split at the exact termination and restart times when kube-state-metrics gives
them inside the bucket, and otherwise keeps its measured duration ``[first, first + count · interval)``. Pieces that
touch across buckets are merged; then each interval's edges are moved to an exact timestamp (pod start, completion,
container start, termination) lying within one interval before its sampled edge.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from kubetally.sources.prometheus.frames import seconds_to_time

EPSILON = 1e-3


def presence(n: pl.DataFrame, first: pl.DataFrame, last: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """``keys + hour`` with ``n``, ``first``, ``last`` (unix seconds), several series of one key combined."""
    on = [*keys, "hour"]
    counts = n.group_by(on).agg(pl.col("value").sum().alias("n"))
    firsts = first.group_by(on).agg(pl.col("value").min().alias("first"))
    lasts = last.group_by(on).agg(pl.col("value").max().alias("last"))
    return counts.join(firsts, on=on, how="inner").join(lasts, on=on, how="inner").filter(pl.col("n") > 0)


def pieces(frame: pl.DataFrame, keys: list[str], interval: float, splits: pl.DataFrame | None = None) -> pl.DataFrame:
    """``keys, start, end`` (unix seconds) per bucket; ``splits`` (``keys, hour, terminated, restarted``) splits
    buckets with a gap."""
    i = interval
    frame = frame.with_columns(pl.col("n", "first", "last").cast(pl.Float64)).with_columns(
        ((pl.col("last") + i - pl.col("first")) - pl.col("n") * i > EPSILON).alias("gap"),
    )
    if splits is not None:
        frame = frame.join(splits, on=[*keys, "hour"], how="left")
    else:
        frame = frame.with_columns(
            pl.lit(None, pl.Float64).alias("terminated"), pl.lit(None, pl.Float64).alias("restarted")
        )
    split = (
        pl.col("gap")
        & (pl.col("first") < pl.col("terminated"))
        & (pl.col("terminated") <= pl.col("restarted"))
        & (pl.col("restarted") < pl.col("last") + i)
    ).fill_null(False)
    whole = frame.filter(~pl.col("gap")).select(
        *keys, pl.col("first").alias("start"), (pl.col("last") + i).alias("end")
    )
    measured = frame.filter(pl.col("gap") & ~split).select(
        *keys, pl.col("first").alias("start"), (pl.col("first") + pl.col("n") * i).alias("end")
    )
    halves = frame.filter(split)
    before = halves.select(*keys, pl.col("first").alias("start"), pl.col("terminated").alias("end"))
    after = halves.select(*keys, pl.col("restarted").alias("start"), (pl.col("last") + i).alias("end"))
    return pl.concat([whole, measured, before, after])


def merge(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Pieces that touch or overlap become one interval."""
    ordered = frame.sort([*keys, "start"])
    reach = pl.col("end").cum_max().shift(1).over(keys)
    grouped = ordered.with_columns(
        (pl.col("start") > reach + EPSILON).fill_null(True).cast(pl.Int64).cum_sum().over(keys).alias("run")
    )
    return grouped.group_by([*keys, "run"]).agg(pl.col("start").min(), pl.col("end").max()).drop("run")


def snap(frame: pl.DataFrame, exact: pl.DataFrame, keys: list[str], edge: str, interval: float) -> pl.DataFrame:
    """Move ``edge`` (``start`` or ``end``) of each interval to an exact time (``keys, at``) in
    ``[edge − interval, edge]``."""
    if exact.is_empty():
        return frame
    indexed = frame.with_row_index("_row")
    candidates = (
        indexed.join(exact, on=keys, how="inner")
        .filter((pl.col("at") <= pl.col(edge) + EPSILON) & (pl.col("at") >= pl.col(edge) - interval - EPSILON))
        .group_by("_row")
        .agg((pl.col("at").max() if edge == "start" else pl.col("at").min()).alias("_exact"))
    )
    moved = indexed.join(candidates, on="_row", how="left").with_columns(pl.coalesce("_exact", edge).alias(edge))
    return moved.drop("_row", "_exact")


def to_times(frame: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Seconds to timestamps, clipped to ``[start, end)``; empty intervals dropped."""
    lo, hi = start.timestamp(), end.timestamp()
    clipped = frame.with_columns(
        pl.col("start").clip(lo, hi),
        pl.col("end").clip(lo, hi),
    ).filter(pl.col("end") - pl.col("start") > EPSILON)
    return clipped.with_columns(seconds_to_time("start"), seconds_to_time("end"))

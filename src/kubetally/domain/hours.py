"""Hour buckets: cutting half-open time intervals into the UTC hours they overlap.

The engine costs every interval per hour bucket with :func:`explode_hours`; a source that reasons about the same
buckets (which hours a container ran without its node) cuts them with the same function.
"""

from __future__ import annotations

import polars as pl

from kubetally.history import TIME

HOUR_US = 3_600_000_000
"""One hour in microseconds, the unit of every ClusterHistory timestamp."""


def epoch_us(column: str) -> pl.Expr:
    """A ``Datetime("us")`` column as integer microseconds since the epoch."""
    return pl.col(column).dt.epoch("us")


def explode_hours(frame: pl.LazyFrame) -> pl.LazyFrame:
    """One row per input interval and hour bucket it overlaps.

    ``frame`` has ``start``/``end`` datetimes; the result adds ``hour`` (the bucket start), ``lo_us``/``hi_us``
    (the interval clipped to the bucket, integer microseconds) and ``seconds`` (their overlap, float seconds).
    """
    start, end = epoch_us("start"), epoch_us("end")
    hour_index = pl.col("__hour_index")
    return (
        frame.with_columns(
            pl.int_ranges(start // HOUR_US, (end - 1) // HOUR_US + 1).alias("__hour_index"),
            start.alias("__start_us"),
            end.alias("__end_us"),
        )
        .explode("__hour_index")
        .with_columns(
            pl.max_horizontal(pl.col("__start_us"), hour_index * HOUR_US).alias("lo_us"),
            pl.min_horizontal(pl.col("__end_us"), (hour_index + 1) * HOUR_US).alias("hi_us"),
            (hour_index * HOUR_US).cast(TIME).alias("hour"),
        )
        .with_columns(((pl.col("hi_us") - pl.col("lo_us")) / 1e6).alias("seconds"))
        .drop("__hour_index", "__start_us", "__end_us")
    )

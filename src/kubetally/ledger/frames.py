"""Checking a CostResult before it is written: ledger column types, and rows inside the range being replaced.

A write replaces whole ``(cluster, hour)`` buckets, so a row outside the clusters or hours it names would survive
a later re-write of its own bucket and break idempotence; such rows are refused before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import polars as pl

from kubetally.costs import CostResult
from kubetally.errors import InvalidParameter
from kubetally.history import TIME
from kubetally.ledger.schema import TABLES

HOUR = timedelta(hours=1)

RESULT_TABLES: tuple[str, ...] = ("allocations", "allocation_pvs", "allocation_lbs", "assets", "pods")
"""The CostResult fields, each written to the ledger table of the same name."""


def whole_hour(value: datetime, parameter: str) -> datetime:
    """``value`` as a UTC instant, refused unless it is time-zone aware and on a whole hour."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidParameter(parameter, f"{value.isoformat()} has no time zone; give an aware UTC instant")
    utc = value.astimezone(UTC)
    if utc.minute or utc.second or utc.microsecond:
        raise InvalidParameter(parameter, f"{utc.isoformat()} is not on a whole hour")
    return utc


def hour_range(start: datetime, end: datetime) -> tuple[datetime, datetime, int]:
    """``[start, end)`` in UTC with its number of hour buckets; ``end`` must be after ``start``."""
    first = whole_hour(start, "start")
    stop = whole_hour(end, "end")
    if stop <= first:
        raise InvalidParameter("end", f"end {stop.isoformat()} must be after start {first.isoformat()}")
    return first, stop, int((stop - first) / HOUR)


def cluster_names(clusters: Sequence[str]) -> tuple[str, ...]:
    """The distinct cluster names of a write, sorted; each must be a non-empty string."""
    if isinstance(clusters, str):
        raise InvalidParameter("clusters", f"expected a sequence of cluster names, got the string {clusters!r}")
    for name in clusters:
        if not isinstance(name, str) or not name:
            raise InvalidParameter("clusters", f"cluster names must be non-empty strings, got {name!r}")
    return tuple(sorted(set(clusters)))


def conform(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly the ledger columns of ``table``, in order and of the ledger types."""
    schema = TABLES[table].schema
    missing = [c for c in schema if c not in frame.columns]
    extra = [c for c in frame.columns if c not in schema]
    if missing or extra:
        raise InvalidParameter(
            "result", f"{table}: missing columns {missing or 'none'}, unexpected columns {extra or 'none'}"
        )
    if frame.schema == schema:
        return frame
    try:
        return frame.select(
            pl.col(c) if frame.schema[c] == dtype else pl.col(c).cast(dtype, strict=True) for c, dtype in schema.items()
        )
    except pl.exceptions.PolarsError as exc:
        wrong = {c: str(frame.schema[c]) for c, dtype in schema.items() if frame.schema[c] != dtype}
        raise InvalidParameter("result", f"{table}: columns of the wrong type {wrong}: {exc}") from exc


def check_scope(table: str, frame: pl.DataFrame, clusters: tuple[str, ...], start: datetime, end: datetime) -> None:
    """Refuse rows of ``table`` whose cluster is not written, or whose hour is outside ``[start, end)``."""
    outside = pl.col("cluster").is_null() | ~pl.col("cluster").is_in(list(clusters))
    if "hour" in frame.columns:
        hour = pl.col("hour")
        outside = (
            outside
            | hour.is_null()
            | (hour < pl.lit(start, dtype=TIME))
            | (hour >= pl.lit(end, dtype=TIME))
            | (hour.dt.truncate("1h") != hour)
        )
    bad = frame.filter(outside)
    if bad.height:
        example = bad.row(0, named=True)
        where = f"cluster={example['cluster']!r}" + (f", hour={example['hour']}" if "hour" in bad.columns else "")
        raise InvalidParameter(
            "result",
            f"{table}: {bad.height} rows outside the written clusters {list(clusters)} and hours "
            f"[{start.isoformat()}, {end.isoformat()}) (first: {where})",
        )


def result_frames(
    result: CostResult, clusters: tuple[str, ...], start: datetime, end: datetime
) -> dict[str, pl.DataFrame]:
    """Each CostResult table, conformed to its ledger schema and checked to lie inside the write."""
    frames: dict[str, pl.DataFrame] = {}
    for table in RESULT_TABLES:
        frame = getattr(result, table)
        if not isinstance(frame, pl.DataFrame):
            raise InvalidParameter("result", f"{table} must be a polars DataFrame, got {type(frame).__name__}")
        conformed = conform(table, frame)
        check_scope(table, conformed, clusters, start, end)
        frames[table] = conformed
    key = list(TABLES["pods"].key)
    frames["pods"] = frames["pods"].unique(subset=key, keep="last", maintain_order=True)
    return frames


def coverage_frame(clusters: tuple[str, ...], start: datetime, end: datetime) -> pl.DataFrame:
    """One row per written cluster and hour bucket of ``[start, end)``."""
    hours = pl.datetime_range(start, end, "1h", closed="left", time_unit="us", time_zone="UTC", eager=True)
    return (
        pl.DataFrame({"cluster": pl.Series(clusters, dtype=pl.String)})
        .join(pl.DataFrame({"hour": hours}), how="cross")
        .sort("hour", "cluster")
    )

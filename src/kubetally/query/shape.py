"""Grouped frames turned into OpenCost's JSON shapes (opencost-compat §5).

Floats are rounded to 5 decimals; NaN and infinities become ``None`` (JSON null).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from kubetally.domain.window import Window

HOUR = timedelta(hours=1)
DECIMALS = 5


def clean(value: object) -> object:
    """A JSON-ready value: floats rounded to 5 decimals, NaN/inf → None; containers cleaned recursively."""
    if isinstance(value, float):
        return round(value, DECIMALS) if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def iso(value: datetime) -> str:
    """RFC3339 UTC with a ``Z`` suffix, as OpenCost writes times."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def with_span(frame: pl.DataFrame, sets: Sequence[Window]) -> pl.DataFrame:
    """Add ``start``/``end`` (first hour bucket to the end of the last, clipped to the set; the whole set for
    rows without hours, such as ``__shared__``) and ``minutes``."""
    time = pl.Datetime("us", "UTC")
    starts = pl.Series("set_start", [w.start for w in sets], dtype=time)
    ends = pl.Series("set_end", [w.end for w in sets], dtype=time)
    set_start = pl.lit(starts).gather(pl.col("set_idx"))
    set_end = pl.lit(ends).gather(pl.col("set_idx"))
    end = pl.min_horizontal(pl.col("last_hour") + pl.duration(hours=1), set_end)
    return frame.with_columns(
        start=pl.coalesce(pl.col("first_hour"), set_start), end=pl.coalesce(end, set_end)
    ).with_columns(minutes=(pl.col("end") - pl.col("start")).dt.total_seconds().cast(pl.Float64) / 60.0)


def with_running_span(frame: pl.DataFrame, sets: Sequence[Window]) -> pl.DataFrame:
    """Add ``set_start``/``set_end`` (the set's bounds), ``start``/``end`` (``running_start``/``running_end``
    clipped to the set; the whole set for rows without them, such as ``__shared__``) and ``minutes``
    (``end - start``)."""
    time = pl.Datetime("us", "UTC")
    starts = pl.Series("set_start", [w.start for w in sets], dtype=time)
    ends = pl.Series("set_end", [w.end for w in sets], dtype=time)
    frame = frame.with_columns(
        set_start=pl.lit(starts).gather(pl.col("set_idx")), set_end=pl.lit(ends).gather(pl.col("set_idx"))
    )
    start = pl.max_horizontal(pl.coalesce(pl.col("running_start"), pl.col("set_start")), pl.col("set_start"))
    end = pl.min_horizontal(pl.coalesce(pl.col("running_end"), pl.col("set_end")), pl.col("set_end"))
    return frame.with_columns(start=start, end=end).with_columns(
        minutes=(pl.col("end") - pl.col("start")).dt.total_seconds(fractional=True) / 60.0
    )


def map_to_dict(entries: object) -> dict[str, str]:
    """A ledger map (list of ``{key, value}`` structs, or a dict) as a plain dict."""
    if isinstance(entries, dict):
        return {str(k): str(v) for k, v in entries.items()}
    if isinstance(entries, list):
        return {str(e["key"]): str(e["value"]) for e in entries if isinstance(e, dict)}
    return {}


def window_json(start: datetime, end: datetime) -> dict[str, str]:
    return {"start": iso(start), "end": iso(end)}


def ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator``; null when the denominator is 0 (JSON null rather than NaN)."""
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(None)

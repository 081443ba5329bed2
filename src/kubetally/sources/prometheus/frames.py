"""Query results decoded into Polars frames: label columns, ``cluster``, and ``hour`` (bucket start) + ``value``."""

from __future__ import annotations

import polars as pl

from kubetally.history import STRING_MAP, TIME
from kubetally.sources.prometheus.client import Series
from kubetally.sources.prometheus.queries import Query, Shape


def to_frame(series: list[Series], query: Query, cluster_label: str | None, cluster_name: str) -> pl.DataFrame:
    """One row per sample (``BUCKETS``: ``hour`` is the start of the bucket ending at the sample) or per series
    (``WINDOW``). Missing labels are empty strings; a series without the cluster label belongs to ``cluster_name``."""
    columns: dict[str, list[str]] = {name: [] for name in ("cluster", *query.labels)}
    times: list[float] = []
    values: list[float] = []
    maps: list[list[dict[str, str]]] = []
    for item in series:
        count = len(item.values) if query.shape is Shape.BUCKETS else 1
        cluster = item.labels.get(cluster_label, "") if cluster_label else ""
        columns["cluster"].extend([cluster or cluster_name] * count)
        for name in query.labels:
            columns[name].extend([item.labels.get(name, "")] * count)
        if query.shape is Shape.BUCKETS:
            times.extend(item.times)
            values.extend(item.values)
        else:
            values.append(item.values[-1])
        if query.map_prefix is not None:
            prefix = query.map_prefix
            mapping = [
                {"key": key.removeprefix(prefix), "value": value}
                for key, value in sorted(item.labels.items())
                if key.startswith(prefix)
            ]
            maps.append(mapping)
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String()))
    frame = frame.with_columns(pl.Series("value", values, dtype=pl.Float64()))
    if query.shape is Shape.BUCKETS:
        hours = pl.Series("hour", [round(t * 1000) - 3_600_000 for t in times], dtype=pl.Int64())
        frame = frame.with_columns(hours.cast(pl.Datetime("ms", "UTC")).cast(TIME))
    if query.map_prefix is not None:
        frame = frame.with_columns(pl.Series("map", maps, dtype=STRING_MAP))
    return frame


def seconds_to_time(column: str | pl.Expr) -> pl.Expr:
    """Unix seconds (float) as a UTC microsecond timestamp."""
    expr = pl.col(column) if isinstance(column, str) else column
    return (expr * 1_000_000).round(0).cast(pl.Int64).cast(TIME)


def time_to_seconds(column: str) -> pl.Expr:
    return pl.col(column).dt.epoch("us").cast(pl.Float64) / 1_000_000


def canonical_order(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` sorted by every orderable (not nested) column: the same rows always come in the same order."""
    keys = [name for name, dtype in frame.schema.items() if not dtype.is_nested()]
    return frame.sort(keys, nulls_last=True, maintain_order=True) if keys else frame

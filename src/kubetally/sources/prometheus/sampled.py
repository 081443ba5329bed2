"""Per-sample reads of the few buckets the plain range functions cannot answer exactly.

A presence gauge whose bucket is not all ones (the object came, went or restarted in that hour) and a counter
that reset in its bucket are read sample by sample with an instant query of a raw range at the bucket end,
restricted by a regex matcher to the series that need it. Every other bucket comes from the plain
``*_over_time`` queries of the table alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import polars as pl

from kubetally.history import TIME
from kubetally.sources.prometheus.client import Series
from kubetally.sources.prometheus.queries import Sampled

HOUR = 3600.0
PRESENCE_RANGE = "1h"
COUNTER_RANGE = "3900s"
NOTHING = "/"
"""A regex no Kubernetes name or UID matches (they never hold a slash): the query of an hour with nothing to read,
so that every hour of a fetch makes the same requests."""

Results = Mapping[str, pl.DataFrame]
Fetch = Callable[[str, datetime], list[Series]]
"""Runs an instant query at a time and returns its matrix."""


def full_samples(interval: float) -> int:
    """Samples of a series present for a whole bucket."""
    return round(HOUR / interval)


def series_keys(spec: Sampled) -> list[str]:
    return ["cluster", *spec.labels]


def partial_presence(r: Results, spec: Sampled, interval: float) -> pl.DataFrame:
    """``cluster, labels, hour`` of the series-buckets with some but not all samples at 1, or no last timestamp."""
    keys = [*series_keys(spec), "hour"]
    n = r[f"{spec.name}_n"].filter(pl.col("value") > 0)
    last = r[f"{spec.name}_last"].select(*keys, pl.col("value").alias("last"))
    joined = n.join(last, on=keys, how="left")
    partial = (pl.col("value") - full_samples(interval)).abs() > 0.5
    return joined.filter(partial | pl.col("last").is_null()).select(keys).unique()


def full_presence(r: Results, spec: Sampled, interval: float, partial: pl.DataFrame) -> pl.DataFrame:
    """``cluster, labels, hour, n, first, last`` of the series-buckets with every sample at 1."""
    keys = [*series_keys(spec), "hour"]
    n = r[f"{spec.name}_n"].filter(pl.col("value") > 0).join(partial, on=keys, how="anti")
    last = r[f"{spec.name}_last"].select(*keys, pl.col("value").alias("last"))
    return n.join(last, on=keys, how="inner").select(
        *keys,
        pl.col("value").alias("n"),
        (pl.col("last") - (pl.col("value") - 1.0) * interval).alias("first"),
        "last",
    )


def regex(values: list[str]) -> str:
    """An RE2 alternation of ``values`` (sorted, escaped), or ``NOTHING``."""
    return "|".join(re.escape(v) for v in sorted(set(values))) or NOTHING


def requests(spec: Sampled, wanted: pl.DataFrame, window: str, hours: list[datetime]) -> list[tuple[str, datetime]]:
    """The instant queries (PromQL, evaluation time) that read the raw samples of the ``wanted`` buckets: one per
    bucket of ``hours``."""
    values = dict(wanted.group_by("hour").agg(pl.col(spec.match)).iter_rows())
    out: list[tuple[str, datetime]] = []
    for hour in hours:
        matcher = f"{spec.match}=~`{regex(values.get(hour, []))}`"
        out.append((f"{spec.selector(matcher)}[{window}] offset 1ms", hour + timedelta(hours=1)))
    return out


def to_samples(
    spec: Sampled, parts: list[tuple[datetime, list[Series]]], cluster_label: str | None, cluster: str
) -> pl.DataFrame:
    """``cluster, labels, hour, series, ts, value``: one row per raw sample; ``series`` tells series apart."""
    columns: dict[str, list[str]] = {name: [] for name in series_keys(spec)}
    hours: list[datetime] = []
    ids: list[int] = []
    times: list[float] = []
    values: list[float] = []
    number = 0
    for at, series in parts:
        for item in series:
            count = len(item.values)
            name = item.labels.get(cluster_label, "") if cluster_label else ""
            columns["cluster"].extend([name or cluster] * count)
            for label in spec.labels:
                columns[label].extend([item.labels.get(label, "")] * count)
            hours.extend([at - timedelta(hours=1)] * count)
            ids.extend([number] * count)
            times.extend(item.times)
            values.extend(item.values)
            number += 1
    frame = pl.DataFrame(columns, schema=dict.fromkeys(columns, pl.String()))
    return frame.with_columns(
        pl.Series("hour", hours, dtype=pl.Datetime("us", "UTC")).cast(TIME),
        pl.Series("series", ids, dtype=pl.Int64()),
        pl.Series("ts", times, dtype=pl.Float64()),
        pl.Series("value", values, dtype=pl.Float64()),
    )


def sampled_presence(samples: pl.DataFrame, spec: Sampled, partial: pl.DataFrame) -> pl.DataFrame:
    """``cluster, labels, hour, n, first, last`` of the ``partial`` series-buckets, from their raw samples."""
    keys = [*series_keys(spec), "hour"]
    return (
        samples.join(partial, on=keys, how="semi")
        .filter(pl.col("value") > 0.5)
        .group_by(keys)
        .agg(pl.len().cast(pl.Float64).alias("n"), pl.col("ts").min().alias("first"), pl.col("ts").max().alias("last"))
    )


def as_results(spec: Sampled, presence: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """``presence`` as the ``_n``, ``_first`` and ``_last`` frames (label columns, ``hour``, ``value``)."""
    keys = [*series_keys(spec), "hour"]
    return {f"{spec.name}_{c}": presence.select(*keys, pl.col(c).alias("value")) for c in ("n", "first", "last")}


def reset_buckets(r: Results, spec: Sampled) -> pl.DataFrame:
    """``cluster, labels, hour`` of the counter buckets with a reset."""
    keys = [*series_keys(spec), "hour"]
    return r[f"{spec.name}_resets"].filter(pl.col("value") > 0).select(keys).unique()


def _previous_sample() -> pl.Expr:
    """The series' previous sample value within the bucket's range (null for its first)."""
    return pl.col("value").shift(1).over("hour", "series", order_by="ts")


def _increase(previous: pl.Expr) -> pl.Expr:
    """A counter's increase since ``previous``: the value itself after a reset or with no previous sample."""
    return (
        pl.when(previous.is_null() | (pl.col("value") < previous))
        .then(pl.col("value"))
        .otherwise(pl.col("value") - previous)
    )


def counter_sums(samples: pl.DataFrame, spec: Sampled, wanted: pl.DataFrame, interval: float) -> pl.DataFrame:
    """``cluster, labels, hour, value, peak``: per series, the sum of its increases since the previous sample
    (the value itself after a reset or with no previous sample within the range) over the samples of the bucket,
    and the highest of those increases per second."""
    keys = [*series_keys(spec), "hour"]
    previous = _previous_sample()
    delta = _increase(previous)
    rate = pl.when(previous.is_not_null() & (pl.col("value") >= previous)).then((pl.col("value") - previous) / interval)
    bucket_start = (pl.col("hour").dt.epoch("us").cast(pl.Float64) / 1e6) - 0.001
    return (
        samples.join(wanted, on=keys, how="semi")
        .with_columns(delta.alias("delta"), rate.alias("rate"))
        .filter(pl.col("ts") >= bucket_start)
        .group_by([*keys, "series"])
        .agg(pl.col("delta").sum().alias("value"), pl.col("rate").max().alias("peak"))
        .drop("series")
    )


def counter_spans(samples: pl.DataFrame, spec: Sampled, wanted: pl.DataFrame) -> pl.DataFrame:
    """``cluster, labels, hour, series, delta, previous, first, last``: per series of the ``wanted`` buckets, the
    sum of its increases over the samples of the bucket (as :func:`counter_sums`), the timestamp of its last sample
    before the bucket (null when the range holds none: the counter starts in the bucket) and those of its first and
    last sample in the bucket (unix seconds). The increase is what the counter grew between ``previous`` (or the
    start of what it counts) and ``last``."""
    keys = [*series_keys(spec), "hour"]
    previous = _previous_sample()
    delta = _increase(previous)
    bucket_start = (pl.col("hour").dt.epoch("us").cast(pl.Float64) / 1e6) - 0.001
    inside = pl.col("ts") >= bucket_start
    return (
        samples.join(wanted, on=keys, how="semi")
        .with_columns(delta.alias("delta"))
        .group_by([*keys, "series"])
        .agg(
            pl.col("delta").filter(inside).sum(),
            pl.col("ts").filter(~inside).max().alias("previous"),
            pl.col("ts").filter(inside).min().alias("first"),
            pl.col("ts").filter(inside).max().alias("last"),
        )
        .filter(pl.col("last").is_not_null())
    )


def replace_buckets(plain: pl.DataFrame, exact: pl.DataFrame, wanted: pl.DataFrame, column: str) -> pl.DataFrame:
    """``plain`` with the rows of the ``wanted`` buckets replaced by ``exact``'s ``column``."""
    keys = wanted.columns
    kept = plain.join(wanted, on=keys, how="anti")
    added = exact.filter(pl.col(column).is_not_null()).select(*keys, pl.col(column).alias("value"))
    return pl.concat([kept, added.select(kept.columns)])

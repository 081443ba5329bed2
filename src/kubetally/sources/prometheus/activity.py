"""The hourly tables of a ClusterHistory (``usage``, ``egress``) from the ``BUCKETS`` query results.

cAdvisor and network-costs series name pods, not pod UIDs: a (namespace, pod) maps to the UID kube-state-metrics
reports for it, preferring the one that was present in that hour when a name was reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from kubetally.sources.prometheus.frames import time_to_seconds
from kubetally.sources.prometheus.intervals import EPSILON

Results = Mapping[str, pl.DataFrame]
USAGE_COLUMNS = ("cpu_core_seconds", "cpu_cores_max", "ram_bytes_avg", "ram_bytes_max", "gpu_busy_fraction")
EGRESS_CLASSES = {
    "zone_bytes": (pl.col("internet") != "true") & (pl.col("same_region") == "true") & (pl.col("same_zone") != "true"),
    "region_bytes": (pl.col("internet") != "true") & (pl.col("same_region") != "true"),
    "internet_bytes": pl.col("internet") == "true",
}
"""network-costs destination labels of each egress class (same-zone traffic is free and not kept)."""


def _wide(parts: Mapping[str, pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """Several ``keys + value`` frames side by side, one column per name."""
    frames = [frame.group_by(keys).agg(pl.col("value").sum().alias(name)) for name, frame in parts.items()]
    wide = frames[0]
    for frame in frames[1:]:
        wide = wide.join(frame, on=keys, how="full", coalesce=True)
    return wide


def resolve_uids(frame: pl.DataFrame, pod_column: str, pods: pl.DataFrame, present: pl.DataFrame) -> pl.DataFrame:
    """Add ``pod_uid`` to rows keyed by (cluster, namespace, ``pod_column``, hour); ``present`` holds the
    (cluster, pod_uid, hour) in which each pod was seen."""
    names = pods.select("cluster", "namespace", pl.col("pod").alias(pod_column), "pod_uid")
    seen = present.select("cluster", "pod_uid", "hour").unique().with_columns(pl.lit(True).alias("_seen"))
    joined = frame.join(names, on=["cluster", "namespace", pod_column], how="inner")
    joined = joined.join(seen, on=["cluster", "pod_uid", "hour"], how="left").with_columns(
        pl.col("_seen").fill_null(False)
    )
    key = [c for c in frame.columns if c in ("cluster", "namespace", pod_column, "container", "hour")]
    return joined.sort("_seen", descending=True).unique(key, keep="first").drop("_seen")


def usage_table(r: Results, pods: pl.DataFrame, containers: pl.DataFrame, present: pl.DataFrame) -> pl.DataFrame:
    """``usage``: CPU core-seconds (counter increase in the bucket), peak cores, average and peak working set,
    and busy GPUs (DCGM busy fraction x the container's GPU request)."""
    keys = ["cluster", "namespace", "pod", "container", "hour"]
    wide = _wide({name: r[name] for name in USAGE_COLUMNS}, keys)
    wide = resolve_uids(wide, "pod", pods, present)
    requests = containers.select("cluster", "pod_uid", "container", "gpu_request")
    wide = wide.join(requests, on=["cluster", "pod_uid", "container"], how="left")
    return wide.select(
        "cluster",
        "pod_uid",
        "container",
        "hour",
        *[pl.col(c).fill_null(0.0) for c in ("cpu_core_seconds", "cpu_cores_max", "ram_bytes_avg", "ram_bytes_max")],
        (pl.col("gpu_busy_fraction") * pl.col("gpu_request")).fill_null(0.0).alias("gpu_usage_avg"),
    )


def egress_table(r: Results, pods: pl.DataFrame, present: pl.DataFrame) -> pl.DataFrame:
    """``egress``: bytes by destination class when network-costs runs; otherwise all transmitted bytes are
    ``unclassified``."""
    keys = ["cluster", "namespace", "pod", "hour"]
    classes = r["egress_classes"].rename({"pod_name": "pod"})
    parts = {"transmit": r["transmit_bytes"], "receive_bytes": r["receive_bytes"]}
    parts.update({name: classes.filter(rule) for name, rule in EGRESS_CLASSES.items()})
    wide = resolve_uids(_wide(parts, keys), "pod", pods, present)
    classified = not classes.is_empty()
    volumes = [
        pl.col(name).fill_null(0.0) for name in ("zone_bytes", "region_bytes", "internet_bytes", "receive_bytes")
    ]
    unclassified = pl.lit(0.0) if classified else pl.col("transmit").fill_null(0.0)
    frame = wide.select("cluster", "pod_uid", "hour", *volumes, unclassified.alias("unclassified_bytes"))
    moved = pl.sum_horizontal("zone_bytes", "region_bytes", "internet_bytes", "unclassified_bytes", "receive_bytes")
    return frame.filter(moved > 0)


CPU_SPANS = "cpu_spans"
"""The results entry with the CPU counter's samples per series in the buckets read raw
(:func:`kubetally.sources.prometheus.sampled.counter_spans`)."""


def container_buckets(partial: pl.DataFrame, pod_info: pl.DataFrame) -> pl.DataFrame:
    """``cluster, namespace, pod, container, hour`` of the container-buckets in ``partial`` (``cluster, uid,
    container, hour``: a container that started, stopped or restarted in that hour), named as cAdvisor names them."""
    names = pod_info.select("cluster", "uid", "namespace", "pod").unique(["cluster", "uid"], keep="first")
    return partial.join(names, on=["cluster", "uid"], how="inner").select(
        "cluster", "namespace", "pod", "container", "hour"
    )


def started_in_bucket(started: list[pl.DataFrame]) -> pl.DataFrame:
    """``cluster, uid, container, hour`` of the container-buckets holding a container start, from
    ``kube_pod_container_state_started`` results (``cluster, uid, container, hour, value``: unix seconds): a
    container that starts on a bucket's first scrape has every running sample of that bucket, yet its counter
    starts inside it."""
    bucket = time_to_seconds("hour")
    inside = (pl.col("value") >= bucket - EPSILON) & (pl.col("value") < bucket + 3600.0)
    return pl.concat([frame.filter(inside).select("cluster", "uid", "container", "hour") for frame in started])


@dataclass(frozen=True)
class Spans:
    """The CPU counter's raw samples per series (:data:`CPU_SPANS`, None when nothing was read raw) and what
    resolves their pod names to UIDs (see :func:`resolve_uids`)."""

    series: pl.DataFrame | None
    pods: pl.DataFrame
    present: pl.DataFrame


def _with_uids(spans: Spans) -> pl.DataFrame:
    assert spans.series is not None
    on = ["cluster", "namespace", "pod", "container", "hour"]
    names = resolve_uids(spans.series.select(on).unique(), "pod", spans.pods, spans.present)
    return spans.series.join(names.select(*on, "pod_uid"), on=on, how="inner")


def over_running_time(usage: pl.DataFrame, spans: Spans, running: pl.DataFrame, start: datetime) -> pl.DataFrame:
    """``usage`` with the CPU of the container-buckets read raw set to the counter's rate times the container's
    running time in the bucket.

    The rate is the counter's increase over the running time between the samples that bound it: from the last
    sample before the bucket (or, for a counter that starts in the bucket, from the start of the container's
    running interval holding its first sample) to its last sample in the bucket, never past the container's end (a
    counter scraped after its container stopped grew no more). So a steady usage is recovered exactly whatever the
    scrape interval, and the time between a container's last sample and its end is charged at that rate.
    ``running``: container running intervals (``cluster, pod_uid, container, start, end``); an interval starting at
    the window ``start`` is taken to have run before it (the sample before the bucket may precede the window)."""
    if spans.series is None or spans.series.is_empty():
        return usage
    keys = ["cluster", "pod_uid", "container"]
    window = start.timestamp()
    runs = running.select(*keys, time_to_seconds("start").alias("rs"), time_to_seconds("end").alias("re"))
    series = _with_uids(spans).with_row_index("_series")
    opened = (
        series.join(runs, on=keys, how="inner")
        .filter(pl.col("rs") <= pl.col("first") + EPSILON)
        .group_by("_series")
        .agg(pl.col("rs").max().alias("_opened"))
    )
    lower = pl.coalesce("previous", "_opened", "first")
    since = pl.when(pl.col("rs") <= window + EPSILON).then(float("-inf")).otherwise(pl.col("rs"))
    covered = (pl.min_horizontal("re", "last") - pl.max_horizontal(since, lower)).clip(lower_bound=0.0)
    rates = (
        series.join(opened, on="_series", how="left")
        .join(runs, on=keys, how="inner")
        .with_columns(covered.alias("_covered"))
        .group_by("_series", *keys, "hour")
        .agg(pl.col("delta").first(), pl.col("_covered").sum())
        .group_by(*keys, "hour")
        .agg(pl.col("delta").sum(), pl.col("_covered").sum())
        .filter(pl.col("_covered") > 0)
    )
    bucket = time_to_seconds("hour")
    in_bucket = (pl.min_horizontal("re", bucket + 3600.0) - pl.max_horizontal("rs", bucket)).clip(lower_bound=0.0)
    seconds = (
        rates.join(runs, on=keys, how="inner")
        .group_by(*keys, "hour")
        .agg((pl.col("delta").first() / pl.col("_covered").first() * in_bucket.sum()).alias("_cpu"))
    )
    replaced = usage.join(seconds, on=[*keys, "hour"], how="left")
    return replaced.with_columns(pl.coalesce("_cpu", "cpu_core_seconds").alias("cpu_core_seconds")).drop("_cpu")

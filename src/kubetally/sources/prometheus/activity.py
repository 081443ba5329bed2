"""The hourly tables of a ClusterHistory (``usage``, ``egress``) from the ``BUCKETS`` query results.

cAdvisor and network-costs series name pods, not pod UIDs: a (namespace, pod) maps to the UID kube-state-metrics
reports for it, preferring the one that was present in that hour when a name was reused.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import polars as pl

from kubetally.sources.prometheus.frames import time_to_seconds

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


def complete_last_interval(
    usage: pl.DataFrame, running: pl.DataFrame, last_samples: pl.DataFrame, interval: float, end: datetime
) -> pl.DataFrame:
    """Add the CPU used between a container's last sample and its end (when it ends inside the window).

    The counter deltas stop at the last sample; a container that stops later in the scrape interval used CPU the
    counter never showed. It is estimated at the bucket's average rate over the time the counter covered.
    ``running``: container running intervals; ``last_samples``: ``cluster, uid, container, hour, value`` (the last
    running sample of the bucket, unix seconds)."""
    keys = ["cluster", "pod_uid", "container"]
    last = last_samples.group_by("cluster", "uid", "container", "hour").agg(pl.col("value").max().alias("last"))
    ends = (
        running.filter(pl.col("end") < end)
        .with_columns((pl.col("end") - timedelta(microseconds=1)).dt.truncate("1h").alias("hour"))
        .group_by(*keys, "hour")
        .agg(pl.col("end").max().alias("run_end"))
        .join(last.rename({"uid": "pod_uid"}), on=[*keys, "hour"], how="inner")
        .with_columns((time_to_seconds("run_end") - pl.col("last")).clip(0.0, interval).alias("uncovered"))
    )
    bucket_end = pl.col("hour") + timedelta(hours=1)
    overlap = pl.min_horizontal("end", bucket_end) - pl.max_horizontal("start", "hour")
    seconds = (
        ends.join(running.select(*keys, "start", "end"), on=keys, how="inner")
        .with_columns((overlap.dt.total_microseconds() / 1e6).clip(0.0).alias("overlap"))
        .group_by(*keys, "hour")
        .agg(pl.col("overlap").sum().alias("running"), pl.col("uncovered").first())
        .with_columns((pl.col("running") - pl.col("uncovered")).alias("covered"))
        .filter(pl.col("covered") >= interval)
        .select(*keys, "hour", (pl.col("uncovered") / pl.col("covered")).alias("_extra"))
    )
    completed = usage.join(seconds, on=[*keys, "hour"], how="left")
    scaled = pl.col("cpu_core_seconds") * (1.0 + pl.col("_extra").fill_null(0.0))
    return completed.with_columns(scaled.alias("cpu_core_seconds")).drop("_extra")

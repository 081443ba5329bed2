"""Containers that ran in hours when kube-state-metrics reported no node for them: the warning that names them.

A node can leave before its pods do. When a node is deleted abruptly (a spot reclaim, a scale-down), its object is
gone at once, while its pods stay in the API, often still "running", until the pod garbage collector removes them
minutes later. A pod may also name a node kube_node_info never reported. The engine charges such hours nothing:
there is no node cost to divide (docs/cost-model.md, R5). The source says so, once per fetch, in its warnings, which
the ingest stores with the run and prints as a degraded input.
"""

from __future__ import annotations

import polars as pl

from kubetally.domain.hours import explode_hours
from kubetally.history import ClusterHistory

SAMPLE = 3
"""How many pods the warning names."""


def _hours(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """One row per key and UTC hour that an interval of ``frame`` touches, with the seconds it covers there."""
    return explode_hours(frame.lazy().select(*keys, "start", "end")).select(*keys, "hour", "seconds").collect()


def unhosted_warning(history: ClusterHistory) -> str | None:
    """The warning naming the containers of ``history`` that ran in hours when their pod's node was not reported
    at all (they are charged nothing there), or ``None`` when there are none."""
    running = history.container_intervals.filter(pl.col("state") == "running").filter(pl.col("end") > pl.col("start"))
    pods = history.pods.unique(["cluster", "pod_uid"], keep="first")
    placed = running.join(
        pods.select("cluster", "pod_uid", "namespace", "pod", "node"), on=["cluster", "pod_uid"], how="inner"
    )
    if placed.is_empty():
        return None
    ran = _hours(placed, ["cluster", "namespace", "pod", "node"])
    hosted = _hours(history.nodes.filter(pl.col("end") > pl.col("start")), ["cluster", "node"]).select(
        "cluster", "node", "hour"
    )
    orphan = ran.join(hosted.unique(), on=["cluster", "node", "hour"], how="anti", nulls_equal=False)
    if orphan.is_empty():
        return None
    by_pod = (
        orphan.group_by("cluster", "namespace", "pod", "node")
        .agg(pl.col("seconds").sum())
        .sort("seconds", "cluster", "namespace", "pod", descending=[True, False, False, False])
    )
    named = ", ".join(
        f"{cluster}/{namespace}/{pod} on {node or '(no node)'}"
        for cluster, namespace, pod, node, _ in by_pod.head(SAMPLE).rows()
    )
    more = f" and {by_pod.height - SAMPLE} more" if by_pod.height > SAMPLE else ""
    minutes = float(by_pod.get_column("seconds").sum()) / 60.0
    return (
        f"{by_pod.height} pod(s) ran {minutes:.1f} container-minutes in hours when kube-state-metrics reported no node "
        f"for them (a node deleted before its pods, or kube_node_info missing); those hours are charged nothing: "
        f"{named}{more}"
    )

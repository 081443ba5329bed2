"""Integer identities for containers and nodes, so the per-hour tables join and group on integers.

String keys (``cluster``, ``pod_uid``, ``container``, ``node``) are resolved once against small tables; the large
per-container-and-hour frames then carry only ``cid`` (container) and ``nid`` (node).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kubetally.engine.resources import PRICE
from kubetally.history import ClusterHistory

CONTAINER_KEY = ["cluster", "pod_uid", "container"]
POD_KEY = ["cluster", "pod_uid"]


@dataclass(frozen=True)
class Keys:
    """Identity tables of one computation.

    ``nodes``: one row per priced node: ``nid``, ``cluster``, ``node`` and the NODE_PRICES columns.
    ``containers``: one row per container that can carry cost: ``cid``, the container key, the pod's
    ``namespace``/``pod``/``node``, the node's ``nid``, unit prices and ``price_source``, and the requests
    ``req_cpu``/``req_ram``/``req_gpu``. It holds the spec containers, containers that ran without being in their
    pod's spec, and a null-named container for each pod whose spec lists none.
    ``members``: ``cluster``, ``pod_uid``, ``cid``, ``fraction``: how a pod's share of storage, load balancer and
    network cost is divided among its spec containers (evenly).
    """

    nodes: pl.DataFrame
    containers: pl.DataFrame
    members: pl.DataFrame


def build_keys(history: ClusterHistory, node_prices: pl.DataFrame) -> Keys:
    """Number nodes and containers and attach what every per-container row needs.

    Numbers follow the sort order of the node and container keys, so they do not depend on row order.
    """
    nodes = (
        node_prices.unique(["cluster", "node"], keep="first", maintain_order=True)
        .sort("cluster", "node")
        .with_row_index("nid")
        .with_columns(pl.col("nid").cast(pl.Int64))
    )
    spec = history.containers.select(
        *CONTAINER_KEY,
        pl.col("cpu_request_cores").alias("req_cpu"),
        pl.col("ram_request_bytes").alias("req_ram"),
        pl.col("gpu_request").alias("req_gpu"),
    ).unique(CONTAINER_KEY, keep="first")
    unlisted = history.container_intervals.select(CONTAINER_KEY).unique().join(spec, on=CONTAINER_KEY, how="anti")
    known_pods = pl.concat(
        [history.pods.select(POD_KEY), history.egress.select(POD_KEY), history.pod_intervals.select(POD_KEY)]
    ).unique()
    empty_pods = known_pods.join(spec, on=POD_KEY, how="anti").with_columns(
        pl.lit(None, dtype=pl.String).alias("container")
    )
    everyone = pl.concat([spec, unlisted, empty_pods], how="diagonal_relaxed").with_columns(
        pl.col("req_cpu", "req_ram", "req_gpu").fill_null(0.0)
    )
    pods = history.pods.unique(POD_KEY, keep="first").select(*POD_KEY, "namespace", "pod", "node")
    containers = (
        everyone.sort(CONTAINER_KEY, nulls_last=True)
        .with_row_index("cid")
        .with_columns(pl.col("cid").cast(pl.Int64))
        .join(pods, on=POD_KEY, how="left", maintain_order="left")
        .join(
            nodes.select("nid", "cluster", "node", *PRICE.values(), "price_source"), on=["cluster", "node"], how="left"
        )
    )
    spec_count = spec.group_by(POD_KEY).agg(pl.len().alias("__n"))
    members = (
        pl.concat([spec.select(CONTAINER_KEY), empty_pods.select(CONTAINER_KEY)])
        .join(
            containers.select(*CONTAINER_KEY, "cid"),
            on=CONTAINER_KEY,
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .join(spec_count, on=POD_KEY, how="left", maintain_order="left")
        .select(*POD_KEY, "cid", (1.0 / pl.col("__n").fill_null(1).cast(pl.Float64)).alias("fraction"))
    )
    return Keys(nodes=nodes, containers=containers, members=members)

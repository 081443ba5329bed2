"""``compute``: a ClusterHistory, a PriceBook and a BillingPolicy in, ledger-ready cost rows out."""

from __future__ import annotations

import polars as pl

from kubetally.costs import ALLOCATION_LBS, ALLOCATION_PVS, COST_SCHEMAS, CostResult
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine import assets as asset_parts
from kubetally.engine.balancers import balancers, load_balancer_services
from kubetally.engine.canonical import canonical
from kubetally.engine.compute_time import compute_rows
from kubetally.engine.ids import build_keys
from kubetally.engine.network import container_network, network_totals, pod_network
from kubetally.engine.nodes import adjust_overcommit, idle_rows, node_hours
from kubetally.engine.rows import (
    WORKLOAD_KEY,
    conform,
    idle_allocations,
    pod_dimensions,
    unmounted_rows,
    workload_rows,
)
from kubetally.engine.storage import storage
from kubetally.engine.timeline import ENGINE
from kubetally.history import ClusterHistory

PV_ORDER = ["cluster", "hour", "kind", "namespace", "pod_uid", "container", "pv"]
LB_ORDER = ["cluster", "hour", "kind", "namespace", "pod_uid", "container", "service"]
"""Row orders of ``allocation_pvs`` and ``allocation_lbs``; like every output frame, they do not vary between runs."""


def history_clusters(history: ClusterHistory) -> list[str]:
    """Every cluster named by a table that carries cost: nodes, volumes, services or egress."""
    frames = (history.nodes, history.volumes, history.services, history.egress)
    return sorted(set().union(*(frame.get_column("cluster").unique().to_list() for frame in frames)))


def compute(history: ClusterHistory, prices: PriceBook, policy: BillingPolicy) -> CostResult:
    """Cost every container, node, volume, load balancer and egress byte of ``history`` per hour bucket.

    The steps follow docs/cost-model.md in order, because each needs the previous one: prices (R3) before any
    cost; node capacity per bucket (R4) before the over-commit adjustment (R5), which needs every container's
    billed quantity (R1–R3) on the node; idle (R6) only after the adjustment; storage (R7), load balancers (R8)
    and network (R9) do not depend on compute and join the workload rows (R11) at the end.

    The tables of ``history`` are first put in their canonical row order, so the result does not depend on the
    order of the input rows, to the last bit.

    A container on a pod whose node is not in the history is charged nothing (there is no node cost to divide);
    its time and usage are kept.
    """
    history = canonical(history)
    node_prices = prices.node_prices(history.nodes, history.observed_node_prices)
    volume_prices = prices.volume_prices(history.volumes, history.observed_volume_prices)
    lb_prices = prices.lb_prices(load_balancer_services(history), history.observed_lb_prices)
    cluster_prices = prices.cluster_prices(history_clusters(history), history.observed_cluster_prices)

    keys = build_keys(history, node_prices)
    nodes, charged = pl.collect_all([node_hours(history, keys), compute_rows(history, keys, policy)], engine=ENGINE)
    adjusted = adjust_overcommit(charged.lazy(), nodes.lazy()).collect(engine=ENGINE).lazy()
    disks = storage(history, keys, volume_prices)
    lbs = balancers(history, keys, lb_prices)
    egress = pod_network(history, cluster_prices).collect(engine=ENGINE).lazy()
    network = network_totals(egress).collect(engine=ENGINE).lazy()

    unique_parts = [adjusted.drop("nid"), container_network(egress, keys)]
    parts = [
        disks.details.lazy().filter(pl.col("kind") == "workload").select(*WORKLOAD_KEY, "pv_byte_hours", "pv_cost"),
        lbs.details.lazy().filter(pl.col("kind") == "workload").select(*WORKLOAD_KEY, "load_balancer_cost"),
    ]
    unmounted = [
        disks.unmounted.lazy().select("cluster", "hour", "namespace", "pv_byte_hours", "pv_cost", "price_source"),
        lbs.unmounted.lazy().select("cluster", "hour", "namespace", "load_balancer_cost", "price_source"),
    ]
    allocations = pl.concat(
        [
            workload_rows(keys, unique_parts, parts),
            unmounted_rows(unmounted),
            idle_allocations(idle_rows(adjusted, nodes.lazy())),
        ]
    )
    assets = asset_parts.asset_rows(
        [
            asset_parts.node_assets(nodes.lazy()),
            asset_parts.disk_assets(disks.assets.lazy()),
            asset_parts.load_balancer_assets(lbs.assets.lazy()),
            asset_parts.network_assets(network),
            asset_parts.management_assets(history.start, history.end, cluster_prices),
        ]
    ).sort("cluster", "hour", "type", "name")
    frames = pl.collect_all(
        engine=ENGINE,
        lazy_frames=[
            allocations,
            conform(disks.details.lazy(), ALLOCATION_PVS).sort(PV_ORDER, nulls_last=True),
            conform(lbs.details.lazy(), ALLOCATION_LBS).sort(LB_ORDER, nulls_last=True),
            pod_dimensions(history).sort("cluster", "pod_uid"),
            assets,
        ],
    )
    result = CostResult(*frames)
    check_schemas(result)
    return result


def check_schemas(result: CostResult) -> None:
    """Raise AssertionError when an output frame lacks its CostResult schema (a defect of the engine)."""
    for name, schema in COST_SCHEMAS.items():
        frame: pl.DataFrame = getattr(result, name)
        if frame.schema != schema:
            raise AssertionError(f"engine produced {name} with schema {frame.schema}, expected {schema}")

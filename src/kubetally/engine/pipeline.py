"""``compute``: a ClusterHistory, a PriceBook and a BillingPolicy in, ledger-ready cost rows out."""

from __future__ import annotations

import polars as pl

from kubetally.costs import ALLOCATION_LBS, ALLOCATION_PVS, ALLOCATIONS, ASSETS, CostResult
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.engine import assets as asset_parts
from kubetally.engine.balancers import balancers, load_balancer_services
from kubetally.engine.compute_time import check_priced, compute_rows
from kubetally.engine.network import network, network_assets
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
from kubetally.history import ClusterHistory


def history_clusters(history: ClusterHistory) -> list[str]:
    """Every cluster named by a table that carries cost: nodes, volumes, services or egress."""
    frames = (history.nodes, history.volumes, history.services, history.egress)
    return sorted(set().union(*(frame.get_column("cluster").unique().to_list() for frame in frames)))


def compute(history: ClusterHistory, prices: PriceBook, policy: BillingPolicy) -> CostResult:
    """Cost every container, node, volume, load balancer and egress byte of ``history`` per hour bucket.

    The steps follow docs/cost-model.md in order, because each needs the previous one: prices (R3) before any
    cost; node capacity per bucket (R4) before the over-commit adjustment (R5), which needs every container's
    billed quantity (R1–R3) on the node; idle (R6) only after the adjustment; storage (R7), load balancers (R8)
    and network (R9) are independent of compute and are added to the workload rows (R11) at the end.
    """
    node_prices = prices.node_prices(history.nodes, history.observed_node_prices)
    volume_prices = prices.volume_prices(history.volumes, history.observed_volume_prices)
    lb_prices = prices.lb_prices(load_balancer_services(history), history.observed_lb_prices)
    cluster_prices = prices.cluster_prices(history_clusters(history), history.observed_cluster_prices)

    nodes = node_hours(history, node_prices).collect().lazy()
    compute_part = compute_rows(history, node_prices, policy).collect()
    check_priced(compute_part)
    adjusted = adjust_overcommit(compute_part.lazy(), nodes).collect().lazy()
    disks = storage(history, volume_prices)
    lbs = balancers(history, lb_prices)
    egress = network(history, cluster_prices)

    per_container = [
        adjusted.drop("node"),
        disks.details.filter(pl.col("kind") == "workload").select(*WORKLOAD_KEY, "pv_byte_hours", "pv_cost"),
        lbs.details.filter(pl.col("kind") == "workload").select(*WORKLOAD_KEY, "load_balancer_cost"),
        egress,
    ]
    unmounted = [
        disks.unmounted.select("cluster", "hour", "namespace", "pv_byte_hours", "pv_cost", "price_source"),
        lbs.unmounted.select("cluster", "hour", "namespace", "load_balancer_cost", "price_source"),
    ]
    allocations = pl.concat(
        [
            workload_rows(history, node_prices, per_container),
            unmounted_rows(unmounted),
            idle_allocations(idle_rows(adjusted, nodes)),
        ]
    ).sort("cluster", "hour", "kind", "node", "namespace", "pod", "container", nulls_last=True)
    assets = asset_parts.asset_rows(
        [
            asset_parts.node_assets(nodes),
            asset_parts.disk_assets(disks.assets),
            asset_parts.load_balancer_assets(lbs.assets),
            asset_parts.network_assets(network_assets(egress)),
            asset_parts.management_assets(history.start, history.end, cluster_prices),
        ]
    ).sort("cluster", "hour", "type", "name")
    frames = pl.collect_all(
        [
            allocations,
            conform(disks.details, ALLOCATION_PVS).sort("cluster", "hour", "kind", "pv", "pod_uid", "container"),
            conform(lbs.details, ALLOCATION_LBS).sort("cluster", "hour", "kind", "service", "pod_uid", "container"),
            pod_dimensions(history).sort("cluster", "pod_uid"),
            assets,
        ]
    )
    result = CostResult(*frames)
    check_schemas(result)
    return result


def check_schemas(result: CostResult) -> None:
    """Assert the output frames have the CostResult schemas (a programming error otherwise)."""
    for frame, schema in ((result.allocations, ALLOCATIONS), (result.assets, ASSETS)):
        if frame.schema != schema:
            raise AssertionError(f"engine produced schema {frame.schema}, expected {schema}")

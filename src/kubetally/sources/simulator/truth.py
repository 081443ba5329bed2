"""The ground truth: docs/cost-model.md rules R1–R11 applied to a simulation's event timeline, one container and
one hour bucket at a time.

This is a reference computation, written to be read against the rules rather than to be fast: plain loops over
pods, containers, hours and time segments, reading the simulation itself (not its ClusterHistory) and sharing no
code with the engine it checks. Only unit prices come from the PriceBook.

Conventions where the rules leave a choice: ``unmounted`` rows carry ``pod = container = "__unmounted__"`` and no
``pod_uid`` or ``node``; ``idle`` rows carry the node and the idle quantities ``max(0, capacity − allocated)``
with ``running_minutes`` the node's minutes in the bucket.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import polars as pl

from kubetally.costs import ALLOCATIONS
from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.domain.pricing import GIB, NodePrice, NodeSpec, PriceBook
from kubetally.sources.simulator.model import SimPod, Simulation, Span, overlap
from kubetally.sources.simulator.truth_assets import AssetLedger

UNMOUNTED = "__unmounted__"
RESOURCES = ("cpu", "ram", "gpu")
Row = dict[str, Any]


@dataclass(frozen=True)
class Truth:
    """Exact costs of a simulation: ``allocations`` (ALLOCATIONS schema) and ``assets`` (ASSETS schema)."""

    allocations: pl.DataFrame
    assets: pl.DataFrame


def ground_truth(sim: Simulation, prices: PriceBook, policy: BillingPolicy) -> Truth:
    """Every allocation and asset row of ``sim`` under ``prices`` and ``policy``."""
    return _Reference(sim, prices, policy).run()


def _bounds(spans: list[Span], start: int, end: int) -> tuple[int | None, int | None]:
    """The first and last instant (seconds) of ``spans`` within ``[start, end)``; None when they do not meet it."""
    inside = [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]
    if not inside:
        return None, None
    return min(s for s, _ in inside), max(e for _, e in inside)


def _blank(**keys: Any) -> Row:
    row: Row = dict.fromkeys(ALLOCATIONS, 0.0)
    row.update(node=None, namespace=None, pod=None, pod_uid=None, container=None, price_source=None)
    row.update(running_start=None, running_end=None)
    row.update(keys)
    return row


class _Reference:
    def __init__(self, sim: Simulation, prices: PriceBook, policy: BillingPolicy) -> None:
        self.sim, self.prices, self.policy = sim, prices, policy
        self.node_prices: dict[tuple[str, str], NodePrice] = {
            (n.cluster, n.name): prices.node_price(
                NodeSpec(n.cluster, n.name, n.instance_type, n.region, n.labels, n.cpu_cores, n.ram_bytes, n.gpu_count)
            )
            for n in sim.nodes
        }
        self.workload: dict[tuple[str, str, str, int], Row] = {}
        self.unmounted: dict[tuple[str, int, str | None], Row] = {}
        self.assets = AssetLedger(sim, prices, self.node_prices)

    def run(self) -> Truth:
        self.compute()
        self.overcommit_and_idle()
        self.storage()
        self.load_balancers()
        self.network()
        rows = [*self.workload.values(), *self.unmounted.values(), *self.idle]
        for row in rows:
            row["total_cost"] = (
                sum(row[f"{r}_cost"] + row[f"{r}_cost_adjustment"] for r in RESOURCES)
                + row["pv_cost"]
                + row["network_cost"]
                + row["load_balancer_cost"]
            )
            row["hour"] = self.sim.at(row["hour"] * 3600)
            for bound in ("running_start", "running_end"):
                row[bound] = None if row[bound] is None else self.sim.at(row[bound])
        allocations = pl.DataFrame(rows, schema=ALLOCATIONS).sort(
            ["cluster", "hour", "kind", "node", "namespace", "pod", "container"], nulls_last=True
        )
        return Truth(allocations=allocations, assets=self.assets.frame())

    def row(self, pod: SimPod, container: str, hour: int) -> Row:
        """The workload row of one container and bucket, created empty when first needed."""
        key = (pod.cluster, pod.uid, container, hour)
        if key not in self.workload:
            assert pod.node is not None
            self.workload[key] = _blank(
                cluster=pod.cluster,
                hour=hour,
                kind="workload",
                node=pod.node,
                namespace=pod.namespace,
                pod=pod.name,
                pod_uid=pod.uid,
                container=container,
                price_source=self.node_prices[(pod.cluster, pod.node)].source,
            )
        return self.workload[key]

    def unmounted_row(self, cluster: str, hour: int, namespace: str | None, source: str) -> Row:
        key = (cluster, hour, namespace)
        if key not in self.unmounted:
            self.unmounted[key] = _blank(
                cluster=cluster,
                hour=hour,
                kind="unmounted",
                namespace=namespace,
                pod=UNMOUNTED,
                container=UNMOUNTED,
                price_source=source,
            )
        return self.unmounted[key]

    def billed(self, request: float, usage: float) -> float:
        """R2: the billed quantity of one resource."""
        mode = self.policy.mode
        if mode is BillingMode.REQUEST:
            return request
        if mode is BillingMode.USAGE:
            return usage
        return max(request, usage)

    def compute(self) -> None:
        """R1–R3: running time, billed quantities and compute cost per container and bucket."""
        minimum = self.policy.minimum_runtime_seconds
        for pod in self.sim.pods:
            if pod.node is None:
                continue
            price = self.node_prices[(pod.cluster, pod.node)]
            unit = {
                "cpu": price.cpu_price_per_core_hour,
                "ram": price.ram_price_per_gib_hour / GIB,
                "gpu": price.gpu_price_per_gpu_hour,
            }
            for c in pod.containers:
                for hour in range(self.sim.hours):
                    lo, hi = hour * 3600, hour * 3600 + 3600
                    running, waiting = overlap(c.running, lo, hi), overlap(c.waiting, lo, hi)
                    billed = float(running) if running == 0 or running >= minimum else minimum
                    billed = min(billed, 3600.0)
                    waiting_charged = float(waiting) if self.policy.charge_reserved_waiting else 0.0
                    if billed == 0 and waiting_charged == 0:
                        continue
                    t = billed / 3600.0
                    if running > 0:
                        cpu_core_seconds = self.sim.cpu_cores[c.index, hour] * running
                        usage = {
                            "cpu": cpu_core_seconds / running,
                            "ram": float(self.sim.ram_bytes[c.index, hour]),
                            "gpu": float(self.sim.gpu_usage[c.index, hour]),
                        }
                        peaks = (float(self.sim.cpu_cores[c.index, hour]), float(self.sim.ram_bytes[c.index, hour]))
                    else:
                        usage, peaks = dict.fromkeys(RESOURCES, 0.0), (0.0, 0.0)
                    request = {"cpu": c.cpu_request_cores, "ram": c.ram_request_bytes, "gpu": c.gpu_request}
                    quantity = {
                        r: self.billed(request[r], usage[r]) * t + request[r] * waiting_charged / 3600.0
                        for r in RESOURCES
                    }
                    charged = c.running + (c.waiting if self.policy.charge_reserved_waiting else [])
                    first, last = _bounds(charged, lo, hi)
                    row = self.row(pod, c.name, hour)
                    row.update(
                        running_start=first,
                        running_end=last,
                        running_minutes=(billed + waiting_charged) / 60.0,
                        cpu_core_request_average=request["cpu"],
                        cpu_core_usage_average=usage["cpu"],
                        cpu_core_usage_max=peaks[0],
                        cpu_core_hours=quantity["cpu"],
                        cpu_cost=quantity["cpu"] * unit["cpu"],
                        ram_byte_request_average=request["ram"],
                        ram_byte_usage_average=usage["ram"],
                        ram_byte_usage_max=peaks[1],
                        ram_byte_hours=quantity["ram"],
                        ram_cost=quantity["ram"] * unit["ram"],
                        gpu_request_average=request["gpu"],
                        gpu_usage_average=usage["gpu"],
                        gpu_hours=quantity["gpu"],
                        gpu_cost=quantity["gpu"] * unit["gpu"],
                    )

    def overcommit_and_idle(self) -> None:
        """R4–R6: node assets, pro-rata over-commit adjustments, and one idle row per node and bucket."""
        self.idle: list[Row] = []
        quantity_column = {"cpu": "cpu_core_hours", "ram": "ram_byte_hours", "gpu": "gpu_hours"}
        on_node: dict[tuple[str, str | None, int], list[Row]] = {}
        for (cluster, _, _, h), row in self.workload.items():
            on_node.setdefault((cluster, row["node"], h), []).append(row)
        for node in self.sim.nodes:
            price = self.node_prices[(node.cluster, node.name)]
            capacity = {"cpu": node.cpu_cores, "ram": node.ram_bytes, "gpu": node.gpu_count}
            for hour in range(self.sim.hours):
                node_hours = overlap(node.spans, hour * 3600, hour * 3600 + 3600) / 3600.0
                if node_hours == 0:
                    continue
                asset = self.assets.node(node, hour, node_hours)
                rows = on_node.get((node.cluster, node.name, hour), [])
                first, last = _bounds(node.spans, hour * 3600, hour * 3600 + 3600)
                idle = _blank(
                    running_start=first,
                    running_end=last,
                    cluster=node.cluster,
                    hour=hour,
                    kind="idle",
                    node=node.name,
                    running_minutes=node_hours * 60.0,
                    price_source=price.source,
                )
                for r in RESOURCES:
                    allocated = sum(row[quantity_column[r]] for row in rows)
                    available = capacity[r] * node_hours
                    for row in rows:
                        row[f"{r}_cost_adjustment"] = (
                            row[f"{r}_cost"] * (available / allocated - 1.0) if allocated > available else 0.0
                        )
                    charged = sum(row[f"{r}_cost"] + row[f"{r}_cost_adjustment"] for row in rows)
                    idle[f"{r}_cost"] = max(0.0, asset[f"{r}_cost"] - charged)
                    idle[quantity_column[r]] = max(0.0, available - allocated)
                self.idle.append(idle)

    def segments(self, span: Span, hour: int, pods: list[SimPod]) -> list[tuple[int, int, list[SimPod]]]:
        """R7: the object's time in the bucket cut at the running-interval boundaries of ``pods``."""
        lo, hi = max(span[0], hour * 3600), min(span[1], hour * 3600 + 3600)
        if lo >= hi:
            return []
        cuts = {lo, hi}
        for pod in pods:
            cuts.update(t for s, e in pod.running for t in (s, e) if lo < t < hi)
        points = sorted(cuts)
        out = []
        for a, b in itertools.pairwise(points):
            present = [p for p in pods if any(s <= a and b <= e for s, e in p.running)]
            out.append((a, b, present))
        return out

    def share(self, pods: list[SimPod], hour: int, values: dict[str, float]) -> None:
        """Give each pod an even part of ``values``, split evenly among the containers of its spec."""
        for pod in pods:
            for container in pod.containers:
                row = self.row(pod, container.name, hour)
                for column, value in values.items():
                    row[column] += value / len(pods) / len(pod.containers)

    def storage(self) -> None:
        """R7: disk assets, each segment's cost to its running mounting pods or to ``__unmounted__``."""
        for volume in self.sim.volumes:
            price, source = self.assets.volume_price(volume)
            mounting = [
                p
                for p in self.sim.pods
                if p.cluster == volume.cluster
                and volume.claim is not None
                and p.namespace == volume.claim_namespace
                and volume.claim in p.claims
            ]
            for hour in range(self.sim.hours):
                pieces = self.segments(volume.span, hour, mounting)
                if not pieces:
                    continue
                self.assets.disk(volume, hour, sum(b - a for a, b, _ in pieces) / 3600.0, price, source)
                for a, b, present in pieces:
                    byte_hours = volume.capacity_bytes * (b - a) / 3600.0
                    values = {"pv_byte_hours": byte_hours, "pv_cost": byte_hours / GIB * price}
                    if present:
                        self.share(present, hour, values)
                    else:
                        row = self.unmounted_row(volume.cluster, hour, volume.claim_namespace, source)
                        for column, value in values.items():
                            row[column] += value

    def load_balancers(self) -> None:
        """R8: load balancer assets, split by segments among the running pods each service selects."""
        by_uid = {(p.cluster, p.uid): p for p in self.sim.pods}
        for service in self.sim.services:
            if service.service_type != "LoadBalancer":
                continue
            price, source = self.assets.lb_price(service)
            selected = [by_uid[(service.cluster, uid)] for uid in service.pod_uids]
            for hour in range(self.sim.hours):
                pieces = self.segments(service.span, hour, selected)
                if not pieces:
                    continue
                self.assets.load_balancer(service, hour, sum(b - a for a, b, _ in pieces) / 3600.0, price, source)
                for a, b, present in pieces:
                    values = {"load_balancer_cost": price * (b - a) / 3600.0}
                    if present:
                        self.share(present, hour, values)
                    else:
                        row = self.unmounted_row(service.cluster, hour, service.namespace, source)
                        row["load_balancer_cost"] += values["load_balancer_cost"]

    def network(self) -> None:
        """R9: egress by class per pod and bucket, priced, split evenly among the pod's containers."""
        for pod in self.sim.pods:
            if pod.node is None:
                continue
            egress = self.assets.egress_prices(pod.cluster)
            for hour in range(self.sim.hours):
                seconds = overlap(pod.running, hour * 3600, hour * 3600 + 3600)
                if seconds == 0:
                    continue
                zone, region, internet, receive = (
                    float(self.sim.egress_bytes_per_second[pod.index, hour, k]) * seconds for k in range(4)
                )
                if zone + region + internet + receive == 0:
                    continue
                costs = {
                    "network_cross_zone_cost": zone / GIB * egress["zone"],
                    "network_cross_region_cost": region / GIB * egress["region"],
                    "network_internet_cost": internet / GIB * egress["internet"],
                }
                network_cost = sum(costs.values())
                self.share(
                    [pod],
                    hour,
                    {
                        **costs,
                        "network_cost": network_cost,
                        "network_transfer_bytes": zone + region + internet,
                        "network_receive_bytes": receive,
                    },
                )
                self.assets.network(pod.cluster, hour, zone + region + internet, network_cost)

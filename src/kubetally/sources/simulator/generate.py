"""Expanding a scenario into a simulation: nodes, pods and their intervals, hourly usage and egress.

Every random choice comes from generators seeded with the scenario's seed (or the one given), in a fixed order,
so the same scenario and seed always give the same cluster.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from kubetally.errors import InvalidParameter
from kubetally.sources.simulator.model import (
    GIB,
    SimContainer,
    SimNamespace,
    SimNode,
    SimPod,
    SimService,
    Simulation,
    SimVolume,
    Span,
)
from kubetally.sources.simulator.scenario import (
    MAX_CONTAINER_HOURS,
    MAX_HOURS,
    MAX_PODS,
    Cluster,
    Scenario,
    Workload,
    container_hours,
    pod_count,
)

_SUFFIX = "bcdfghjklmnpqrstvwxz2456789"
_SPOT_LABEL = "eks.amazonaws.com/capacityType"


def simulate(
    scenario: Scenario,
    *,
    seed: int | None = None,
    start: datetime | None = None,
    hours: int | None = None,
    now: datetime,
) -> Simulation:
    """The simulation of ``scenario`` over ``hours`` (default: the scenario's) whole hours.

    Without ``start`` the window ends at the last full hour before ``now``.
    """
    if hours is not None and not 1 <= hours <= MAX_HOURS:
        raise InvalidParameter("hours", f"must be from 1 to {MAX_HOURS}, got {hours}")
    length = hours if hours is not None else scenario.hours
    pods, size = pod_count(scenario, length), container_hours(scenario, length)
    if pods > MAX_PODS:
        raise InvalidParameter("hours", f"{length} hours give {pods:,.0f} pods, more than the limit of {MAX_PODS:,}")
    if size > MAX_CONTAINER_HOURS:
        raise InvalidParameter(
            "hours", f"{length} hours give {size:.3g} container-hours, more than the limit of {MAX_CONTAINER_HOURS:,}"
        )
    if now.tzinfo is None:
        raise InvalidParameter("now", "must be timezone-aware")
    if start is None:
        end = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        start = end - timedelta(hours=length)
    elif start.tzinfo is None:
        raise InvalidParameter("start", f"{start.isoformat()} has no time zone")
    elif (start.minute, start.second, start.microsecond) != (0, 0, 0):
        raise InvalidParameter("start", f"must be a whole hour, got {start.isoformat()}")
    elif start > now:
        raise InvalidParameter("start", f"{start.isoformat()} is in the future (now is {now.isoformat()})")
    seed = scenario.seed if seed is None else seed
    builder = _Builder(scenario, seed, start.astimezone(UTC), length)
    for cluster in scenario.clusters:
        builder.add_cluster(cluster)
    return builder.finish()


_CRON_TIMESTAMP = re.compile(r"(.+)-(?:[0-9]{10}|[0-9]{8})")


def ledger_controller(kind: str, workload: str, owner: str | None) -> tuple[str | None, str | None, str | None]:
    """(controller_kind, controller, cronjob) a ledger reports for a pod of a ``kind`` workload whose owner
    reference names ``owner``, by docs/query-language.md "Controllers" (OpenCost's naming): the lower-case
    workload kind and name; for a Job's pods kind ``job`` and the Job's name without a trailing 8- or 10-digit
    timestamp, the CronJob's name in ``cronjob``; nothing for a bare pod."""
    if kind == "Pod":
        return None, None, None
    if kind in ("Job", "CronJob"):
        job = owner or workload
        match = _CRON_TIMESTAMP.fullmatch(job)
        return "job", match.group(1) if match else job, workload if kind == "CronJob" else None
    return kind.lower(), workload, None


def _stable_hex(*parts: object) -> str:
    return hashlib.sha256("/".join(str(part) for part in parts).encode()).hexdigest()


def _subtract(spans: list[Span], cut: Span) -> list[Span]:
    out: list[Span] = []
    for s, e in spans:
        if cut[1] <= s or cut[0] >= e:
            out.append((s, e))
            continue
        if s < cut[0]:
            out.append((s, cut[0]))
        if cut[1] < e:
            out.append((cut[1], e))
    return out


@dataclass
class _Usage:
    """Per-container scenario parameters from which the hourly matrices are drawn."""

    cpu: float
    ram: float
    gpu: float
    jitter: float
    diurnal: float


class _Builder:
    def __init__(self, scenario: Scenario, seed: int, start: datetime, hours: int) -> None:
        self.scenario, self.seed, self.start, self.hours = scenario, seed, start, hours
        self.horizon = hours * 3600
        self.choices = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.regions: dict[str, str] = {}
        self.nodes: list[SimNode] = []
        self.namespaces: list[SimNamespace] = []
        self.pods: list[SimPod] = []
        self.volumes: list[SimVolume] = []
        self.services: list[SimService] = []
        self.usage: list[_Usage] = []
        self.egress: list[tuple[float, float, float, float, float, float]] = []
        self.taken: set[tuple[str, str, str]] = set()

    def clip(self, start: float, end: float | None) -> Span:
        return (min(round(start), self.horizon), min(round(end) if end is not None else self.horizon, self.horizon))

    def add_cluster(self, cluster: Cluster) -> None:
        self.regions[cluster.name] = cluster.region
        groups = self.add_nodes(cluster)
        namespaces = {ns.name: ns for ns in cluster.namespaces}
        for name in sorted({*namespaces, *(w.namespace for w in cluster.workloads)}):
            declared = namespaces.get(name)
            self.namespaces.append(
                SimNamespace(
                    cluster.name,
                    name,
                    dict(declared.labels) if declared else {},
                    dict(declared.annotations) if declared else {},
                )
            )
        by_workload: dict[tuple[str, str], list[SimPod]] = {}
        for workload in cluster.workloads:
            candidates = [n for g in (workload.nodes or list(groups)) for n in groups.get(g, [])]
            by_workload[(workload.namespace, workload.name)] = self.add_workload(cluster, workload, candidates)
        for volume in cluster.volumes:
            self.volumes.append(
                SimVolume(
                    cluster=cluster.name,
                    name=volume.name,
                    storage_class=volume.storage_class,
                    capacity_bytes=volume.capacity_gib * GIB,
                    provider_id=f"vol-{_stable_hex(cluster.name, volume.name)[:17]}",
                    claim_namespace=volume.namespace,
                    claim=volume.claim,
                    span=self.clip(volume.start, volume.end),
                )
            )
        for index, service in enumerate(cluster.services):
            public = service.type == "LoadBalancer" and not service.private
            ip = service.ip or (f"203.0.113.{10 + index}" if public else f"10.96.{len(self.services)}.{index + 1}")
            pods = [p.uid for name in service.selects for p in by_workload[(service.namespace, name)]]
            self.services.append(
                SimService(
                    cluster=cluster.name,
                    namespace=service.namespace,
                    name=service.name,
                    service_type=service.type,
                    ip=ip,
                    private=service.private,
                    span=self.clip(service.start, service.end),
                    pod_uids=pods,
                )
            )

    def add_nodes(self, cluster: Cluster) -> dict[str, list[SimNode]]:
        """The nodes of a cluster that exist in the window, by node group name."""
        groups: dict[str, list[SimNode]] = {}
        for group in cluster.nodes:
            for i in range(group.count):
                name = group.name if group.count == 1 else f"{group.name}-{i}"
                span = self.clip(group.start, group.end)
                if span[0] >= span[1]:
                    continue
                labels = {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/arch": group.arch,
                    "kubernetes.io/os": "linux",
                    "node.kubernetes.io/instance-type": group.instance_type,
                    "topology.kubernetes.io/region": cluster.region,
                    "topology.kubernetes.io/zone": group.zone,
                    _SPOT_LABEL: "SPOT" if group.capacity_type == "spot" else "ON_DEMAND",
                    **group.labels,
                }
                node = SimNode(
                    cluster=cluster.name,
                    name=name,
                    provider_id=f"aws:///{group.zone}/i-{_stable_hex(cluster.name, name)[:17]}",
                    instance_type=group.instance_type,
                    region=cluster.region,
                    zone=group.zone,
                    arch=group.arch,
                    capacity_type=group.capacity_type,
                    labels=labels,
                    cpu_cores=group.cpu_cores,
                    ram_bytes=group.ram_gib * GIB,
                    gpu_count=group.gpus,
                    gpu_model=group.gpu_model,
                    spans=[span],
                )
                self.nodes.append(node)
                groups.setdefault(group.name, []).append(node)
        return groups

    def suffix(self, length: int) -> str:
        return "".join(self.choices.choice(_SUFFIX) for _ in range(length))

    def pod_name(self, cluster: str, namespace: str, base: str) -> str:
        while True:
            name = f"{base}-{self.suffix(5)}"
            if (cluster, namespace, name) not in self.taken:
                self.taken.add((cluster, namespace, name))
                return name

    def place(self, candidates: list[SimNode], span: Span, turn: int) -> tuple[SimNode | None, Span]:
        """A node alive over the whole span (round-robin from a seeded offset), else the longest overlap."""
        alive = [n for n in candidates if n.spans[0][0] <= span[0] and span[1] <= n.spans[0][1]]
        if alive:
            return alive[turn % len(alive)], span
        best = max(candidates, key=lambda n: min(n.spans[0][1], span[1]) - max(n.spans[0][0], span[0]), default=None)
        if best is None:
            return None, span
        return best, (max(span[0], best.spans[0][0]), min(span[1], best.spans[0][1]))

    def add_workload(self, cluster: Cluster, workload: Workload, candidates: list[SimNode]) -> list[SimPod]:
        """The pods of one workload, as (name, span, node) expanded from its kind."""
        kind, ns = workload.kind, workload.namespace
        span = self.clip(workload.start, workload.end)
        plans: list[tuple[str, Span, SimNode | None]] = []
        owner: tuple[str | None, str | None] = (kind, workload.name)
        offset = self.choices.randrange(max(1, len(candidates)))
        if kind == "DaemonSet":
            for member in candidates:
                life = (max(span[0], member.spans[0][0]), min(span[1], member.spans[0][1]))
                plans.append((self.pod_name(cluster.name, ns, workload.name), life, member))
        elif kind == "CronJob":
            assert workload.every is not None and workload.duration is not None
            t = workload.start
            while t < span[1]:
                job = f"{workload.name}-{int((self.start.timestamp() + t) // 60)}"
                life = self.clip(t, t + workload.duration)
                node, life = self.place(candidates, life, offset + len(plans))
                plans.append((self.pod_name(cluster.name, ns, job), life, node))
                t += workload.every
        else:
            if kind == "Deployment":
                base = f"{workload.name}-{self.suffix(9)}"
                owner = ("ReplicaSet", base)
            for i in range(workload.replicas):
                life = span
                if kind == "Job":
                    assert workload.duration is not None
                    life = self.clip(workload.start, workload.start + workload.duration)
                if kind == "StatefulSet":
                    name = f"{workload.name}-{i}"
                    self.taken.add((cluster.name, ns, name))
                elif kind == "Pod":
                    name = workload.name if workload.replicas == 1 else f"{workload.name}-{i}"
                    self.taken.add((cluster.name, ns, name))
                else:
                    name = self.pod_name(cluster.name, ns, base if kind == "Deployment" else workload.name)
                node, life = self.place(candidates, life, offset + i)
                plans.append((name, life, node))
        return [
            self.add_pod(cluster, workload, name=name, life=life, node=node, owner=owner)
            for name, life, node in plans
            if life[0] < life[1]
        ]

    def add_pod(
        self,
        cluster: Cluster,
        workload: Workload,
        *,
        name: str,
        life: Span,
        node: SimNode | None,
        owner: tuple[str | None, str | None],
    ) -> SimPod:
        kind = workload.kind
        if workload.state == "pending":
            node = None
        uid = str(uuid.UUID(_stable_hex(self.seed, cluster.name, workload.namespace, name)[:32], version=4))
        state = workload.state if node is not None else "pending"
        running: list[Span] = [life] if state == "running" and life[0] < life[1] else []
        for stop in workload.stops:
            cut = self.clip(*stop)
            running = [s for s in _subtract(running, cut) if s[0] < s[1]]
        lives = list(running) if running and workload.stops else [life]
        containers = self.add_containers(workload, state, life, running)
        top = {
            "Job": ("Job", workload.name),
            "CronJob": ("CronJob", workload.name),
            "Pod": (None, None),
        }.get(kind, (kind, workload.name))
        if kind == "CronJob":
            owner = ("Job", name.rsplit("-", 1)[0])
        elif kind == "Pod":
            owner = (None, None)
        controller = ledger_controller(kind, workload.name, owner[1])
        claims = self.add_claims(cluster, workload, name, life)
        e = workload.egress
        self.egress.append(
            (
                e.zone_gib_per_hour,
                e.region_gib_per_hour,
                e.internet_gib_per_hour,
                e.receive_gib_per_hour,
                workload.jitter,
                workload.diurnal,
            )
        )
        labels = dict(workload.labels)
        if kind == "StatefulSet":
            labels["statefulset.kubernetes.io/pod-name"] = name
        pod = SimPod(
            cluster=cluster.name,
            namespace=workload.namespace,
            name=name,
            uid=uid,
            node=node.name if node is not None else None,
            top_kind=top[0],
            top_name=top[1],
            owner_kind=owner[0],
            owner_name=owner[1],
            controller_kind=controller[0],
            controller=controller[1],
            cronjob=controller[2],
            labels=labels,
            annotations=dict(workload.annotations),
            index=len(self.pods),
            state=state,
            life=[s for s in lives if s[0] < s[1]],
            running=running,
            completes=kind in ("Job", "CronJob"),
            containers=containers,
            claims=claims,
        )
        self.pods.append(pod)
        return pod

    def add_containers(self, workload: Workload, state: str, life: Span, running: list[Span]) -> list[SimContainer]:
        """The containers of one pod: running but for their restarts, and their usage parameters."""
        containers = []
        for spec in workload.containers:
            c_running = list(running)
            first = running[0][0] if running else 0
            for restart in spec.restarts:
                crash = first + round(restart)
                c_running = [s for s in _subtract(c_running, (crash, crash + round(spec.restart_gap))) if s[0] < s[1]]
            waiting = [life] if state == "waiting" and life[0] < life[1] else []
            containers.append(
                SimContainer(
                    name=spec.name,
                    index=len(self.usage),
                    cpu_request_cores=spec.cpu_request,
                    ram_request_bytes=spec.memory_request_gib * GIB,
                    gpu_request=spec.gpu_request,
                    running=c_running,
                    waiting=waiting,
                    waiting_reason=workload.waiting_reason if waiting else None,
                )
            )
            gpu = spec.gpu_busy * spec.gpu_request
            self.usage.append(
                _Usage(spec.cpu_usage, spec.memory_usage_gib * GIB, gpu, workload.jitter, workload.diurnal)
            )
        return containers

    def add_claims(self, cluster: Cluster, workload: Workload, pod: str, life: Span) -> list[str]:
        """The claims of one pod: the workload's own and one per claim template, whose volume is added."""
        claims = list(workload.claims)
        for template in workload.claim_templates:
            claim = f"{template.name}-{pod}"
            claims.append(claim)
            self.volumes.append(
                SimVolume(
                    cluster=cluster.name,
                    name=f"pvc-{uuid.UUID(_stable_hex(self.seed, cluster.name, workload.namespace, claim)[:32])}",
                    storage_class=template.storage_class,
                    capacity_bytes=template.capacity_gib * GIB,
                    provider_id=f"vol-{_stable_hex(cluster.name, claim)[:17]}",
                    claim_namespace=workload.namespace,
                    claim=claim,
                    span=(life[0], self.horizon),
                )
            )
        return claims

    def factors(self, jitter: np.ndarray, diurnal: np.ndarray) -> np.ndarray:
        """(rows, hours) multipliers ``max(0, 1 + diurnal·sin(day phase) + jitter·N(0, 1))``."""
        hour_of_day = (np.arange(self.hours) + self.start.hour) % 24
        cycle = np.sin(2 * math.pi * (hour_of_day - 8) / 24.0)
        noise = self.rng.standard_normal((len(jitter), self.hours))
        out: np.ndarray = np.maximum(0.0, 1.0 + diurnal[:, None] * cycle[None, :] + jitter[:, None] * noise)
        return out

    def finish(self) -> Simulation:
        usage = self.usage
        jitter = np.array([u.jitter for u in usage], dtype=np.float64)
        diurnal = np.array([u.diurnal for u in usage], dtype=np.float64)
        cpu = np.array([u.cpu for u in usage], dtype=np.float64)[:, None] * self.factors(jitter, diurnal)
        ram = np.array([u.ram for u in usage], dtype=np.float64)[:, None] * self.factors(jitter / 2, diurnal / 2)
        gpu_mean = np.array([u.gpu for u in usage], dtype=np.float64)
        gpu = np.zeros_like(cpu)
        busy = np.flatnonzero(gpu_mean > 0)
        if busy.size:
            drawn = gpu_mean[busy, None] * self.factors(jitter[busy], diurnal[busy])
            gpu[busy] = np.minimum(drawn, self._gpu_caps()[busy, None])
        rates = np.array([e[:4] for e in self.egress], dtype=np.float64).reshape(len(self.egress), 4)
        ejitter = np.array([e[4] for e in self.egress], dtype=np.float64)
        ediurnal = np.array([e[5] for e in self.egress], dtype=np.float64)
        egress = rates[:, None, :] * GIB / 3600.0 * self.factors(ejitter, ediurnal)[:, :, None]
        return Simulation(
            scenario=self.scenario,
            seed=self.seed,
            start=self.start,
            hours=self.hours,
            regions=self.regions,
            nodes=self.nodes,
            namespaces=self.namespaces,
            pods=self.pods,
            volumes=self.volumes,
            services=self.services,
            cpu_cores=cpu,
            ram_bytes=ram,
            gpu_usage=gpu,
            egress_bytes_per_second=egress,
        )

    def _gpu_caps(self) -> np.ndarray:
        caps = np.zeros(len(self.usage))
        for pod in self.pods:
            for container in pod.containers:
                caps[container.index] = container.gpu_request
        return caps

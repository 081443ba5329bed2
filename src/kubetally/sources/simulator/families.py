"""The metric families of the exposition: kube-state-metrics v2, cAdvisor, DCGM and OpenCost network-costs, with
the names and labels of docs/metrics-contract (shared reference ``metrics-contract.md``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from kubetally.sources.simulator.exposition import (
    FloatArray,
    IntArray,
    Series,
    sanitize,
)
from kubetally.sources.simulator.model import SimContainer, SimPod, Simulation, Span

KUBELET_VERSION = "v1.30.4-eks-a737599"
COMPLETED_LINGER_SECONDS = 120
"""How long kube-state-metrics keeps reporting a completed job pod (phase Succeeded) in the simulation."""
_EGRESS_LABELS = (
    {"internet": "false", "same_region": "true", "same_zone": "false"},
    {"internet": "false", "same_region": "false", "same_zone": "false"},
    {"internet": "true", "same_region": "false", "same_zone": "false"},
)
PHASES = ("Pending", "Running", "Succeeded", "Failed")


def pod_ip(pod: SimPod) -> str:
    return f"10.{100 + pod.index // 65536}.{pod.index // 256 % 256}.{pod.index % 256}"


def ksm_spans(sim: Simulation, pod: SimPod) -> list[Span]:
    """When kube-state-metrics reports the pod: its life, plus a short linger after a job pod completes."""
    spans = list(pod.life)
    if pod.completes and pod.running and spans:
        s, e = spans[-1]
        spans[-1] = (s, min(sim.seconds, e + COMPLETED_LINGER_SECONDS))
    return spans


def _inside(spans: list[Span]) -> Callable[[IntArray], FloatArray]:
    def values(times: IntArray) -> FloatArray:
        out = np.zeros(len(times))
        for s, e in spans:
            out[(times >= s) & (times < e)] = 1.0
        return out

    return values


def _latest_start(spans: list[Span], base: int) -> Callable[[IntArray], FloatArray]:
    """The unix time at which the latest of ``spans`` that started at or before each sample started."""
    starts = np.array(sorted(s for s, _ in spans), dtype=np.int64)

    def values(times: IntArray) -> FloatArray:
        index = np.searchsorted(starts, times, side="right") - 1
        return (starts[np.maximum(index, 0)] + base).astype(np.float64)

    return values


def _gaps(pod: SimPod, container: SimContainer) -> list[Span]:
    """Restart gaps: pod running time in which the container does not run."""
    gaps: list[Span] = []
    for s, e in pod.running:
        cursor = s
        for cs, ce in sorted(container.running):
            if ce <= s or cs >= e:
                continue
            if cs > cursor:
                gaps.append((cursor, cs))
            cursor = max(cursor, ce)
        if cursor < e and container.running:
            gaps.append((cursor, e))
    return gaps


def _pod_keys(pod: SimPod) -> dict[str, str]:
    return {"cluster": pod.cluster, "namespace": pod.namespace, "pod": pod.name, "uid": pod.uid}


def nodes(sim: Simulation) -> Iterator[Series]:
    for n in sim.nodes:
        yield Series(
            {
                "cluster": n.cluster,
                "node": n.name,
                "provider_id": n.provider_id,
                "kubelet_version": KUBELET_VERSION,
                "container_runtime_version": "containerd://1.7.11",
                "os_image": "Amazon Linux 2023",
            },
            n.spans,
            1.0,
        )


def node_labels(sim: Simulation) -> Iterator[Series]:
    for n in sim.nodes:
        labels = {f"label_{sanitize(k)}": v for k, v in sorted(n.labels.items())}
        yield Series({"cluster": n.cluster, "node": n.name, **labels}, n.spans, 1.0)


def node_capacity(sim: Simulation) -> Iterator[Series]:
    for n in sim.nodes:
        for resource, unit, value in (
            ("cpu", "core", n.cpu_cores),
            ("memory", "byte", n.ram_bytes),
            ("nvidia_com_gpu", "integer", n.gpu_count),
        ):
            if value > 0:
                yield Series({"cluster": n.cluster, "node": n.name, "resource": resource, "unit": unit}, n.spans, value)


def namespace_maps(attribute: str, prefix: str) -> Callable[[Simulation], Iterator[Series]]:
    def series(sim: Simulation) -> Iterator[Series]:
        for ns in sim.namespaces:
            mapping = getattr(ns, attribute)
            labels = {f"{prefix}_{sanitize(k)}": v for k, v in sorted(mapping.items())}
            yield Series({"cluster": ns.cluster, "namespace": ns.name, **labels}, [(0, sim.seconds)], 1.0)

    return series


def pod_info(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        labels = {
            **_pod_keys(p),
            "node": p.node or "",
            "host_ip": "",
            "pod_ip": pod_ip(p) if p.node else "",
            "created_by_kind": p.owner_kind or "<none>",
            "created_by_name": p.owner_name or "<none>",
            "priority_class": "",
        }
        yield Series(labels, ksm_spans(sim, p), 1.0)


def pod_times(which: str) -> Callable[[Simulation], Iterator[Series]]:
    def series(sim: Simulation) -> Iterator[Series]:
        base = int(sim.start.timestamp())
        for p in sim.pods:
            if not p.running:
                continue
            spans = ksm_spans(sim, p)
            if which == "start":
                yield Series(_pod_keys(p), spans, float(p.running[0][0] + base))
            elif p.completes:
                end = p.running[-1][1]
                yield Series(_pod_keys(p), [(end, spans[-1][1])], float(end + base))

    return series


def pod_phase(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        spans = ksm_spans(sim, p)
        running = _inside(p.running)
        for phase in PHASES:
            if phase == "Running":
                values: float | Callable[[IntArray], FloatArray] = running
            elif phase == "Pending":
                values = 0.0 if p.running else 1.0
            elif phase == "Succeeded" and p.completes and p.running:
                end = p.running[-1][1]
                values = _inside([(end, sim.seconds)])
            else:
                values = 0.0
            yield Series({**_pod_keys(p), "phase": phase}, spans, values)


def pod_maps(attribute: str, prefix: str) -> Callable[[Simulation], Iterator[Series]]:
    def series(sim: Simulation) -> Iterator[Series]:
        for p in sim.pods:
            mapping = getattr(p, attribute)
            labels = {f"{prefix}_{sanitize(k)}": v for k, v in sorted(mapping.items())}
            yield Series({**_pod_keys(p), **labels}, ksm_spans(sim, p), 1.0)

    return series


def pod_owner(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        labels = {
            **_pod_keys(p),
            "owner_kind": p.owner_kind or "<none>",
            "owner_name": p.owner_name or "<none>",
            "owner_is_controller": "true" if p.owner_kind else "<none>",
        }
        yield Series(labels, ksm_spans(sim, p), 1.0)


def controller_owners(kind: str) -> Callable[[Simulation], Iterator[Series]]:
    """kube_replicaset_owner (ReplicaSet -> Deployment) or kube_job_owner (Job -> CronJob)."""

    def series(sim: Simulation) -> Iterator[Series]:
        seen: dict[tuple[str, str, str], tuple[SimPod, list[Span]]] = {}
        for p in sim.pods:
            if p.owner_kind == kind and p.owner_name:
                key = (p.cluster, p.namespace, p.owner_name)
                seen.setdefault(key, (p, []))[1].extend(ksm_spans(sim, p))
        for (cluster, namespace, name), (p, spans) in seen.items():
            if not spans:
                continue
            span = (min(s for s, _ in spans), max(e for _, e in spans))
            top = p.top_kind if p.top_kind != kind else None
            column = "replicaset" if kind == "ReplicaSet" else "job_name"
            yield Series(
                {
                    "cluster": cluster,
                    "namespace": namespace,
                    column: name,
                    "owner_kind": top or "<none>",
                    "owner_name": (p.top_name if top else None) or "<none>",
                    "owner_is_controller": "true" if top else "<none>",
                },
                [span],
                1.0,
            )

    return series


def container_status(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        for c in p.containers:
            yield Series({**_pod_keys(p), "container": c.name}, ksm_spans(sim, p), _inside(c.running))


def container_waiting(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        for c in p.containers:
            if c.waiting:
                yield Series({**_pod_keys(p), "container": c.name, "reason": c.waiting_reason or ""}, c.waiting, 1.0)
            gaps = _gaps(p, c)
            if gaps:
                yield Series({**_pod_keys(p), "container": c.name, "reason": "CrashLoopBackOff"}, gaps, 1.0)


def container_started(sim: Simulation) -> Iterator[Series]:
    base = int(sim.start.timestamp())
    for p in sim.pods:
        for c in p.containers:
            if c.running:
                yield Series({**_pod_keys(p), "container": c.name}, c.running, _latest_start(c.running, base))


def container_terminated(sim: Simulation) -> Iterator[Series]:
    base = int(sim.start.timestamp())
    for p in sim.pods:
        for c in p.containers:
            gaps = _gaps(p, c)
            if gaps:
                after = [(max(s, gaps[0][0]), e) for s, e in ksm_spans(sim, p) if e > gaps[0][0]]
                yield Series({**_pod_keys(p), "container": c.name}, after, _latest_start(gaps, base))


def container_restarts(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        for c in p.containers:
            if not c.running:
                continue
            starts = np.array([s for s, _ in sorted(c.running)][1:], dtype=np.int64)

            def values(times: IntArray, starts: IntArray = starts) -> FloatArray:
                return np.searchsorted(starts, times, side="right").astype(np.float64)

            yield Series({**_pod_keys(p), "container": c.name}, ksm_spans(sim, p), values)


def container_resources(limits: bool) -> Callable[[Simulation], Iterator[Series]]:
    """Requests, or limits (twice the CPU request, 1.5 times the memory request, the GPU request)."""

    def series(sim: Simulation) -> Iterator[Series]:
        for p in sim.pods:
            for c in p.containers:
                for resource, unit, request, factor in (
                    ("cpu", "core", c.cpu_request_cores, 2.0),
                    ("memory", "byte", c.ram_request_bytes, 1.5),
                    ("nvidia_com_gpu", "integer", c.gpu_request, 1.0),
                ):
                    if request > 0:
                        labels = {**_pod_keys(p), "container": c.name, "node": p.node or ""}
                        labels.update(resource=resource, unit=unit)
                        yield Series(labels, ksm_spans(sim, p), request * factor if limits else request)

    return series

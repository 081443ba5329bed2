"""Metric families of volumes, services, cAdvisor usage, DCGM and OpenCost network-costs."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from kubetally.sources.simulator.exposition import Series, counter, hourly
from kubetally.sources.simulator.families import _pod_keys, ksm_spans, pod_ip
from kubetally.sources.simulator.model import Matrix, Simulation


def _per_hour(row: Matrix) -> Callable[[int], float]:
    """The rate of hour ``h`` read from one row of an hourly matrix."""

    def rate(hour: int) -> float:
        return float(row[hour])

    return rate


_EGRESS_LABELS = (
    {"internet": "false", "same_region": "true", "same_zone": "false"},
    {"internet": "false", "same_region": "false", "same_zone": "false"},
    {"internet": "true", "same_region": "false", "same_zone": "false"},
)
"""network-costs classes in the order of Simulation.egress_bytes_per_second: zone, region, internet."""


def pv_info(sim: Simulation) -> Iterator[Series]:
    for v in sim.volumes:
        labels = {
            "cluster": v.cluster,
            "persistentvolume": v.name,
            "storageclass": v.storage_class,
            "csi_driver": "ebs.csi.aws.com",
            "csi_volume_handle": v.provider_id,
        }
        yield Series(labels, [v.span], 1.0)


def pv_capacity(sim: Simulation) -> Iterator[Series]:
    for v in sim.volumes:
        yield Series({"cluster": v.cluster, "persistentvolume": v.name}, [v.span], v.capacity_bytes)


def pv_claim_ref(sim: Simulation) -> Iterator[Series]:
    for v in sim.volumes:
        if v.claim is not None and v.claim_namespace is not None:
            labels = {"cluster": v.cluster, "persistentvolume": v.name, "name": v.claim}
            labels["claim_namespace"] = v.claim_namespace
            yield Series(labels, [v.span], 1.0)


def pvc(value: str) -> Callable[[Simulation], Iterator[Series]]:
    """kube_persistentvolumeclaim_info (``info``) or its storage request in bytes (``bytes``)."""

    def series(sim: Simulation) -> Iterator[Series]:
        for v in sim.volumes:
            if v.claim is None or v.claim_namespace is None:
                continue
            labels = {"cluster": v.cluster, "namespace": v.claim_namespace, "persistentvolumeclaim": v.claim}
            if value == "info":
                labels.update(storageclass=v.storage_class, volumename=v.name)
                yield Series(labels, [v.span], 1.0)
            else:
                yield Series(labels, [v.span], v.capacity_bytes)

    return series


def pod_claims(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        for claim in p.claims:
            labels = {**_pod_keys(p), "volume": claim, "persistentvolumeclaim": claim}
            yield Series(labels, ksm_spans(sim, p), 1.0)


def service_series(kind: str) -> Callable[[Simulation], Iterator[Series]]:
    """kube_service_info / _spec_type / _status_load_balancer_ingress."""

    def series(sim: Simulation) -> Iterator[Series]:
        for s in sim.services:
            labels = {"cluster": s.cluster, "namespace": s.namespace, "service": s.name}
            labels["uid"] = f"{s.cluster}-{s.namespace}-{s.name}"
            if kind == "info":
                labels["cluster_ip"] = s.ip if s.service_type != "LoadBalancer" else f"172.20.0.{len(s.name)}"
            elif kind == "type":
                labels["type"] = s.service_type
            elif s.service_type == "LoadBalancer":
                labels["ip"] = s.ip
            else:
                continue
            yield Series(labels, [s.span], 1.0)

    return series


def endpoints(sim: Simulation) -> Iterator[Series]:
    pods = {(p.cluster, p.uid): p for p in sim.pods}
    for s in sim.services:
        for uid in s.pod_uids:
            p = pods[(s.cluster, uid)]
            spans = [(max(a, s.span[0]), min(b, s.span[1])) for a, b in p.running]
            labels = {"cluster": s.cluster, "namespace": s.namespace, "endpoint": s.name, "ip": pod_ip(p)}
            labels["ready"] = "true"
            yield Series(labels, [x for x in spans if x[0] < x[1]], 1.0)


def cadvisor(metric: str) -> Callable[[Simulation], Iterator[Series]]:
    """container_cpu_usage_seconds_total (``cpu``) or container_memory_working_set_bytes (``memory``)."""

    def series(sim: Simulation) -> Iterator[Series]:
        for p in sim.pods:
            if p.node is None:
                continue
            for c in p.containers:
                if not c.running:
                    continue
                labels = {"cluster": p.cluster, "namespace": p.namespace, "pod": p.name, "container": c.name}
                labels.update(node=p.node, instance=p.node)
                row = sim.cpu_cores[c.index] if metric == "cpu" else sim.ram_bytes[c.index]
                if metric == "cpu":
                    yield Series(labels, c.running, counter(c.running, _per_hour(row)))
                else:
                    yield Series(labels, c.running, hourly(row))

    return series


def network_bytes(index: int) -> Callable[[Simulation], Iterator[Series]]:
    """Pod-level container_network_transmit_bytes_total (all egress classes) or _receive_ (``index`` 3)."""

    def series(sim: Simulation) -> Iterator[Series]:
        for p in sim.pods:
            if not p.running or p.node is None:
                continue
            rates = sim.egress_bytes_per_second[p.index]
            per_hour = rates[:, 3] if index == 3 else rates[:, :3].sum(axis=1)
            labels = {"cluster": p.cluster, "namespace": p.namespace, "pod": p.name, "container": ""}
            labels.update(interface="eth0", node=p.node, instance=p.node)
            yield Series(labels, p.running, counter(p.running, _per_hour(per_hour)))

    return series


def egress_classes(sim: Simulation) -> Iterator[Series]:
    for p in sim.pods:
        if not p.running:
            continue
        rates = sim.egress_bytes_per_second[p.index]
        for k, classes in enumerate(_EGRESS_LABELS):
            if not rates[:, k].any():
                continue
            labels = {"cluster": p.cluster, "namespace": p.namespace, "pod_name": p.name, **classes}
            yield Series(labels, p.running, counter(p.running, _per_hour(rates[:, k])))


def dcgm(sim: Simulation) -> Iterator[Series]:
    nodes = {(n.cluster, n.name): n for n in sim.nodes}
    for p in sim.pods:
        if p.node is None:
            continue
        node = nodes[(p.cluster, p.node)]
        for c in p.containers:
            if c.gpu_request <= 0 or not c.running:
                continue
            labels = {"cluster": p.cluster, "gpu": "0", "UUID": f"GPU-{p.uid[:8]}-{node.provider_id[-8:]}"}
            labels.update(
                modelName=node.gpu_model, Hostname=p.node, namespace=p.namespace, pod=p.name, container=c.name
            )
            yield Series(labels, c.running, hourly(sim.gpu_usage[c.index], 100.0 / c.gpu_request))

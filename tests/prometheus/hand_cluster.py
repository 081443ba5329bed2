"""The ``hand`` cluster: an OpenMetrics exposition written series by series, costed on paper in
tests/data/hand_cluster/README.md.

Nothing here comes from the simulator: the objects are listed below and every sample is written from them with the
exporters' own conventions (kube-state-metrics v2, cAdvisor through the kubelet), as the shared metrics contract
lists them. Every series carries ``cluster="hand"``. Scrapes fall on the UTC grid of the scrape interval, from
:data:`MARGIN` seconds before the window to as long after it.

* kube-state-metrics reports a pod while it exists: a completed Job pod lingers :data:`LINGER` seconds with phase
  ``Succeeded`` and its container not running, and gains ``kube_pod_completion_time`` then.
* cAdvisor reports a container's CPU counter from its start (the counter starts at 0) while the container exists,
  so also :data:`LINGER` seconds after it stopped (the value no longer grows), and its working set while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 3, 1, tzinfo=UTC)
HOURS = 3
END = START + timedelta(hours=HOURS)
MARGIN = 600
LINGER = 120
GIB = 2**30
CLUSTER = "hand"
DATA = Path(__file__).resolve().parents[1] / "data" / "hand_cluster"
PRICING = DATA / "pricing.json"


def at(text: str) -> float:
    """Unix seconds of an ``HH:MM:SS`` time on the window's day."""
    hours, minutes, seconds = (int(part) for part in text.split(":"))
    return (START + timedelta(hours=hours, minutes=minutes, seconds=seconds)).timestamp()


@dataclass(frozen=True)
class Node:
    name: str
    instance_type: str
    zone: str
    cpu_cores: float
    ram_gib: float


@dataclass(frozen=True)
class Container:
    name: str
    cpu_request: float
    ram_request_gib: float
    cpu_usage: float
    """Steady cores used while running."""
    ram_usage_gib: float


@dataclass(frozen=True)
class Pod:
    namespace: str
    name: str
    uid: str
    node: str
    owner_kind: str
    owner_name: str
    start: float
    """When its container started (unix seconds); the pod was created at the same time."""
    end: float | None
    """When it completed (a Job's pod), or None: it runs past the data."""
    container: Container
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.end is not None

    def running(self, t: float) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def reported(self, t: float) -> bool:
        """kube-state-metrics and cAdvisor report the pod at ``t``."""
        return self.start <= t and (self.end is None or t < self.end + LINGER)


NODES = (
    Node("node-1", "m5.xlarge", "us-east-1a", 4, 16),
    Node("node-2", "m5.large", "us-east-1b", 2, 8),
)
LONG_AGO = (START - timedelta(days=2)).timestamp()
PODS = (
    Pod(
        "shop", "web-5d8f7b9c4-h2x7k", "uid-web", "node-1", "ReplicaSet", "web-5d8f7b9c4", LONG_AGO, None,
        Container("app", 1.0, 2.0, 0.5, 1.0), {"app": "web"},
    ),
    Pod(
        "data", "db-0", "uid-db", "node-1", "StatefulSet", "db", LONG_AGO, None,
        Container("postgres", 2.0, 4.0, 1.0, 3.0), {"app": "db"},
    ),
    Pod(
        "batch", "migrate-x7k2p", "uid-migrate", "node-2", "Job", "migrate", at("00:20:07"), at("00:23:07"),
        Container("migrate", 2.0, 1.0, 2.0, 1.0), {"job-name": "migrate"},
    ),
    Pod(
        "batch", "report-29540550-q8w4z", "uid-report", "node-2", "Job", "report-29540550", at("01:10:13"),
        at("01:40:13"), Container("report", 0.5, 1.0, 1.0, 0.5), {"job-name": "report-29540550"},
    ),
)  # fmt: skip
REPLICASET_OWNERS = (("shop", "web-5d8f7b9c4", "Deployment", "web"),)
JOB_OWNERS = (("batch", "migrate", "<none>", "<none>"), ("batch", "report-29540550", "CronJob", "report"))
NAMESPACES = ("shop", "data", "batch")

Sample = tuple[float, float]
Family = tuple[str, str, Callable[[list[float]], Iterator[tuple[dict[str, str], list[Sample]]]]]


def _pod_keys(pod: Pod) -> dict[str, str]:
    return {"cluster": CLUSTER, "namespace": pod.namespace, "pod": pod.name, "uid": pod.uid}


def _always(labels: dict[str, str], times: list[float], value: float) -> tuple[dict[str, str], list[Sample]]:
    return labels, [(t, value) for t in times]


def _per_pod(
    value: Callable[[Pod, float], float | None], extra: Callable[[Pod], dict[str, str]] = lambda pod: {}
) -> Callable[[list[float]], Iterator[tuple[dict[str, str], list[Sample]]]]:
    """A kube-state-metrics family with one series per pod: ``value(pod, t)`` at each reported scrape (None: no
    sample)."""

    def series(times: list[float]) -> Iterator[tuple[dict[str, str], list[Sample]]]:
        for pod in PODS:
            samples = [(t, v) for t in times if pod.reported(t) and (v := value(pod, t)) is not None]
            if samples:
                yield {**_pod_keys(pod), **extra(pod)}, samples

    return series


def _container(pod: Pod) -> dict[str, str]:
    return {"container": pod.container.name}


def _nodes(kind: str) -> Callable[[list[float]], Iterator[tuple[dict[str, str], list[Sample]]]]:
    def series(times: list[float]) -> Iterator[tuple[dict[str, str], list[Sample]]]:
        for node in NODES:
            keys = {"cluster": CLUSTER, "node": node.name}
            if kind == "info":
                provider = f"aws:///{node.zone}/i-{node.name.replace('-', '')}"
                yield _always({**keys, "provider_id": provider, "kubelet_version": "v1.30.4"}, times, 1.0)
            elif kind == "labels":
                labels = {
                    "label_node_kubernetes_io_instance_type": node.instance_type,
                    "label_topology_kubernetes_io_region": "us-east-1",
                    "label_topology_kubernetes_io_zone": node.zone,
                }
                yield _always({**keys, **labels}, times, 1.0)
            else:
                yield _always({**keys, "resource": "cpu", "unit": "core"}, times, node.cpu_cores)
                yield _always({**keys, "resource": "memory", "unit": "byte"}, times, node.ram_gib * GIB)

    return series


def _namespaces(times: list[float]) -> Iterator[tuple[dict[str, str], list[Sample]]]:
    for namespace in NAMESPACES:
        yield _always({"cluster": CLUSTER, "namespace": namespace, "label_team": namespace}, times, 1.0)


def _owners(kind: str) -> Callable[[list[float]], Iterator[tuple[dict[str, str], list[Sample]]]]:
    def series(times: list[float]) -> Iterator[tuple[dict[str, str], list[Sample]]]:
        rows = REPLICASET_OWNERS if kind == "replicaset" else JOB_OWNERS
        name = "replicaset" if kind == "replicaset" else "job_name"
        for namespace, own, owner_kind, owner_name in rows:
            labels = {"cluster": CLUSTER, "namespace": namespace, name: own}
            yield _always({**labels, "owner_kind": owner_kind, "owner_name": owner_name}, times, 1.0)

    return series


def _requests(times: list[float]) -> Iterator[tuple[dict[str, str], list[Sample]]]:
    for pod in PODS:
        keys = {**_pod_keys(pod), "container": pod.container.name, "node": pod.node}
        samples = [t for t in times if pod.reported(t)]
        c = pod.container
        for resource, unit, value in (("cpu", "core", c.cpu_request), ("memory", "byte", c.ram_request_gib * GIB)):
            yield {**keys, "resource": resource, "unit": unit}, [(t, value) for t in samples]


def _cadvisor(metric: str) -> Callable[[list[float]], Iterator[tuple[dict[str, str], list[Sample]]]]:
    def series(times: list[float]) -> Iterator[tuple[dict[str, str], list[Sample]]]:
        for pod in PODS:
            labels = {"cluster": CLUSTER, "namespace": pod.namespace, "pod": pod.name, "container": pod.container.name}
            labels.update(node=pod.node, instance=pod.node)
            c = pod.container
            if metric == "cpu":
                stop = pod.end if pod.end is not None else float("inf")
                yield labels, [(t, c.cpu_usage * (min(t, stop) - pod.start)) for t in times if pod.reported(t)]
            else:
                yield labels, [(t, c.ram_usage_gib * GIB) for t in times if pod.running(t)]

    return series


def _phase(phase: str) -> Callable[[Pod, float], float | None]:
    def value(pod: Pod, t: float) -> float:
        if phase == "Running":
            return 1.0 if pod.running(t) else 0.0
        return 0.0 if pod.running(t) else 1.0

    return value


FAMILIES: tuple[Family, ...] = (
    ("kube_node_info", "gauge", _nodes("info")),
    ("kube_node_labels", "gauge", _nodes("labels")),
    ("kube_node_status_capacity", "gauge", _nodes("capacity")),
    ("kube_namespace_labels", "gauge", _namespaces),
    ("kube_pod_info", "gauge", _per_pod(lambda p, t: 1.0, lambda p: {"node": p.node, "pod_ip": "10.0.0.1"})),
    ("kube_pod_start_time", "gauge", _per_pod(lambda p, t: p.start)),
    ("kube_pod_completion_time", "gauge", _per_pod(lambda p, t: p.end if p.end is not None and t >= p.end else None)),
    ("kube_pod_status_phase", "gauge", _per_pod(_phase("Running"), lambda p: {"phase": "Running"})),
    ("kube_pod_status_phase", "gauge", _per_pod(_phase("Succeeded"), lambda p: {"phase": "Succeeded"})),
    (
        "kube_pod_labels",
        "gauge",
        _per_pod(lambda p, t: 1.0, lambda p: {f"label_{k.replace('-', '_')}": v for k, v in p.labels.items()}),
    ),
    (
        "kube_pod_owner",
        "gauge",
        _per_pod(lambda p, t: 1.0, lambda p: {"owner_kind": p.owner_kind, "owner_name": p.owner_name}),
    ),
    ("kube_replicaset_owner", "gauge", _owners("replicaset")),
    ("kube_job_owner", "gauge", _owners("job")),
    ("kube_pod_container_status_running", "gauge", _per_pod(lambda p, t: float(p.running(t)), _container)),
    ("kube_pod_container_state_started", "gauge", _per_pod(lambda p, t: p.start, _container)),
    ("kube_pod_container_resource_requests", "gauge", _requests),
    ("container_cpu_usage_seconds_total", "counter", _cadvisor("cpu")),
    ("container_memory_working_set_bytes", "gauge", _cadvisor("memory")),
)
"""Every family of the exposition, in order (two entries of one family are written one after the other)."""


def _labels(labels: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def scrape_times(interval: int) -> list[float]:
    """The scrapes: the UTC grid of ``interval`` from :data:`MARGIN` before the window to as long after it."""
    first, last = int(START.timestamp()) - MARGIN, int(END.timestamp()) + MARGIN
    return [float(t) for t in range(first, last, interval)]


def write_exposition(path: Path, interval: int) -> None:
    """The OpenMetrics text of the hand cluster scraped every ``interval`` seconds, as promtool backfills it."""
    times = scrape_times(interval)
    lines: list[str] = []
    written: set[str] = set()
    for name, kind, series in FAMILIES:
        header = name.removesuffix("_total") if kind == "counter" else name
        if header not in written:
            lines.append(f"# TYPE {header} {kind}")
            written.add(header)
        for labels, samples in series(times):
            prefix = f"{name}{_labels(labels)} "
            lines.extend(f"{prefix}{_number(v)} {int(t)}" for t, v in samples)
    lines.append("# EOF")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

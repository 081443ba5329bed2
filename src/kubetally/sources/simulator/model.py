"""A simulation: the event timeline of a scenario expanded with its seed.

Times are whole seconds from the start of the window ``[0, hours·3600)``; spans are half-open ``(start, end)``
and already clipped to the window. Hourly usage and egress live in matrices indexed by a container's (a pod's)
``index`` and the hour bucket: every consumer (history, exposition, ground truth) reads the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from kubetally.sources.simulator.scenario import Scenario

Span = tuple[int, int]
Matrix = npt.NDArray[np.float64]
GIB = 1024.0**3
EGRESS_CLASSES = ("zone", "region", "internet", "receive")
"""The last axis of ``Simulation.egress_bytes_per_second``."""


def overlap(spans: list[Span], start: int, end: int) -> int:
    """Seconds that ``spans`` share with ``[start, end)``."""
    return sum(max(0, min(e, end) - max(s, start)) for s, e in spans)


@dataclass
class SimNode:
    cluster: str
    name: str
    provider_id: str
    instance_type: str
    region: str
    zone: str
    arch: str
    capacity_type: str
    labels: dict[str, str]
    cpu_cores: float
    ram_bytes: float
    gpu_count: float
    gpu_model: str
    spans: list[Span]


@dataclass
class SimContainer:
    """``cpu_cores``/``ram_bytes``/``gpu_usage`` rows of the simulation's matrices are at ``index``."""

    name: str
    index: int
    cpu_request_cores: float
    ram_request_bytes: float
    gpu_request: float
    running: list[Span]
    waiting: list[Span]
    waiting_reason: str | None


@dataclass
class SimPod:
    """``life`` is when the pod object exists (its kube-state-metrics series); ``running`` when it runs.

    ``owner_kind``/``owner_name`` are the pod's owner reference and ``top_kind``/``top_name`` the top of its
    owner chain, as Kubernetes spells them (``ReplicaSet`` → ``Deployment``, ``Job`` → ``CronJob``);
    ``controller_kind``/``controller``/``cronjob`` the pod's controller as a ledger reports it (OpenCost's naming).
    """

    cluster: str
    namespace: str
    name: str
    uid: str
    node: str | None
    top_kind: str | None
    top_name: str | None
    owner_kind: str | None
    owner_name: str | None
    controller_kind: str | None
    controller: str | None
    cronjob: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    index: int
    state: str
    life: list[Span]
    running: list[Span]
    completes: bool
    containers: list[SimContainer]
    claims: list[str] = field(default_factory=list)


@dataclass
class SimNamespace:
    cluster: str
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]


@dataclass
class SimVolume:
    cluster: str
    name: str
    storage_class: str
    capacity_bytes: float
    provider_id: str
    claim_namespace: str | None
    claim: str | None
    span: Span


@dataclass
class SimService:
    cluster: str
    namespace: str
    name: str
    service_type: str
    ip: str
    private: bool
    span: Span
    pod_uids: list[str]


@dataclass
class Simulation:
    """A scenario expanded with a seed over ``hours`` whole hours from ``start`` (UTC)."""

    scenario: Scenario
    seed: int
    start: datetime
    hours: int
    regions: dict[str, str]
    nodes: list[SimNode]
    namespaces: list[SimNamespace]
    pods: list[SimPod]
    volumes: list[SimVolume]
    services: list[SimService]
    cpu_cores: Matrix
    """(containers, hours): mean CPU cores used while running in the bucket."""
    ram_bytes: Matrix
    """(containers, hours): working-set bytes while running in the bucket."""
    gpu_usage: Matrix
    """(containers, hours): busy fraction x GPUs while running in the bucket."""
    egress_bytes_per_second: Matrix
    """(pods, hours, 4): bytes per running second by class, see EGRESS_CLASSES."""

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    @property
    def seconds(self) -> int:
        return self.hours * 3600

    @property
    def clusters(self) -> list[str]:
        return sorted(self.regions)

    def containers(self) -> list[tuple[SimPod, SimContainer]]:
        return [(pod, container) for pod in self.pods for container in pod.containers]

    def at(self, seconds: int) -> datetime:
        """The instant ``seconds`` after the window start."""
        return self.start + timedelta(seconds=seconds)

"""Scenarios: what a simulated cluster contains, as validated pydantic models read from YAML.

Times in a scenario are offsets from the start of the simulated window, written as seconds or as durations such
as ``90m``, ``1h30m``, ``2d``, ``45s``. An absent end means the end of the window. Built-in scenarios ship as
package data (``small``, ``demo``); ``large`` is generated in code from its parameters
(``large:nodes=100,pods=10000,days=30``).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from kubetally.errors import InvalidScenario

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
BUILT_IN = ("small", "demo", "large")
MAX_HOURS = 366 * 24
"""The longest simulated window: one (leap) year."""
MAX_NODES = 10_000
"""The most nodes one scenario may declare."""
MAX_PODS = 1_000_000
"""The most pods one simulation may hold."""
MAX_CONTAINER_HOURS = 20_000_000
"""The most container-hours one simulation may hold (the hourly usage matrices grow with it)."""


def parse_offset(value: object) -> float:
    """Seconds from a number or a duration string (``1h30m``, ``45s``, ``2d``)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"durations are not negative, got {value!r}")
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION.findall(text)
        if text and "".join(number + unit for number, unit in parts) == text:
            return sum(float(number) * _UNIT_SECONDS[unit] for number, unit in parts)
    raise ValueError(f"expected seconds or a duration such as 90m, 1h30m, 45s, 2d; got {value!r}")


Offset = Annotated[float, BeforeValidator(parse_offset)]


class Strict(BaseModel):
    """A scenario model: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeGroup(Strict):
    """One node, or ``count`` identical nodes named ``{name}-{i}``, existing over ``[start, end)``."""

    name: str
    instance_type: str
    zone: str
    capacity_type: Literal["on-demand", "spot"] = "on-demand"
    cpu_cores: float = Field(gt=0)
    ram_gib: float = Field(gt=0)
    gpus: float = Field(default=0.0, ge=0)
    gpu_model: str = "NVIDIA-A10G"
    arch: str = "amd64"
    count: int = Field(default=1, ge=1)
    start: Offset = 0.0
    end: Offset | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class Namespace(Strict):
    name: str
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


class Container(Strict):
    """A container of a pod spec. Requests in cores, GiB and GPUs; usage is the mean while running.

    ``gpu_busy`` is the busy fraction of the container's GPUs. ``restarts`` are offsets from the pod's start at
    which the container crashes; it runs again after ``restart_gap``.
    """

    name: str
    cpu_request: float = Field(default=0.0, ge=0)
    memory_request_gib: float = Field(default=0.0, ge=0)
    gpu_request: float = Field(default=0.0, ge=0)
    cpu_usage: float = Field(default=0.0, ge=0)
    memory_usage_gib: float = Field(default=0.0, ge=0)
    gpu_busy: float = Field(default=0.0, ge=0, le=1)
    restarts: list[Offset] = Field(default_factory=list)
    restart_gap: Offset = 10.0


class Egress(Strict):
    """Egress and ingress of each pod, GiB per running hour, by class."""

    zone_gib_per_hour: float = Field(default=0.0, ge=0)
    region_gib_per_hour: float = Field(default=0.0, ge=0)
    internet_gib_per_hour: float = Field(default=0.0, ge=0)
    receive_gib_per_hour: float = Field(default=0.0, ge=0)


class ClaimTemplate(Strict):
    """A StatefulSet volume claim template: one claim ``{name}-{pod}`` and its PV per replica."""

    name: str
    storage_class: str = "gp3"
    capacity_gib: float = Field(gt=0)


class Workload(Strict):
    """Pods of one controller (``Pod`` is a bare pod).

    Pods run over ``[start, end)``; a ``Job`` runs ``duration`` from ``start``; a ``CronJob`` starts a job of
    ``duration`` every ``every`` from ``start``. ``stops`` are ``[from, to)`` offsets in which the pods do not run.
    ``state``: ``running``, ``pending`` (never scheduled) or ``waiting`` (scheduled, containers in
    ``waiting_reason``). ``nodes`` lists node or node-group names the pods may be placed on (all when empty);
    a DaemonSet runs one pod on each of them. ``jitter`` is the relative spread of hourly usage, ``diurnal``
    the amplitude of its daily cycle.
    """

    name: str
    namespace: str
    kind: Literal["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"] = "Deployment"
    replicas: int = Field(default=1, ge=1)
    nodes: list[str] = Field(default_factory=list)
    start: Offset = 0.0
    end: Offset | None = None
    duration: Offset | None = None
    every: Offset | None = None
    stops: list[tuple[Offset, Offset]] = Field(default_factory=list)
    state: Literal["running", "pending", "waiting"] = "running"
    waiting_reason: str = "ImagePullBackOff"
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    containers: list[Container] = Field(min_length=1)
    claims: list[str] = Field(default_factory=list)
    claim_templates: list[ClaimTemplate] = Field(default_factory=list)
    egress: Egress = Field(default_factory=Egress)
    jitter: float = Field(default=0.0, ge=0, le=0.9)
    diurnal: float = Field(default=0.0, ge=0, le=0.9)

    @model_validator(mode="after")
    def _timing(self) -> Workload:
        if self.kind in ("Job", "CronJob") and self.duration is None:
            raise ValueError(f"a {self.kind} needs a duration")
        if self.kind == "CronJob" and not self.every:
            raise ValueError("a CronJob needs every")
        if self.kind == "CronJob" and self.every is not None and self.every < 60:
            raise ValueError(f"every must be at least 1m (cron schedules are per minute), got {self.every:g}s")
        if self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class Volume(Strict):
    """A persistent volume, bound to ``claim`` in ``namespace`` (both absent for an unclaimed PV)."""

    name: str
    storage_class: str = "gp3"
    capacity_gib: float = Field(gt=0)
    namespace: str | None = None
    claim: str | None = None
    start: Offset = 0.0
    end: Offset | None = None

    @model_validator(mode="after")
    def _bound(self) -> Volume:
        if (self.claim is None) != (self.namespace is None):
            raise ValueError("claim and namespace are given together or not at all")
        return self


class Service(Strict):
    """A service selecting the pods of ``selects`` (workload names in its namespace)."""

    name: str
    namespace: str
    type: Literal["ClusterIP", "NodePort", "LoadBalancer"] = "ClusterIP"
    ip: str | None = None
    private: bool = False
    selects: list[str] = Field(default_factory=list)
    start: Offset = 0.0
    end: Offset | None = None


class Cluster(Strict):
    name: str
    region: str = "us-east-1"
    provider: Literal["aws", "gcp", "azure"] = "aws"
    nodes: list[NodeGroup] = Field(min_length=1)
    namespaces: list[Namespace] = Field(default_factory=list)
    workloads: list[Workload] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> Cluster:
        groups = {group.name for group in self.nodes}
        for index, workload in enumerate(self.workloads):
            unknown = [name for name in workload.nodes if name not in groups]
            if unknown:
                raise ValueError(f"workloads.{index}.nodes: unknown node groups {unknown}")
        names = {(workload.namespace, workload.name) for workload in self.workloads}
        for index, service in enumerate(self.services):
            missing = [name for name in service.selects if (service.namespace, name) not in names]
            if missing:
                raise ValueError(f"services.{index}.selects: no workloads {missing} in {service.namespace}")
        return self


class Scenario(Strict):
    """A simulated world: clusters over ``hours`` hours, priced by ``pricing`` (OpenCost custom pricing JSON)."""

    name: str
    description: str = ""
    seed: int = 0
    hours: int = Field(default=3, ge=1, le=MAX_HOURS)
    pricing: dict[str, Any] = Field(default_factory=dict)
    clusters: list[Cluster] = Field(min_length=1)
    opencost_pricing_metrics: bool = False
    """Whether the exposition also carries OpenCost's pricing metrics, valued from ``pricing``."""

    @model_validator(mode="after")
    def _size(self) -> Scenario:
        nodes = sum(group.count for cluster in self.clusters for group in cluster.nodes)
        if nodes > MAX_NODES:
            raise ValueError(f"{nodes:,} nodes is more than the limit of {MAX_NODES:,}")
        pods = pod_count(self, self.hours)
        if pods > MAX_PODS:
            raise ValueError(f"{pods:,.0f} pods is more than the limit of {MAX_PODS:,}")
        size = container_hours(self, self.hours)
        if size > MAX_CONTAINER_HOURS:
            raise ValueError(f"{size:.3g} container-hours is more than the limit of {MAX_CONTAINER_HOURS:,}")
        return self


def _pods(cluster: Cluster, workload: Workload, horizon: float) -> float:
    """An upper bound on the pods of ``workload`` in a window of ``horizon`` seconds."""
    if workload.kind == "DaemonSet":
        counts = {group.name: group.count for group in cluster.nodes}
        return float(sum(counts[name] for name in workload.nodes or counts))
    if workload.kind == "CronJob":
        return max(0.0, math.ceil((horizon - workload.start) / (workload.every or horizon)))
    return float(workload.replicas)


def pod_count(scenario: Scenario, hours: int) -> float:
    """An upper bound on the pods of ``scenario`` simulated over ``hours`` hours."""
    return sum(_pods(c, w, hours * 3600.0) for c in scenario.clusters for w in c.workloads)


def container_hours(scenario: Scenario, hours: int) -> float:
    """An upper bound on the container-hours of ``scenario`` simulated over ``hours`` hours.

    A pod of a Job or CronJob is counted in the hour buckets its ``duration`` can touch, any other pod in all.
    """
    horizon = hours * 3600.0
    total = 0.0
    for cluster in scenario.clusters:
        for workload in cluster.workloads:
            span = hours if workload.duration is None else min(hours, math.ceil(workload.duration / 3600) + 1)
            total += _pods(cluster, workload, horizon) * len(workload.containers) * span
    return total


def parse_scenario(text: str, where: str) -> Scenario:
    """A scenario from YAML text; InvalidScenario naming ``where`` and the offending field path."""
    try:
        document = yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError) as exc:
        raise InvalidScenario(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise InvalidScenario(f"{where}: expected a mapping at the top level, got {type(document).__name__}")
    return scenario_from(document, where)


def scenario_from(document: dict[str, Any], where: str) -> Scenario:
    """Validate a scenario document; the first error names its field path (``clusters.0.nodes.1.zone``)."""
    try:
        return Scenario.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more errors)" if exc.error_count() > 1 else ""
        raise InvalidScenario(f"{where}: field {path}: {first['msg']}{more}") from exc

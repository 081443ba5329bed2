"""ClusterHistory: the columnar contract between sources and the engine.

A source (the simulator, Prometheus) describes what happened in one or more clusters over a range of whole
hours as a handful of Polars tables with fixed schemas. Nothing downstream knows which source produced them.

Conventions, shared by every table:

* Times are ``Datetime("us", "UTC")``. Intervals are half-open ``[start, end)`` and already clipped to the
  history's ``[start, end)``.
* Hour buckets are identified by their start (``hour``), aligned to the UTC hour.
* Quantities carry their unit in the column name (``cpu_cores``, ``ram_bytes``, ``cpu_core_seconds``).
* Maps (labels, annotations) are ``List(Struct(key, value))`` — the Arrow form of a string map.
* A pod is identified by ``(cluster, pod_uid)``; a container by ``(cluster, pod_uid, container)``.

Semantics the engine relies on (see docs/cost-model.md):

* ``pod_intervals`` are the intervals in which a pod is Running on its node; storage and load balancer cost
  follow them. ``container_intervals`` are the intervals in which a container runs (``state="running"``) or is
  scheduled but waiting (``state="waiting"``: ImagePullBackOff, ErrImagePull, ContainerCreating), always inside
  one of its pod's running or scheduled time. Pending (unscheduled) pods have no intervals.
* ``usage`` holds, per container and hour bucket, what was consumed during the container's running time in that
  bucket: CPU core-seconds (a counter increase, resets handled), the average and the maximum working-set bytes,
  and the average GPU busy-GPUs (busy fraction x GPUs). Buckets without a row have no usage.
* ``egress`` holds bytes per pod and hour bucket by class.
* ``observed_*`` tables carry prices a source found (OpenCost pricing metrics); they may be empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

import polars as pl

from kubetally.errors import InvalidHistory

TIME = pl.Datetime("us", "UTC")
STRING_MAP = pl.List(pl.Struct({"key": pl.String(), "value": pl.String()}))

NODES = pl.Schema(
    {
        "cluster": pl.String(),
        "node": pl.String(),
        "provider_id": pl.String(),
        "instance_type": pl.String(),
        "region": pl.String(),
        "zone": pl.String(),
        "arch": pl.String(),
        "labels": STRING_MAP,
        "cpu_cores": pl.Float64(),
        "ram_bytes": pl.Float64(),
        "gpu_count": pl.Float64(),
        "start": TIME,
        "end": TIME,
    }
)
"""One row per node existence interval (a node that leaves and comes back has two rows)."""

NAMESPACES = pl.Schema(
    {
        "cluster": pl.String(),
        "namespace": pl.String(),
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    }
)

PODS = pl.Schema(
    {
        "cluster": pl.String(),
        "namespace": pl.String(),
        "pod": pl.String(),
        "pod_uid": pl.String(),
        "node": pl.String(),
        "controller_kind": pl.String(),
        "controller": pl.String(),
        "cronjob": pl.String(),
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    }
)
"""One row per pod. ``node`` is null for a pod never scheduled. ``controller_kind``/``controller`` are the pod's
controller as OpenCost names it (docs/query-language.md, "Controllers"): the lower-case kind (``deployment`` for
the pods of a Deployment's ReplicaSet) and the name, a Job's name without a trailing CronJob timestamp; null for a
bare pod. ``cronjob`` is the CronJob owning the pod's Job, null otherwise."""

POD_INTERVALS = pl.Schema(
    {
        "cluster": pl.String(),
        "pod_uid": pl.String(),
        "start": TIME,
        "end": TIME,
    }
)

CONTAINERS = pl.Schema(
    {
        "cluster": pl.String(),
        "pod_uid": pl.String(),
        "container": pl.String(),
        "cpu_request_cores": pl.Float64(),
        "ram_request_bytes": pl.Float64(),
        "gpu_request": pl.Float64(),
    }
)
"""One row per container of a pod spec; a container without a request has 0."""

CONTAINER_INTERVALS = pl.Schema(
    {
        "cluster": pl.String(),
        "pod_uid": pl.String(),
        "container": pl.String(),
        "state": pl.String(),
        "start": TIME,
        "end": TIME,
    }
)
"""``state`` is ``running`` or ``waiting``. A restarted container has one row per running interval."""

USAGE = pl.Schema(
    {
        "cluster": pl.String(),
        "pod_uid": pl.String(),
        "container": pl.String(),
        "hour": TIME,
        "cpu_core_seconds": pl.Float64(),
        "cpu_cores_max": pl.Float64(),
        "ram_bytes_avg": pl.Float64(),
        "ram_bytes_max": pl.Float64(),
        "gpu_usage_avg": pl.Float64(),
    }
)

VOLUMES = pl.Schema(
    {
        "cluster": pl.String(),
        "pv": pl.String(),
        "storage_class": pl.String(),
        "capacity_bytes": pl.Float64(),
        "provider_id": pl.String(),
        "claim_namespace": pl.String(),
        "claim": pl.String(),
        "start": TIME,
        "end": TIME,
    }
)
"""One row per persistent volume existence interval; ``claim``/``claim_namespace`` null for an unbound PV."""

MOUNTS = pl.Schema(
    {
        "cluster": pl.String(),
        "pod_uid": pl.String(),
        "namespace": pl.String(),
        "claim": pl.String(),
    }
)
"""A pod's spec mounts this claim; it uses it whenever the pod is running."""

SERVICES = pl.Schema(
    {
        "cluster": pl.String(),
        "namespace": pl.String(),
        "service": pl.String(),
        "service_type": pl.String(),
        "ip": pl.String(),
        "private": pl.Boolean(),
        "start": TIME,
        "end": TIME,
    }
)

SERVICE_PODS = pl.Schema(
    {
        "cluster": pl.String(),
        "namespace": pl.String(),
        "service": pl.String(),
        "pod_uid": pl.String(),
    }
)

EGRESS = pl.Schema(
    {
        "cluster": pl.String(),
        "pod_uid": pl.String(),
        "hour": TIME,
        "zone_bytes": pl.Float64(),
        "region_bytes": pl.Float64(),
        "internet_bytes": pl.Float64(),
        "unclassified_bytes": pl.Float64(),
        "receive_bytes": pl.Float64(),
    }
)

OBSERVED_NODE_PRICES = pl.Schema(
    {
        "cluster": pl.String(),
        "node": pl.String(),
        "cpu_price_per_core_hour": pl.Float64(),
        "ram_price_per_gib_hour": pl.Float64(),
        "gpu_price_per_gpu_hour": pl.Float64(),
    }
)

OBSERVED_VOLUME_PRICES = pl.Schema({"cluster": pl.String(), "pv": pl.String(), "price_per_gib_hour": pl.Float64()})

OBSERVED_LB_PRICES = pl.Schema(
    {"cluster": pl.String(), "namespace": pl.String(), "service": pl.String(), "price_per_hour": pl.Float64()}
)

OBSERVED_CLUSTER_PRICES = pl.Schema(
    {
        "cluster": pl.String(),
        "management_price_per_hour": pl.Float64(),
        "zone_egress_price_per_gib": pl.Float64(),
        "region_egress_price_per_gib": pl.Float64(),
        "internet_egress_price_per_gib": pl.Float64(),
    }
)
"""Nullable columns: a missing price falls through to the next level of the resolution order."""

SCHEMAS: Mapping[str, pl.Schema] = {
    "nodes": NODES,
    "namespaces": NAMESPACES,
    "pods": PODS,
    "pod_intervals": POD_INTERVALS,
    "containers": CONTAINERS,
    "container_intervals": CONTAINER_INTERVALS,
    "usage": USAGE,
    "volumes": VOLUMES,
    "mounts": MOUNTS,
    "services": SERVICES,
    "service_pods": SERVICE_PODS,
    "egress": EGRESS,
    "observed_node_prices": OBSERVED_NODE_PRICES,
    "observed_volume_prices": OBSERVED_VOLUME_PRICES,
    "observed_lb_prices": OBSERVED_LB_PRICES,
    "observed_cluster_prices": OBSERVED_CLUSTER_PRICES,
}

CONTAINER_STATES = ("running", "waiting")


def empty(table: str) -> pl.DataFrame:
    """An empty frame with the schema of ``table``."""
    return pl.DataFrame(schema=SCHEMAS[table])


@dataclass(frozen=True)
class ClusterHistory:
    """What happened in some clusters over ``[start, end)`` (whole UTC hours)."""

    start: datetime
    end: datetime
    nodes: pl.DataFrame
    namespaces: pl.DataFrame
    pods: pl.DataFrame
    pod_intervals: pl.DataFrame
    containers: pl.DataFrame
    container_intervals: pl.DataFrame
    usage: pl.DataFrame
    volumes: pl.DataFrame
    mounts: pl.DataFrame
    services: pl.DataFrame
    service_pods: pl.DataFrame
    egress: pl.DataFrame
    observed_node_prices: pl.DataFrame
    observed_volume_prices: pl.DataFrame
    observed_lb_prices: pl.DataFrame
    observed_cluster_prices: pl.DataFrame

    @classmethod
    def build(cls, start: datetime, end: datetime, **tables: pl.DataFrame) -> ClusterHistory:
        """Build a history; tables not given are empty. Columns are cast to the schema and checked."""
        unknown = set(tables) - set(SCHEMAS)
        if unknown:
            raise InvalidHistory(f"unknown ClusterHistory tables: {sorted(unknown)}")
        frames = {name: conform(name, tables.get(name, empty(name))) for name in SCHEMAS}
        history = cls(start=start, end=end, **frames)
        history.validate()
        return history

    @property
    def clusters(self) -> list[str]:
        """The clusters this history covers (those with at least one node)."""
        return sorted(self.nodes.get_column("cluster").unique().to_list())

    def tables(self) -> dict[str, pl.DataFrame]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name in SCHEMAS}

    def slice(self, start: datetime, end: datetime) -> ClusterHistory:
        """The part of this history inside ``[start, end)`` (whole hours): intervals clipped, hourly rows kept.

        Every cost rule is per hour bucket, so costing the slices of a history gives the same rows as costing the
        whole: ingest relies on this to write in chunks.
        """
        start, end = max(start, self.start), min(end, self.end)
        lo, hi = pl.lit(start, dtype=TIME), pl.lit(end, dtype=TIME)
        frames: dict[str, pl.DataFrame] = {}
        for name, table in self.tables().items():
            frame = table
            if "start" in frame.columns:
                frame = frame.with_columns(
                    pl.max_horizontal(pl.col("start"), lo).alias("start"),
                    pl.min_horizontal(pl.col("end"), hi).alias("end"),
                ).filter(pl.col("start") < pl.col("end"))
            elif "hour" in frame.columns:
                frame = frame.filter((pl.col("hour") >= lo) & (pl.col("hour") < hi))
            frames[name] = frame
        return ClusterHistory.build(start, end, **frames)

    def validate(self) -> None:
        """Check schemas and the invariants the engine relies on; raise InvalidHistory naming the problem."""
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidHistory("history start and end must be timezone-aware UTC datetimes")
        if self.start >= self.end:
            raise InvalidHistory(f"history start {self.start} is not before end {self.end}")
        for whole in (self.start, self.end):
            if (whole.minute, whole.second, whole.microsecond) != (0, 0, 0):
                raise InvalidHistory(f"history bounds must be whole hours, got {whole.isoformat()}")
        for name, frame in self.tables().items():
            if frame.schema != SCHEMAS[name]:
                raise InvalidHistory(f"table {name!r} has schema {frame.schema}, expected {SCHEMAS[name]}")
        for name in ("nodes", "pod_intervals", "container_intervals", "volumes", "services"):
            frame = getattr(self, name)
            bad = frame.filter(pl.col("start") >= pl.col("end"))
            if bad.height:
                raise InvalidHistory(f"table {name!r} has {bad.height} empty or reversed intervals")
        states = set(self.container_intervals.get_column("state").unique().to_list())
        if not states <= set(CONTAINER_STATES):
            raise InvalidHistory(f"unknown container states {sorted(states - set(CONTAINER_STATES))}")


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast ``frame`` to the schema of table ``name``."""
    schema = SCHEMAS[name]
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise InvalidHistory(f"table {name!r} lacks columns {missing}")
    try:
        return frame.select([pl.col(column).cast(dtype) for column, dtype in schema.items()])
    except pl.exceptions.PolarsError as exc:
        raise InvalidHistory(f"table {name!r} cannot be cast to its schema: {exc}") from exc

"""The values of OpenCost's cost metrics (opencost-compat §7), read from the ledger by SQL.

Every value is of one cluster's latest complete hour: the latest hour bucket whose last write was final (not
marked provisional, see :mod:`kubetally.ingest.follow`). Prices are the ledger's cost over the quantity it priced
(a node's ``cpu_cost / cpu_core_hours`` is its $/core-h), so they are the prices the costs were computed with.
Container allocations are ``max(request, usage)`` averaged over the container's running time in that hour
(billed core-hours over running hours). Egress prices are not in the ledger (it stores egress costs) and come from
the configured price book.

:data:`FAMILIES` is the one table of metric names, help texts, label names and the query each reads; the
``/metrics`` edge emits it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from kubetally.domain.pricing import PriceBook
from kubetally.ledger import PROVISIONAL
from kubetally.query.allocation import Reader

CLUSTER_LABEL = "cluster_id"
"""The label naming the cluster on every family (OpenCost's ``cluster_id``)."""

GIB = 1024**3

_LATEST = f"""
latest AS (
    SELECT c.cluster, max(c.hour) AS hour
    FROM hour_coverage c JOIN ingest_runs r ON r.run_id = c.run_id AND r.cluster = c.cluster
    WHERE position('"{PROVISIONAL}"' IN r.warnings) = 0
    GROUP BY c.cluster
)"""

_NODE_LABELS = ("instance", "node", "instance_type", "region", "provider_id", "arch")
_NODES = f"""
WITH {_LATEST}
SELECT a.cluster AS {CLUSTER_LABEL}, a.name AS instance, a.name AS node,
    coalesce(a.node_type, '') AS instance_type, coalesce(a.region, '') AS region,
    coalesce(a.provider_id, '') AS provider_id, coalesce(a.labels['kubernetes.io/arch'], '') AS arch,
    coalesce(a.cpu_cost / nullif(a.cpu_core_hours, 0), 0) AS node_cpu_hourly_cost,
    coalesce(a.ram_cost / nullif(a.ram_byte_hours / {GIB}, 0), 0) AS node_ram_hourly_cost,
    coalesce(a.gpu_cost / nullif(a.gpu_hours, 0), 0) AS node_gpu_hourly_cost,
    coalesce(a.total_cost / nullif(a.minutes / 60, 0), 0) AS node_total_hourly_cost,
    coalesce(a.gpu_count, 0) AS node_gpu_count,
    CAST(coalesce(a.preemptible, false) AS DOUBLE) AS kubecost_node_is_spot
FROM assets a JOIN latest l ON a.cluster = l.cluster AND a.hour = l.hour
WHERE a.type = 'Node'
ORDER BY a.cluster, a.name"""

_VOLUMES = f"""
WITH {_LATEST}
SELECT a.cluster AS {CLUSTER_LABEL}, a.name AS volumename, a.name AS persistentvolume,
    coalesce(a.provider_id, '') AS provider_id,
    coalesce(a.total_cost / nullif(a.byte_hours / {GIB}, 0), 0) AS pv_hourly_cost
FROM assets a JOIN latest l ON a.cluster = l.cluster AND a.hour = l.hour
WHERE a.type = 'Disk'
ORDER BY a.cluster, a.name"""

_CONTAINER_LABELS = ("namespace", "pod", "container", "instance", "node")
_CONTAINERS = f"""
WITH {_LATEST}
SELECT a.cluster AS {CLUSTER_LABEL}, a.namespace, a.pod, a.container,
    coalesce(a.node, '') AS instance, coalesce(a.node, '') AS node,
    a.cpu_core_hours / (a.running_minutes / 60) AS container_cpu_allocation,
    a.ram_byte_hours / (a.running_minutes / 60) AS container_memory_allocation_bytes,
    a.gpu_hours / (a.running_minutes / 60) AS container_gpu_allocation
FROM allocations a JOIN latest l ON a.cluster = l.cluster AND a.hour = l.hour
WHERE a.kind = 'workload' AND a.running_minutes > 0
ORDER BY a.cluster, a.namespace, a.pod, a.container"""

_CLAIMS = f"""
WITH {_LATEST}
SELECT DISTINCT v.cluster AS {CLUSTER_LABEL}, v.namespace, p.pod, coalesce(d.claim, '') AS persistentvolumeclaim,
    v.pv AS persistentvolume, d.bytes AS pod_pvc_allocation
FROM allocation_pvs v
JOIN latest l ON v.cluster = l.cluster AND v.hour = l.hour
JOIN pods p ON p.cluster = v.cluster AND p.pod_uid = v.pod_uid
JOIN assets d ON d.cluster = v.cluster AND d.hour = v.hour AND d.type = 'Disk' AND d.name = v.pv
WHERE v.kind = 'workload'
ORDER BY 1, 2, 3, 5"""

_BALANCERS = f"""
WITH {_LATEST}
SELECT a.cluster AS {CLUSTER_LABEL}, coalesce(a.ip, '') AS ingress_ip, coalesce(a.namespace, '') AS namespace,
    CASE WHEN starts_with(a.name, a.namespace || '/') THEN substr(a.name, length(a.namespace) + 2)
         ELSE a.name END AS service_name,
    coalesce(a.total_cost / nullif(a.minutes / 60, 0), 0) AS kubecost_load_balancer_cost
FROM assets a JOIN latest l ON a.cluster = l.cluster AND a.hour = l.hour
WHERE a.type = 'LoadBalancer'
ORDER BY a.cluster, a.name"""

_MANAGEMENT = f"""
WITH {_LATEST}
SELECT a.cluster AS {CLUSTER_LABEL}, coalesce(a.provider_id, '') AS provisioner_name,
    coalesce(a.total_cost / nullif(a.minutes / 60, 0), 0) AS kubecost_cluster_management_cost
FROM assets a JOIN latest l ON a.cluster = l.cluster AND a.hour = l.hour
WHERE a.type = 'ClusterManagement'
ORDER BY a.cluster"""

_LATEST_HOURS = f"WITH {_LATEST} SELECT cluster AS {CLUSTER_LABEL}, hour FROM latest ORDER BY cluster"

QUERIES: dict[str, str] = {
    "nodes": _NODES,
    "volumes": _VOLUMES,
    "containers": _CONTAINERS,
    "claims": _CLAIMS,
    "balancers": _BALANCERS,
    "management": _MANAGEMENT,
}
"""The SQL of each group of families: one row per series, label columns then one column per metric."""


@dataclass(frozen=True)
class Family:
    """One OpenCost metric family: its name, help text, labels (after ``cluster_id``) and the query it reads."""

    name: str
    help: str
    labels: tuple[str, ...]
    query: str


_PV_LABELS = ("volumename", "persistentvolume", "provider_id")
_CLAIM_LABELS = ("namespace", "pod", "persistentvolumeclaim", "persistentvolume")

FAMILIES: tuple[Family, ...] = (
    Family("node_cpu_hourly_cost", "Hourly cost of one vCPU of the node, $/vCPU-h.", _NODE_LABELS, "nodes"),
    Family("node_ram_hourly_cost", "Hourly cost of one GiB of the node's RAM, $/GiB-h.", _NODE_LABELS, "nodes"),
    Family("node_gpu_hourly_cost", "Hourly cost of one GPU of the node, $/GPU-h.", _NODE_LABELS, "nodes"),
    Family("node_total_hourly_cost", "Hourly cost of the node, $/h.", _NODE_LABELS, "nodes"),
    Family("node_gpu_count", "GPUs of the node.", _NODE_LABELS, "nodes"),
    Family("kubecost_node_is_spot", "1 when the node is spot or preemptible, else 0.", _NODE_LABELS, "nodes"),
    Family("pv_hourly_cost", "Hourly cost of one GiB of the persistent volume, $/GiB-h.", _PV_LABELS, "volumes"),
    Family(
        "container_cpu_allocation",
        "CPU cores allocated to the container: max(request, usage), averaged over its running time.",
        _CONTAINER_LABELS,
        "containers",
    ),
    Family(
        "container_memory_allocation_bytes",
        "RAM bytes allocated to the container: max(request, usage), averaged over its running time.",
        _CONTAINER_LABELS,
        "containers",
    ),
    Family(
        "container_gpu_allocation",
        "GPUs allocated to the container: max(request, usage), averaged over its running time.",
        _CONTAINER_LABELS,
        "containers",
    ),
    Family("pod_pvc_allocation", "Bytes of the persistent volume the pod's claim mounts.", _CLAIM_LABELS, "claims"),
    Family(
        "kubecost_load_balancer_cost",
        "Hourly cost of the load balancer, $/h.",
        ("ingress_ip", "namespace", "service_name"),
        "balancers",
    ),
    Family(
        "kubecost_cluster_management_cost",
        "Hourly cluster management fee, $/h.",
        ("provisioner_name",),
        "management",
    ),
)
"""Every OpenCost family kubetally emits from the ledger, in exposition order."""

EGRESS_FAMILIES: tuple[tuple[str, str], ...] = (
    ("kubecost_network_zone_egress_cost", "zone_egress_price_per_gib"),
    ("kubecost_network_region_egress_cost", "region_egress_price_per_gib"),
    ("kubecost_network_internet_egress_cost", "internet_egress_price_per_gib"),
)
"""(family, price book attribute) of the egress prices, $/GiB."""


@dataclass(frozen=True)
class Exposition:
    """The series of every family: one frame per query of :data:`QUERIES`, plus the hours they describe."""

    frames: dict[str, pl.DataFrame]
    latest_hours: pl.DataFrame
    """``cluster_id``, ``hour``: each cluster's latest complete hour."""
    egress: pl.DataFrame
    """``cluster_id`` and one column per egress family."""


def latest_hours(ledger: Reader) -> pl.DataFrame:
    """Each cluster's latest complete (final) hour: ``cluster_id``, ``hour``."""
    return ledger.fetch(_LATEST_HOURS)


def read_exposition(ledger: Reader, prices: PriceBook | None) -> Exposition:
    """Every family's series for the latest complete hour of each cluster."""
    frames = {name: ledger.fetch(sql) for name, sql in QUERIES.items()}
    hours = latest_hours(ledger)
    columns: dict[str, pl.Series | list[float]] = {CLUSTER_LABEL: hours.get_column(CLUSTER_LABEL)}
    if prices is not None:
        custom = prices.custom
        for family, attribute in EGRESS_FAMILIES:
            columns[family] = [float(getattr(custom, attribute))] * hours.height
    return Exposition(frames, hours, pl.DataFrame(columns))


def latest_end(exposition: Exposition) -> datetime | None:
    """The end of the latest complete hour over all clusters, or None when the ledger has none."""
    if exposition.latest_hours.is_empty():
        return None
    hour: datetime = exposition.latest_hours.get_column("hour").max()  # type: ignore[assignment]
    return hour + timedelta(hours=1)


def last_ingest(ledger: Reader) -> datetime | None:
    """When the latest ingest run finished, or None when nothing was ever written."""
    frame = ledger.fetch("SELECT max(finished_at) AS finished FROM ingest_runs")
    finished: datetime | None = frame.item() if frame.height else None
    return finished

"""CostResult: what the engine produces and the ledger stores, one row per container and hour bucket.

The ledger's schema module derives its DDL from these schemas; the query layer reads these columns.

Row kinds in ``allocations`` (column ``kind``):

* ``workload`` — one container of one pod over one hour bucket.
* ``unmounted`` — storage or load-balancer cost with no running pod using it (name ``__unmounted__``);
  ``namespace`` is the claim's / service's namespace, or null for a PV with no claim; ``node`` is null.
* ``idle`` — per node and hour: node resource cost minus what workloads on it were charged (never negative);
  ``namespace``/``pod``/``container`` null.

Invariant, per cluster and hour: Σ assets.total_cost = Σ allocations.total_cost (all kinds) + Σ overhead,
where overhead is the ``ClusterManagement`` assets.

Cost columns: ``*_cost`` is quantity x unit price; ``*_cost_adjustment`` is the (negative) over-commit
correction, so the charged cost of a resource is ``*_cost + *_cost_adjustment``. ``*_bill_adjustment`` is the
row's share of the difference between a cloud bill and the estimated cost of its node (cpu, ram, gpu) or volumes
(pv), 0 until a bill is reconciled (docs/reconciliation.md). ``total_cost`` is the sum of every resource cost and
adjustment of the row, bill adjustments included.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kubetally.history import STRING_MAP, TIME

ROW_KINDS = ("workload", "unmounted", "idle")
ASSET_TYPES = ("Node", "Disk", "LoadBalancer", "ClusterManagement", "Network")

ALLOCATIONS = pl.Schema(
    {
        "cluster": pl.String(),
        "hour": TIME,
        "kind": pl.String(),
        "node": pl.String(),
        "namespace": pl.String(),
        "pod": pl.String(),
        "pod_uid": pl.String(),
        "container": pl.String(),
        "running_minutes": pl.Float64(),
        "cpu_core_request_average": pl.Float64(),
        "cpu_core_usage_average": pl.Float64(),
        "cpu_core_usage_max": pl.Float64(),
        "cpu_core_hours": pl.Float64(),
        "cpu_cost": pl.Float64(),
        "cpu_cost_adjustment": pl.Float64(),
        "ram_byte_request_average": pl.Float64(),
        "ram_byte_usage_average": pl.Float64(),
        "ram_byte_usage_max": pl.Float64(),
        "ram_byte_hours": pl.Float64(),
        "ram_cost": pl.Float64(),
        "ram_cost_adjustment": pl.Float64(),
        "gpu_request_average": pl.Float64(),
        "gpu_usage_average": pl.Float64(),
        "gpu_hours": pl.Float64(),
        "gpu_cost": pl.Float64(),
        "gpu_cost_adjustment": pl.Float64(),
        "pv_byte_hours": pl.Float64(),
        "pv_cost": pl.Float64(),
        "network_transfer_bytes": pl.Float64(),
        "network_receive_bytes": pl.Float64(),
        "network_cross_zone_cost": pl.Float64(),
        "network_cross_region_cost": pl.Float64(),
        "network_internet_cost": pl.Float64(),
        "network_cost": pl.Float64(),
        "load_balancer_cost": pl.Float64(),
        "total_cost": pl.Float64(),
        "price_source": pl.String(),
        "cpu_bill_adjustment": pl.Float64(),
        "ram_bill_adjustment": pl.Float64(),
        "gpu_bill_adjustment": pl.Float64(),
        "pv_bill_adjustment": pl.Float64(),
        "running_start": TIME,
        "running_end": TIME,
    }
)
"""``running_minutes`` is the billed running time of the container in the bucket (after minimum runtime);
request/usage averages are over that running time (0 when it did not run). ``network_cost`` is the sum of the
three class costs plus priced unclassified egress. ``*_bill_adjustment`` (last, so that a migrated ledger has
the same column order as a new one) are 0 from the engine: reconciling a cloud bill sets them.

``running_start``/``running_end`` (appended last for the same reason) are the first and the last instant of the
row's charged time within its bucket: of a workload row, the container's running intervals (and its waiting
intervals when reserved waiting is charged); of an idle row, the node's existence. They are null where the row has
no such time (unmounted rows, rows with only storage, load balancer or network cost, rows written before schema
version 5): readers take the bucket's bounds then."""

ALLOCATION_PVS = pl.Schema(
    {
        "cluster": pl.String(),
        "hour": TIME,
        "kind": pl.String(),
        "namespace": pl.String(),
        "pod_uid": pl.String(),
        "container": pl.String(),
        "pv": pl.String(),
        "provider_id": pl.String(),
        "pv_byte_hours": pl.Float64(),
        "pv_cost": pl.Float64(),
    }
)
"""Per-volume detail of ``pv_cost`` (OpenCost ``pvs``); ``kind`` is workload or unmounted."""

ALLOCATION_LBS = pl.Schema(
    {
        "cluster": pl.String(),
        "hour": TIME,
        "kind": pl.String(),
        "namespace": pl.String(),
        "pod_uid": pl.String(),
        "container": pl.String(),
        "service": pl.String(),
        "ip": pl.String(),
        "private": pl.Boolean(),
        "hours": pl.Float64(),
        "load_balancer_cost": pl.Float64(),
    }
)
"""Per-service detail of ``load_balancer_cost`` (OpenCost ``lbAllocations``)."""

POD_DIMENSIONS = pl.Schema(
    {
        "cluster": pl.String(),
        "pod_uid": pl.String(),
        "namespace": pl.String(),
        "pod": pl.String(),
        "node": pl.String(),
        "provider_id": pl.String(),
        "controller_kind": pl.String(),
        "controller": pl.String(),
        "services": pl.List(pl.String()),
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
        "namespace_labels": STRING_MAP,
        "namespace_annotations": STRING_MAP,
        "cronjob": pl.String(),
    }
)
"""One row per pod: the properties allocations are filtered and aggregated by. ``provider_id`` is the node's;
``controller_kind``, ``controller`` and ``cronjob`` are as in :data:`kubetally.history.PODS` (``cronjob`` last: a
migrated ledger gains it as its last column)."""

ASSETS = pl.Schema(
    {
        "cluster": pl.String(),
        "hour": TIME,
        "type": pl.String(),
        "name": pl.String(),
        "provider_id": pl.String(),
        "category": pl.String(),
        "service": pl.String(),
        "labels": STRING_MAP,
        "minutes": pl.Float64(),
        "node_type": pl.String(),
        "region": pl.String(),
        "zone": pl.String(),
        "preemptible": pl.Boolean(),
        "discount": pl.Float64(),
        "cpu_cores": pl.Float64(),
        "ram_bytes": pl.Float64(),
        "gpu_count": pl.Float64(),
        "cpu_core_hours": pl.Float64(),
        "ram_byte_hours": pl.Float64(),
        "gpu_hours": pl.Float64(),
        "cpu_cost": pl.Float64(),
        "ram_cost": pl.Float64(),
        "gpu_cost": pl.Float64(),
        "bytes": pl.Float64(),
        "byte_hours": pl.Float64(),
        "storage_class": pl.String(),
        "claim": pl.String(),
        "claim_namespace": pl.String(),
        "namespace": pl.String(),
        "ip": pl.String(),
        "private": pl.Boolean(),
        "adjustment": pl.Float64(),
        "total_cost": pl.Float64(),
        "price_source": pl.String(),
    }
)
"""One row per asset and hour bucket. Type-specific columns are null for other types. ``minutes`` is the
asset's existence in the bucket. For Network assets (one per cluster and hour) ``cost`` columns are zero and
``total_cost`` is the priced egress. ``adjustment`` is 0 until a bill reconciles the asset."""


@dataclass(frozen=True)
class CostResult:
    """The engine's output for one ClusterHistory: ledger-ready frames with the schemas above."""

    allocations: pl.DataFrame
    allocation_pvs: pl.DataFrame
    allocation_lbs: pl.DataFrame
    pods: pl.DataFrame
    assets: pl.DataFrame


COST_SCHEMAS: dict[str, pl.Schema] = {
    "allocations": ALLOCATIONS,
    "allocation_pvs": ALLOCATION_PVS,
    "allocation_lbs": ALLOCATION_LBS,
    "pods": POD_DIMENSIONS,
    "assets": ASSETS,
}

"""The query fixture: a tiny hand-written CostResult (two clusters, two hours), documented in docs/query.md.

Costs are whole dollars so that every expected figure of the tests can be computed by hand:

=====  =======  ====  ===========================  ======  ======  ==========================
hour   cluster  node  row (namespace/pod/container) cpu $   ram $   other
=====  =======  ====  ===========================  ======  ======  ==========================
H0     c1       n1    a/web-1/app                   4       2
H0     c1       n1    kube-system/dns-1/dns         1       1
H0     c1       n1    idle                          3       1
H0     c1       n2    b/api-1/api                   2       2       pv 1
H0     c1       n2    idle                          2       0
H0     c1       —     unmounted (namespace b)       0       0       pv 1
H0     c2       m1    a/web-2/app                   1       1
H0     c2       m1    idle                          1       1
H1     c1       n1    a/web-1/app                   4       2
H1     c1       n1    idle                          2       2
H1     c1       n2    b/api-1/api                   2       2       network 1
H1     c1       n2    idle                          2       0
=====  =======  ====  ===========================  ======  ======  ==========================

Assets: nodes n1 (12, 10), n2 (6, 6), m1 (4, —); disk pv-1 in H0 (2); network c1 H1 (1); ClusterManagement c1
0.1 per hour. Σ assets 41.2 = Σ allocations 27 + Σ idle 14 + overhead 0.2.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from kubetally.costs import ALLOCATION_LBS, ALLOCATION_PVS, ALLOCATIONS, ASSETS, POD_DIMENSIONS, CostResult
from kubetally.history import STRING_MAP
from kubetally.ledger import Ledger, RunInfo

H0 = datetime(2026, 11, 1, 0, tzinfo=UTC)
H1 = H0 + timedelta(hours=1)
END = H0 + timedelta(hours=2)
WINDOW = "2026-11-01T00:00:00Z,2026-11-01T02:00:00Z"
NOW = datetime(2026, 11, 2, tzinfo=UTC)
GIB = 2.0**30


def _frame(rows: list[dict[str, Any]], schema: pl.Schema) -> pl.DataFrame:
    """Rows with missing numeric columns 0 and other missing columns null."""
    full = []
    for row in rows:
        filled: dict[str, Any] = {}
        for column, dtype in schema.items():
            if column in row:
                filled[column] = row[column]
            elif dtype == pl.Float64:
                filled[column] = 0.0
            elif dtype == STRING_MAP or isinstance(dtype, pl.List):
                filled[column] = []
            else:
                filled[column] = None
        full.append(filled)
    return pl.DataFrame(full, schema=schema, orient="row") if full else pl.DataFrame(schema=schema)


def _workload(
    hour: datetime, cluster: str, node: str, ns: str, pod: str, uid: str, container: str, **costs: float
) -> dict[str, Any]:
    cpu = costs.get("cpu_cost", 0.0)
    ram = costs.get("ram_cost", 0.0)
    total = cpu + ram + costs.get("pv_cost", 0.0) + costs.get("network_cost", 0.0)
    return {
        "cluster": cluster,
        "hour": hour,
        "kind": "workload",
        "node": node,
        "namespace": ns,
        "pod": pod,
        "pod_uid": uid,
        "container": container,
        "running_minutes": 60.0,
        "total_cost": total,
        "price_source": "default",
        **costs,
    }


def _idle(hour: datetime, cluster: str, node: str, cpu: float, ram: float) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "hour": hour,
        "kind": "idle",
        "node": node,
        "cpu_cost": cpu,
        "ram_cost": ram,
        "cpu_core_hours": cpu,
        "total_cost": cpu + ram,
        "price_source": "default",
    }


def _web(hour: datetime) -> dict[str, Any]:
    return _workload(
        hour, "c1", "n1", "a", "web-1", "u1", "app",
        cpu_cost=4.0, ram_cost=2.0, cpu_core_hours=2.0, cpu_core_request_average=2.0,
        cpu_core_usage_average=1.0, cpu_core_usage_max=1.5, ram_byte_hours=4 * GIB,
        ram_byte_request_average=4 * GIB, ram_byte_usage_average=2 * GIB, ram_byte_usage_max=3 * GIB,
    )  # fmt: skip


def allocation_rows() -> list[dict[str, Any]]:
    """The allocation rows of the table in the module docstring."""
    return [
        _web(H0),
        _workload(H0, "c1", "n1", "kube-system", "dns-1", "u2", "dns", cpu_cost=1.0, ram_cost=1.0,
                  cpu_core_hours=1 / 3, network_transfer_bytes=0.0),
        _idle(H0, "c1", "n1", 3.0, 1.0),
        _workload(H0, "c1", "n2", "b", "api-1", "u3", "api", cpu_cost=2.0, ram_cost=2.0, pv_cost=1.0,
                  pv_byte_hours=GIB, cpu_core_hours=1.0, network_transfer_bytes=300.0),
        _idle(H0, "c1", "n2", 2.0, 0.0),
        {"cluster": "c1", "hour": H0, "kind": "unmounted", "namespace": "b", "pv_cost": 1.0,
         "pv_byte_hours": GIB, "total_cost": 1.0, "price_source": "default"},
        _workload(H0, "c2", "m1", "a", "web-2", "u4", "app", cpu_cost=1.0, ram_cost=1.0, cpu_core_hours=1.0,
                  cpu_core_request_average=1.0, cpu_core_usage_average=0.5, cpu_core_usage_max=float("nan"),
                  network_transfer_bytes=100.0),
        _idle(H0, "c2", "m1", 1.0, 1.0),
        _web(H1),
        _idle(H1, "c1", "n1", 2.0, 2.0),
        _workload(H1, "c1", "n2", "b", "api-1", "u3", "api", cpu_cost=2.0, ram_cost=2.0, network_cost=1.0,
                  network_internet_cost=1.0, cpu_core_hours=1.0, network_transfer_bytes=600.0),
        _idle(H1, "c1", "n2", 2.0, 0.0),
    ]  # fmt: skip


def _labels(**values: str) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in values.items()]


def pod_rows() -> list[dict[str, Any]]:
    """The pods dimension: web pods are labelled app=web; every pod has a team label except dns."""

    def pod(cluster: str, uid: str, ns: str, name: str, node: str, kind: str, controller: str, **labels: str):  # type: ignore[no-untyped-def]
        return {
            "cluster": cluster, "pod_uid": uid, "namespace": ns, "pod": name, "node": node,
            "provider_id": f"pid-{node}", "controller_kind": kind, "controller": controller,
            "services": ["web"] if ns == "a" else [], "labels": _labels(**labels),
            "annotations": [], "namespace_labels": [], "namespace_annotations": [],
        }  # fmt: skip

    return [
        pod("c1", "u1", "a", "web-1", "n1", "deployment", "web", app="web", team="t1"),
        pod("c1", "u2", "kube-system", "dns-1", "n1", "daemonset", "dns"),
        pod("c1", "u3", "b", "api-1", "n2", "statefulset", "api", team="t2"),
        pod("c2", "u4", "a", "web-2", "m1", "deployment", "web", app="web", team="t1"),
    ]


def _node(hour: datetime, cluster: str, name: str, cpu: float, ram: float) -> dict[str, Any]:
    return {
        "cluster": cluster, "hour": hour, "type": "Node", "name": name, "provider_id": f"pid-{name}",
        "category": "Compute", "service": "Kubernetes", "labels": [], "minutes": 60.0, "node_type": "m5.large",
        "preemptible": False, "cpu_cores": 2.0, "ram_bytes": 8 * GIB, "cpu_core_hours": 2.0,
        "ram_byte_hours": 8 * GIB, "cpu_cost": cpu, "ram_cost": ram, "total_cost": cpu + ram,
        "price_source": "default",
    }  # fmt: skip


def asset_rows() -> list[dict[str, Any]]:
    """Nodes, one disk, network and cluster management, adding up to the allocations and idle."""
    rows = [
        _node(H0, "c1", "n1", 8.0, 4.0),
        _node(H0, "c1", "n2", 4.0, 2.0),
        _node(H0, "c2", "m1", 2.0, 2.0),
        _node(H1, "c1", "n1", 6.0, 4.0),
        _node(H1, "c1", "n2", 4.0, 2.0),
        {"cluster": "c1", "hour": H0, "type": "Disk", "name": "pv-1", "provider_id": "disk-1",
         "category": "Storage", "service": "Kubernetes", "minutes": 60.0, "bytes": 10 * GIB,
         "byte_hours": 10 * GIB, "storage_class": "standard", "claim": "data", "claim_namespace": "b",
         "total_cost": 2.0, "price_source": "default"},
        {"cluster": "c1", "hour": H1, "type": "Network", "name": "c1", "category": "Network",
         "service": "Kubernetes", "minutes": 60.0, "total_cost": 1.0, "price_source": "default"},
    ]  # fmt: skip
    for hour in (H0, H1):
        rows.append(
            {"cluster": "c1", "hour": hour, "type": "ClusterManagement", "name": "c1", "category": "Management",
             "service": "Kubernetes", "minutes": 60.0, "total_cost": 0.1, "price_source": "default"}
        )  # fmt: skip
    return rows


def pv_rows() -> list[dict[str, Any]]:
    """pv-1 in H0: half to api-1, half unmounted (the pv costs of the allocation rows)."""
    pv = {"cluster": "c1", "hour": H0, "namespace": "b", "pv": "pv-1", "provider_id": "disk-1",
          "pv_byte_hours": GIB, "pv_cost": 1.0}  # fmt: skip
    return [
        {**pv, "kind": "workload", "pod_uid": "u3", "container": "api"},
        {**pv, "kind": "unmounted"},
    ]


def lb_rows() -> list[dict[str, Any]]:
    """A free internal load balancer (service a/web) used by web-1 in H1: detail only, no cost."""
    return [
        {"cluster": "c1", "hour": H1, "kind": "workload", "namespace": "a", "pod_uid": "u1", "container": "app",
         "service": "web", "ip": "10.0.0.1", "private": True, "hours": 1.0, "load_balancer_cost": 0.0}
    ]  # fmt: skip


def cost_result(node_cost_error: float = 0.0) -> CostResult:
    """The fixture; ``node_cost_error`` adds dollars to node n1's H0 cost (breaking the invariant)."""
    assets = _frame(asset_rows(), ASSETS).with_columns(
        total_cost=pl.when((pl.col("name") == "n1") & (pl.col("hour") == H0))
        .then(pl.col("total_cost") + node_cost_error)
        .otherwise(pl.col("total_cost"))
    )
    return CostResult(
        allocations=_frame(allocation_rows(), ALLOCATIONS),
        allocation_pvs=_frame(pv_rows(), ALLOCATION_PVS),
        allocation_lbs=_frame(lb_rows(), ALLOCATION_LBS),
        pods=_frame(pod_rows(), POD_DIMENSIONS),
        assets=assets,
    )


def build_ledger(path: Path, node_cost_error: float = 0.0) -> Path:
    """Write the fixture through the real Ledger into a DuckDB file at ``path``."""
    with Ledger.open(path) as ledger:
        ledger.write(
            cost_result(node_cost_error), clusters=["c1", "c2"], start=H0, end=END, run=RunInfo(source="fixture")
        )
    return path

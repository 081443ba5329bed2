"""Per-volume and per-load-balancer detail of allocations: OpenCost's ``pvs`` and ``lbAllocations``.

The detail tables (``allocation_pvs``, ``allocation_lbs``) are grouped by the same names, filter and share
rules as the allocations, so that an allocation lists exactly the volumes and load balancers its rows paid for
(shared rows pass their cost on as ``sharedCost``, not as details).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from kubetally.domain.aggregation import KeySource
from kubetally.domain.names import SEPARATOR, UNALLOCATED
from kubetally.query.filtering import compile_allocation_filter, filter_fields
from kubetally.query.names import complete_groups
from kubetally.query.shape import clean
from kubetally.query.sql import GroupSpec, Sql, key_sql, set_index_sql, share_sql

Details = dict[tuple[int, str], dict[str, dict[str, Any]]]
"""(set index, allocation name) → detail key → detail object."""


@dataclass(frozen=True)
class DetailTable:
    """A detail table: the columns identifying one item and the quantities summed per item."""

    table: str
    columns: tuple[str, ...]
    sums: tuple[str, ...]


PVS = DetailTable("allocation_pvs", ("pv", "provider_id"), ("pv_byte_hours", "pv_cost"))
LBS = DetailTable("allocation_lbs", ("namespace", "service", "ip", "private"), ("hours", "load_balancer_cost"))


def _reads(spec: GroupSpec) -> set[str]:
    """The allocation and pod columns the keys, the filter and the share rule read."""
    columns = {key.column or "" for key in spec.keys}
    for tree in (spec.filter, spec.share.filter):
        if tree is not None:
            columns |= {FILTER_COLUMNS.get(field, "pods") for field in filter_fields(tree)}
    if spec.share.labels:
        columns.add("pods")
    return columns


FILTER_COLUMNS = {
    "cluster": "cluster",
    "node": "node",
    "namespace": "namespace",
    "pod": "pod",
    "container": "container",
}
"""Filter fields read from the row itself; every other field reads the pods dimension."""


def detail_sql(spec: GroupSpec, detail: DetailTable) -> Sql:
    """Detail rows summed per set, name parts and item, with the share and filter flags of their allocation.

    The detail tables have no node or pod name: those come from ``pods`` when something reads them.
    """
    reads = _reads(spec)
    row_pod = bool(reads & {"node", "pod"})
    needs_pods = any(key.needs_pods for key in spec.keys) or "pods" in reads
    sql = Sql().add("SELECT a.kind AS kind, a.cluster AS cluster")
    if len(spec.sets) > 1:
        sql.add(f", {set_index_sql(spec.sets)} AS set_idx")
    if not spec.share.empty:
        sql.add(", ")
        share_sql(spec.share, sql)
        sql.add(" AS shared")
    if spec.filter is not None:
        fragment, params, _ = compile_allocation_filter(spec.filter)
        sql.add(f", coalesce({fragment}, false) AS in_filter", *params)
    for i, key in enumerate(spec.keys):
        if key.source is not KeySource.ALL:
            sql.add(", ")
            key_sql(key, sql)
            sql.add(f" AS k{i}")
    sql.add("".join(f", a.{c} AS d_{c}" for c in detail.columns))
    sql.add("".join(f", sum(a.{c}) AS {c}" for c in detail.sums))
    if row_pod:
        source = (
            f"(SELECT v.*, pp.node AS node, pp.pod AS pod FROM {detail.table} v LEFT JOIN pods pp"
            " ON pp.cluster = v.cluster AND pp.pod_uid = v.pod_uid WHERE v.hour >= ? AND v.hour < ?) a"
        )
        sql.add(f" FROM {source}", spec.window.start, spec.window.end)
    else:
        sql.add(f" FROM {detail.table} a")
    if needs_pods:
        sql.add(" LEFT JOIN pods p ON p.cluster = a.cluster AND p.pod_uid = a.pod_uid")
    if not row_pod:
        sql.add(" WHERE a.hour >= ? AND a.hour < ?", spec.window.start, spec.window.end)
    return sql.add(" GROUP BY ALL")


def _items(frame: pl.DataFrame, spec: GroupSpec, detail: DetailTable) -> pl.DataFrame:
    parts = [pl.col(f"k{i}").fill_null(UNALLOCATED) for i in range(len(spec.keys))]
    frame = complete_groups(frame, spec.keys)
    return (
        frame.filter(~pl.col("shared") & pl.col("in_filter"))
        .with_columns(name=pl.concat_str(parts, separator=SEPARATOR), set_idx=pl.col("set_idx").cast(pl.Int64))
        .group_by("set_idx", "name", "cluster", *(f"d_{c}" for c in detail.columns))
        .agg(*(pl.col(c).sum() for c in detail.sums))
        .sort("set_idx", "name", "cluster", *(f"d_{c}" for c in detail.columns), nulls_last=True)
    )


def pv_details(frame: pl.DataFrame, spec: GroupSpec) -> Details:
    """``pvs``: ``cluster=<c>:name=<pv>`` → ``{byteHours, cost, providerID}``."""
    details: Details = {}
    for row in _items(frame, spec, PVS).iter_rows(named=True):
        key = f"cluster={row['cluster']}:name={row['d_pv']}"
        item = {"byteHours": row["pv_byte_hours"], "cost": row["pv_cost"], "providerID": row["d_provider_id"]}
        details.setdefault((row["set_idx"], row["name"]), {})[key] = {k: clean(v) for k, v in item.items()}
    return details


def lb_details(frame: pl.DataFrame, spec: GroupSpec) -> Details:
    """``lbAllocations``: ``<cluster>/<namespace>/<service>`` → ``{service, cost, private, ip, hours}``."""
    details: Details = {}
    for row in _items(frame, spec, LBS).iter_rows(named=True):
        service = f"{row['d_namespace']}/{row['d_service']}"
        item = {
            "service": service,
            "cost": row["load_balancer_cost"],
            "private": bool(row["d_private"]),
            "ip": row["d_ip"] or "",
            "hours": row["hours"],
        }
        details.setdefault((row["set_idx"], row["name"]), {})[f"{row['cluster']}/{service}"] = {
            k: clean(v) for k, v in item.items()
        }
    return details

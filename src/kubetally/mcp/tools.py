"""What each MCP tool computes: a query built from the same parameters as the HTTP API, narrowed to the caller's
scope, answered through the query layer and shaped as the tool's structured output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kubetally.domain.filter_ast import And, Comparison, FieldKind, Op
from kubetally.domain.window import Window
from kubetally.errors import Forbidden, InvalidParameter
from kubetally.mcp.context import Backend
from kubetally.mcp.models import (
    AggregationValues,
    AllocationCosts,
    AllocationSetOut,
    AssetCosts,
    AssetSetOut,
    CloudCostRow,
    CloudCosts,
    Efficiency,
    IdleCosts,
    IdleShareOut,
    TimeRange,
    WorkloadEfficiency,
)
from kubetally.query import AllocationQuery, AssetQuery
from kubetally.query.cloud import EMPTY_NOTE, cloud_cost_frame
from kubetally.query.efficiency import efficiency_frame
from kubetally.query.idle_summary import IdleBy, IdleShare, idle_params, summarize_idle
from kubetally.query.scope import Scope, scope_allocation, scope_assets

ALLOCATION_FIELDS = (
    "properties",
    "start",
    "end",
    "minutes",
    "cpuCoreRequestAverage",
    "cpuCoreUsageAverage",
    "cpuCost",
    "cpuCostAdjustment",
    "cpuCostIdle",
    "cpuEfficiency",
    "gpuCost",
    "gpuCostIdle",
    "ramByteRequestAverage",
    "ramByteUsageAverage",
    "ramCost",
    "ramCostAdjustment",
    "ramCostIdle",
    "ramEfficiency",
    "networkCost",
    "loadBalancerCost",
    "pvCost",
    "pvs",
    "sharedCost",
    "externalCost",
    "totalEfficiency",
    "totalCost",
)
"""The allocation fields a tool returns (OpenCost's names and values, unchanged)."""

SHARE_PARAMETERS = {
    "share_namespaces": "share_namespaces",
    "share_labels": "share_labels",
    "share_filter": "share_filter",
    "share_cost_per_month": "share_cost",
    "share_tenancy_costs": "share_tenancy_costs",
}
"""AllocationQuery sharing fields and the tool argument each comes from (for refusals to scoped callers)."""

ASSET_TYPES = ("Node", "Disk", "LoadBalancer", "Network", "ClusterManagement")
"""The asset types of the ledger (``type`` argument of get_asset_costs, case-insensitive)."""


def _range(window: Window) -> TimeRange:
    data = window.to_json()
    return TimeRange(start=str(data["start"]), end=str(data["end"]))


def _total(data: Mapping[str, Mapping[str, Any]]) -> float:
    return round(sum(float(row.get("totalCost") or 0.0) for row in data.values()), 5)


def allocation_query(backend: Backend, scope: Scope, params: Mapping[str, str]) -> AllocationQuery:
    """The query of ``params`` (/allocation's names) parsed like the API, checked and narrowed to ``scope``."""
    query = AllocationQuery.from_params({k: v for k, v in params.items() if v}, backend.clock())
    backend.check_window(query.window)
    return scope_allocation(query, scope, SHARE_PARAMETERS)


def allocation_costs(backend: Backend, scope: Scope, params: Mapping[str, str]) -> AllocationCosts:
    """Every set of the allocation query of ``params``."""
    query = allocation_query(backend, scope, params)
    sets = backend.cache.allocation(backend.reader(), query)
    out = [
        AllocationSetOut(
            window=_range(window),
            total_cost=_total(data),
            allocations={name: {f: row[f] for f in ALLOCATION_FIELDS if f in row} for name, row in data.items()},
        )
        for window, data in zip(query.sets, sets, strict=True)
    ]
    return AllocationCosts(
        window=_range(query.window),
        aggregate=params.get("aggregate", ""),
        filter=params.get("filter", ""),
        total_cost=round(sum(s.total_cost for s in out), 5),
        sets=out,
    )


def asset_costs(backend: Backend, scope: Scope, params: Mapping[str, str], asset_type: str) -> AssetCosts:
    """Every set of the asset query of ``params``, only assets of ``asset_type`` when given."""
    query = AssetQuery.from_params({k: v for k, v in params.items() if v}, backend.clock())
    backend.check_window(query.window)
    if asset_type.strip():
        canonical = {t.lower(): t for t in ASSET_TYPES}.get(asset_type.strip().lower())
        if canonical is None:
            raise InvalidParameter(
                "type", f"unknown asset type {asset_type!r}; expected one of {', '.join(ASSET_TYPES)}"
            )
        by_type = Comparison("type", FieldKind.SCALAR, Op.EQ, (canonical,))
        query = replace(query, filter=by_type if query.filter is None else And((query.filter, by_type)))
    query = scope_assets(query, scope)
    sets = backend.cache.assets(backend.reader(), query)
    out = [
        AssetSetOut(window=_range(window), total_cost=_total(data), assets=dict(data))
        for window, data in zip(query.sets, sets, strict=True)
    ]
    return AssetCosts(
        window=_range(query.window),
        type=asset_type,
        filter=params.get("filter", ""),
        total_cost=round(sum(s.total_cost for s in out), 5),
        sets=out,
    )


def cloud_costs(backend: Backend, scope: Scope, window: str, aggregate: str, filter_text: str) -> CloudCosts:
    """Cloud bill costs of the window; Forbidden for a scoped caller (bills are account-wide)."""
    if not scope.unrestricted:
        raise Forbidden(f"cloud bills are account-wide; an identity scoped to {scope.describe()} cannot read them")
    parsed = AssetQuery.from_params({"window": window}, backend.clock()).window
    backend.check_window(parsed)
    frame = cloud_cost_frame(backend.reader(), parsed, aggregate, filter_text)
    rows = [CloudCostRow(**row) for row in frame.fill_null(0.0).to_dicts()]
    return CloudCosts(
        window=_range(parsed),
        aggregate=aggregate,
        filter=filter_text,
        total_billed_cost=round(sum(r.billed_cost for r in rows), 5),
        rows=rows,
        note=None if rows else EMPTY_NOTE,
    )


def _idle_out(share: IdleShare) -> IdleShareOut:
    return IdleShareOut(
        name=share.name, total_cost=share.total_cost, idle_cost=share.idle_cost, idle_percent=share.idle_percent
    )


def idle_costs(backend: Backend, scope: Scope, window: str, by: IdleBy) -> IdleCosts:
    """The idle summary of the window; Forbidden for a scoped caller (idle is a cluster-wide figure)."""
    if not scope.unrestricted:
        raise Forbidden(f"idle cost is cluster-wide; an identity scoped to {scope.describe()} cannot read it")
    query = allocation_query(backend, scope, idle_params(window, by))
    summary = summarize_idle(backend.cache.allocation(backend.reader(), query))
    return IdleCosts(
        window=_range(query.window),
        by=by.value,
        overall=_idle_out(summary.overall),
        resources=[_idle_out(r) for r in summary.resources],
        breakdown=[_idle_out(g) for g in summary.groups],
    )


def efficiency(
    backend: Backend, scope: Scope, window: str, aggregate: str, filter_text: str, *, headroom: float
) -> Efficiency:
    """Right-sizing of the workloads of ``aggregate`` over the window (one set, idle hidden)."""
    params = {"window": window, "aggregate": aggregate, "filter": filter_text, "accumulate": "true", "idle": "hide"}
    query = allocation_query(backend, scope, params)
    frame = efficiency_frame(backend.cache.allocation(backend.reader(), query), headroom)
    workloads = [
        WorkloadEfficiency(
            name=row["name"],
            total_cost=row["total_cost"],
            cpu_core_request_average=row["cpuCoreRequestAverage"],
            cpu_core_usage_average=row["cpuCoreUsageAverage"],
            cpu_efficiency=row["cpu_efficiency"],
            cpu_recommended_request=round(row["cpu_recommended_request"], 5),
            ram_byte_request_average=row["ramByteRequestAverage"],
            ram_byte_usage_average=row["ramByteUsageAverage"],
            ram_efficiency=row["ram_efficiency"],
            ram_recommended_request=round(row["ram_recommended_request"]),
            saving=round(row["saving"], 5),
            monthly_saving=round(row["monthly_saving"], 2),
        )
        for row in frame.to_dicts()
    ]
    positive = sum(w.monthly_saving for w in workloads if w.monthly_saving > 0)
    return Efficiency(
        window=_range(query.window),
        aggregate=aggregate,
        headroom=headroom,
        total_monthly_saving=round(positive, 2),
        workloads=workloads,
    )


def _reserved(value: str) -> bool:
    """Whether ``value`` is a name kubetally gives rows (``__unmounted__``, ...), not a Kubernetes value."""
    return value.startswith("__") and value.endswith("__")


def aggregation_values(backend: Backend, scope: Scope, window: str, filter_text: str) -> AggregationValues:
    """The clusters, nodes, namespaces, controllers and labels of the (scope's) workloads in the window, without
    kubetally's own row names (``__unmounted__``, ``__idle__``)."""
    params = {"window": window, "filter": filter_text, "accumulate": "true", "idle": "hide"}
    query = allocation_query(backend, scope, params)
    rows = [
        row.get("properties") or {}
        for data in backend.cache.allocation(backend.reader(), query)
        for row in data.values()
    ]
    labels: dict[str, set[str]] = {}
    for props in rows:
        for key, value in (props.get("labels") or {}).items():
            labels.setdefault(key, set()).add(value)

    def values(field: str) -> list[str]:
        return sorted({str(p[field]) for p in rows if p.get(field) and not _reserved(str(p[field]))})

    controllers = sorted({f"{p['controllerKind']}:{p['controller']}" for p in rows if p.get("controller")})
    return AggregationValues(
        window=_range(query.window),
        clusters=values("cluster"),
        nodes=values("node"),
        namespaces=values("namespace"),
        controller_kinds=values("controllerKind"),
        controllers=controllers,
        labels={key: sorted(found) for key, found in sorted(labels.items())},
    )

"""What each MCP tool computes: a query built from the same parameters as the HTTP API, narrowed to the caller's
scope, answered through the query layer and shaped as the tool's structured output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kubetally.domain.filter_ast import And, Comparison, FieldKind, Op
from kubetally.errors import Forbidden, InvalidParameter
from kubetally.mcp import allocations
from kubetally.mcp.allocations import allocation_query, is_idle, time_range
from kubetally.mcp.context import Backend
from kubetally.mcp.models import (
    AggregationValues,
    AllocationCosts,
    AssetCosts,
    AssetSetOut,
    CloudCostRow,
    CloudCosts,
    Efficiency,
    IdleCosts,
    IdleShareOut,
    WorkloadEfficiency,
)
from kubetally.query import AssetQuery
from kubetally.query.cloud import EMPTY_NOTE, cloud_cost_frame
from kubetally.query.efficiency import efficiency_frame
from kubetally.query.idle_summary import IdleBy, IdleShare, idle_params, summarize_idle
from kubetally.query.params import IdleMode
from kubetally.query.scope import UNRESTRICTED, Scope, scope_assets

ASSET_TYPES = ("Node", "Disk", "LoadBalancer", "Network", "ClusterManagement")
"""The asset types of the ledger (``type`` argument of get_asset_costs, case-insensitive)."""


def _total(data: Mapping[str, Mapping[str, Any]]) -> float:
    return round(sum(float(row.get("totalCost") or 0.0) for row in data.values()), 5)


NOTE_KEYS, NOTE_VALUES = 30, 60
"""The most label keys, and values of each kind, a no-match note lists."""


def _listed(values: list[str]) -> str:
    more = f" (and {len(values) - NOTE_VALUES} more)" if len(values) > NOTE_VALUES else ""
    return (", ".join(values[:NOTE_VALUES]) or "none") + more


def _no_match(backend: Backend, scope: Scope, window: str, filter_text: str) -> str:
    """The note of a filter matching nothing: the filter and the values that exist (list_aggregation_values has
    them all)."""
    values = aggregation_values(backend, scope, window, "")
    labels = [f"label {key}: {_listed(found)}" for key, found in list(values.labels.items())[:NOTE_KEYS]]
    kinds = [f"namespaces: {_listed(values.namespaces)}", f"clusters: {_listed(values.clusters)}", *labels]
    return f"no allocation matches filter {filter_text!r} in this window. The values that exist: " + "; ".join(kinds)


def allocation_costs(backend: Backend, scope: Scope, params: Mapping[str, str]) -> AllocationCosts:
    """The bounded sets of the allocation query of ``params`` (see :mod:`kubetally.mcp.allocations`)."""
    result = allocations.allocation_costs(backend, scope, params)
    matched = any(not is_idle(name) for s in result.sets for name in s.allocations)
    if params.get("filter") and not matched:
        result.notes.append(_no_match(backend, scope, params["window"], params["filter"]))
    return result


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
    kept = [(window, data) for window, data in zip(query.sets, sets, strict=True) if data]
    per_set = max(1, allocations.ROW_CAP // max(1, len(kept)))
    out = []
    for window, data in kept:
        ranked = sorted(data.items(), key=lambda item: (-float(item[1].get("totalCost") or 0.0), item[0]))
        out.append(
            AssetSetOut(
                window=time_range(window),
                total_cost=_total(data),
                assets=dict(ranked[:per_set]),
                more_rows=max(0, len(ranked) - per_set),
            )
        )
    return AssetCosts(
        window=time_range(query.window),
        type=asset_type,
        currency=backend.currency,
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
        window=time_range(parsed),
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
    """The idle summary of the window; Forbidden for a namespace-scoped caller (idle is a cluster-wide figure),
    only its own clusters for a cluster-scoped one."""
    if scope.namespaces is not None:
        raise Forbidden(f"idle cost is cluster-wide; an identity scoped to {scope.describe()} cannot read it")
    params = idle_params(window, by)
    if scope.clusters is not None:
        params["filter"] = "cluster:" + ",".join(f'"{c}"' for c in sorted(scope.clusters) or [""])
    query = allocation_query(backend, UNRESTRICTED, params)
    summary = summarize_idle(backend.cache.allocation(backend.reader(), query))
    return IdleCosts(
        window=time_range(query.window),
        by=by.value,
        currency=backend.currency,
        overall=_idle_out(summary.overall),
        resources=[_idle_out(r) for r in summary.resources],
        breakdown=[_idle_out(g) for g in summary.groups],
    )


def efficiency(
    backend: Backend, scope: Scope, window: str, aggregate: str, filter_text: str, *, headroom: float
) -> Efficiency:
    """Right-sizing of the workloads of ``aggregate`` over the window (one set, idle hidden)."""
    params = {"window": window, "aggregate": aggregate, "filter": filter_text, "accumulate": "true", "idle": "hide"}
    # Savings come from the workloads' own costs: a scope shares idle onto its rows, so undo that here.
    query = replace(allocation_query(backend, scope, params), idle=IdleMode.HIDE)
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
        window=time_range(query.window),
        aggregate=aggregate,
        currency=backend.currency,
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
        window=time_range(query.window),
        clusters=values("cluster"),
        nodes=values("node"),
        namespaces=values("namespace"),
        controller_kinds=values("controllerKind"),
        controllers=controllers,
        labels={key: sorted(found) for key, found in sorted(labels.items())},
    )

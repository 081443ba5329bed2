"""What each MCP tool computes: a query built from the same parameters as the HTTP API, narrowed to the caller's
scope, answered through the query layer and shaped as the tool's structured output."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from kubetally.errors import Forbidden
from kubetally.mcp import allocations
from kubetally.mcp.allocations import allocation_query, is_idle, time_range
from kubetally.mcp.assets import cluster_management_cost
from kubetally.mcp.bounds import ROW_CAP
from kubetally.mcp.context import Backend
from kubetally.mcp.models import (
    AggregationValues,
    AllocationCosts,
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
from kubetally.query.scope import UNRESTRICTED, Scope

ACCOUNT_WIDE_TOOLS = frozenset({"get_cloud_costs"})
"""Tools answering account-wide figures: only an unscoped identity may use them."""
CLUSTER_WIDE_TOOLS = frozenset({"get_asset_costs", "get_idle_costs"})
"""Tools answering per-cluster figures: refused to a namespace-scoped identity, narrowed to a cluster-scoped
identity's clusters."""


def may_use(tool: str, scope: Scope) -> bool:
    """Whether an identity of ``scope`` may use ``tool`` (``tools/list`` offers it only the tools it may use)."""
    if tool in ACCOUNT_WIDE_TOOLS:
        return scope.unrestricted
    if tool in CLUSTER_WIDE_TOOLS:
        return scope.namespaces is None
    return True


NOTE_KEYS, NOTE_VALUES = 16, 40
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


def cloud_costs(backend: Backend, scope: Scope, window: str, aggregate: str, filter_text: str) -> CloudCosts:
    """Cloud bill costs of the window; Forbidden for a scoped caller (bills are account-wide)."""
    if not may_use("get_cloud_costs", scope):
        raise Forbidden(f"cloud bills are account-wide; an identity scoped to {scope.describe()} cannot read them")
    parsed = AssetQuery.from_params({"window": window}, backend.clock()).window
    backend.check_window(parsed)
    frame = cloud_cost_frame(backend.reader_for(parsed), parsed, aggregate, filter_text)
    rows = sorted(
        (CloudCostRow(**row) for row in frame.fill_null(0.0).to_dicts()), key=lambda r: (-r.billed_cost, r.name)
    )
    return CloudCosts(
        window=time_range(parsed),
        aggregate=aggregate,
        filter=filter_text,
        total_billed_cost=round(sum(r.billed_cost for r in rows), 5),
        rows=rows[:ROW_CAP],
        more_rows=max(0, len(rows) - ROW_CAP),
        note=None if rows else EMPTY_NOTE,
    )


def _idle_out(share: IdleShare) -> IdleShareOut:
    return IdleShareOut(
        name=share.name, total_cost=share.total_cost, idle_cost=share.idle_cost, idle_percent=share.idle_percent
    )


def idle_costs(backend: Backend, scope: Scope, window: str, by: IdleBy) -> IdleCosts:
    """The idle summary of the window; Forbidden for a namespace-scoped caller (idle is a cluster-wide figure),
    only its own clusters for a cluster-scoped one."""
    if not may_use("get_idle_costs", scope):
        raise Forbidden(f"idle cost is cluster-wide; an identity scoped to {scope.describe()} cannot read it")
    params = idle_params(window, by)
    if scope.clusters is not None:
        params["filter"] = "cluster:" + ",".join(f'"{c}"' for c in sorted(scope.clusters) or [""])
    query = allocation_query(backend, UNRESTRICTED, params)
    summary = summarize_idle(backend.cache.allocation(backend.reader_for(query.window), query))
    groups = sorted(summary.groups, key=lambda g: (-g.idle_cost, g.name))
    return IdleCosts(
        window=time_range(query.window),
        by=by.value,
        currency=backend.currency,
        overall=_idle_out(summary.overall),
        resources=[_idle_out(r) for r in summary.resources],
        breakdown=[_idle_out(g) for g in groups[:ROW_CAP]],
        more_rows=max(0, len(groups) - ROW_CAP),
        cluster_management_cost=cluster_management_cost(backend, scope, window),
    )


def efficiency(
    backend: Backend, scope: Scope, window: str, aggregate: str, filter_text: str, *, headroom: float
) -> Efficiency:
    """Right-sizing of the workloads of ``aggregate`` over the window (one set, idle hidden)."""
    params = {"window": window, "aggregate": aggregate, "filter": filter_text, "accumulate": "true", "idle": "hide"}
    # Savings come from the workloads' own costs: a scope shares idle onto its rows, so undo that here.
    query = replace(allocation_query(backend, scope, params), idle=IdleMode.HIDE)
    frame = efficiency_frame(backend.cache.allocation(backend.reader_for(query.window), query), headroom)
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
        workloads=workloads[:ROW_CAP],
        more_workloads=max(0, len(workloads) - ROW_CAP),
        notes=[_no_match(backend, scope, window, filter_text)] if filter_text and not workloads else [],
    )


VALUES_CAP = 200
"""The most values of one kind (and label keys) list_aggregation_values lists."""


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
        for data in backend.cache.allocation(backend.reader_for(query.window), query)
        for row in data.values()
    ]
    labels: dict[str, set[str]] = {}
    for props in rows:
        for key, value in (props.get("labels") or {}).items():
            labels.setdefault(key, set()).add(value)

    more: dict[str, int] = {}

    def capped(kind: str, found: set[str]) -> list[str]:
        if len(found) > VALUES_CAP:
            more[kind] = len(found) - VALUES_CAP
        return sorted(found)[:VALUES_CAP]

    def values(field: str, kind: str) -> list[str]:
        return capped(kind, {str(p[field]) for p in rows if p.get(field) and not _reserved(str(p[field]))})

    controllers = capped(
        "controllers", {f"{p['controllerKind']}:{p['controller']}" for p in rows if p.get("controller")}
    )
    keys = capped("labels", set(labels))
    return AggregationValues(
        window=time_range(query.window),
        clusters=values("cluster", "clusters"),
        nodes=values("node", "nodes"),
        namespaces=values("namespace", "namespaces"),
        controller_kinds=values("controllerKind", "controller_kinds"),
        controllers=controllers,
        labels={key: capped(f"label:{key}", labels[key]) for key in keys},
        more=more,
    )

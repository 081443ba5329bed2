"""get_allocation_costs: an allocation query bounded for an assistant (see :mod:`kubetally.mcp.bounds`), with its
share of all costs.

Percentages are against the unfiltered total of the window (every allocation plus every cluster's idle), so a
filter never changes their denominator; idle rows are kept out of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetally.domain.names import IDLE, SEPARATOR
from kubetally.mcp.bounds import bounded_sets, cost_of, ranked, rows_per_set
from kubetally.mcp.context import Backend
from kubetally.mcp.models import AllocationCosts, AllocationSetOut, ClusterShare, TimeRange
from kubetally.query import AllocationQuery
from kubetally.query.scope import Scope, scope_allocation

ADJUSTMENTS = (
    "cpuCostAdjustment",
    "gpuCostAdjustment",
    "ramCostAdjustment",
    "pvCostAdjustment",
    "networkCostAdjustment",
    "loadBalancerCostAdjustment",
)
"""The reconciliation adjustments of an allocation (cost-model.md), shown summed in one column of the text."""

ALLOCATION_FIELDS = (
    "properties",
    "start",
    "end",
    "minutes",
    "cpuCoreRequestAverage",
    "cpuCoreUsageAverage",
    "cpuCost",
    "cpuCostIdle",
    "cpuEfficiency",
    "gpuCost",
    "ramByteRequestAverage",
    "ramByteUsageAverage",
    "ramCost",
    "ramCostIdle",
    "ramEfficiency",
    "networkCost",
    "loadBalancerCost",
    "pvCost",
    "sharedCost",
    "externalCost",
    *ADJUSTMENTS,
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


def time_range(window: Any) -> TimeRange:
    """The RFC 3339 range of a Window."""
    data = window.to_json()
    return TimeRange(start=str(data["start"]), end=str(data["end"]))


def is_idle(name: str) -> bool:
    """Whether ``name`` is an idle row (``__idle__`` or ``<cluster>/__idle__``)."""
    return name == IDLE or name.endswith(SEPARATOR + IDLE)


def allocation_query(backend: Backend, scope: Scope, params: Mapping[str, str]) -> AllocationQuery:
    """The query of ``params`` (/allocation's names) parsed like the API, checked and narrowed to ``scope``."""
    query = AllocationQuery.from_params({k: v for k, v in params.items() if v}, backend.clock())
    backend.check_window(query.window)
    return scope_allocation(query, scope, SHARE_PARAMETERS)


def _per_cluster(backend: Backend, query: AllocationQuery, filter_text: str) -> dict[str, float]:
    """Each cluster's cost over the window: with ``filter_text`` the matching allocations only (idle hidden),
    without it everything (every allocation and the cluster's idle)."""
    span = query.window.to_json()
    params = {"window": f"{span['start']},{span['end']}", "aggregate": "cluster", "accumulate": "true"}
    if filter_text:
        params |= {"filter": filter_text, "idle": "hide"}
    else:
        params |= {"splitIdle": "true"}
    whole = AllocationQuery.from_params(params, backend.clock())
    clusters: dict[str, float] = {}
    for data in backend.cache.allocation(backend.reader_for(whole.window), whole):
        for name, row in data.items():
            cluster = name.split(SEPARATOR)[0]
            clusters[cluster] = clusters.get(cluster, 0.0) + cost_of(row)
    return clusters


def _shaped(row: Mapping[str, Any]) -> dict[str, Any]:
    return {f: row[f] for f in ALLOCATION_FIELDS if f in row}


def _percent(part: float, whole: float) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 4)


def _add_shares(backend: Backend, query: AllocationQuery, filter_text: str, result: AllocationCosts) -> None:
    """Fill the share of all costs (overall and per cluster holding a match) into ``result``."""
    everything = _per_cluster(backend, query, "")
    mine = _per_cluster(backend, query, filter_text) if filter_text else {}
    whole = sum(everything.values())
    result.all_costs_total = round(whole, 5)
    result.share_of_total = _percent(result.allocated_cost, whole)
    result.share_by_cluster = [
        ClusterShare(
            cluster=cluster,
            cost=round(cost, 5),
            cluster_total_cost=round(everything.get(cluster, 0.0), 5),
            share_percent=_percent(cost, everything.get(cluster, 0.0)),
        )
        for cluster, cost in sorted(mine.items())
    ]


def allocation_costs(backend: Backend, scope: Scope, params: Mapping[str, str]) -> AllocationCosts:
    """The bounded sets of the allocation query of ``params`` and the share of all costs they hold."""
    query, step, notes = bounded_sets(lambda p: allocation_query(backend, scope, p), params)
    sets = backend.cache.allocation(backend.reader_for(query.window), query)
    kept = [(window, ranked(data)) for window, data in zip(query.sets, sets, strict=True) if data]
    per_set = rows_per_set([rows for _w, rows in kept], _shaped)
    out = [
        AllocationSetOut(
            window=time_range(window),
            total_cost=round(sum(cost_of(row) for _name, row in rows), 5),
            allocations={name: _shaped(row) for name, row in rows[:per_set]},
            more_rows=max(0, len(rows) - per_set),
        )
        for window, rows in kept
    ]
    idle = sum(cost_of(row) for _w, rows in kept for name, row in rows if is_idle(name))
    total = sum(cost_of(row) for _w, rows in kept for _name, row in rows)
    result = AllocationCosts(
        window=time_range(query.window),
        aggregate=params.get("aggregate", ""),
        filter=params.get("filter", ""),
        currency=backend.currency,
        idle_mode=query.idle.value,
        total_cost=round(total, 5),
        allocated_cost=round(total - idle, 5),
        idle_cost=round(idle, 5),
        step=step,
        empty_sets_dropped=len(query.sets) - len(kept),
        notes=notes,
        sets=out,
    )
    if scope.unrestricted:
        _add_shares(backend, query, params.get("filter", ""), result)
    return result


__all__ = ["ALLOCATION_FIELDS", "allocation_costs", "allocation_query", "is_idle"]

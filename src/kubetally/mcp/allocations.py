"""get_allocation_costs: an allocation query bounded for an assistant, with its share of all costs.

An answer must fit what an assistant can hold (docs/mcp.md, "Output size"), for any window:

* a query cut into more than :data:`MAX_SETS` sets (``step=1h`` over months) is re-cut with the shortest step of
  :data:`COARSER_STEPS` that gives at most that many, and the answer says so;
* sets without any allocation are dropped (and counted);
* each set keeps its largest allocations by cost, :data:`ROW_CAP` rows over all sets, and counts the others in
  ``more_rows``; totals always sum every row.

Percentages are against the unfiltered total of the window (every allocation plus every cluster's idle), so a
filter never changes their denominator; idle rows are kept out of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubetally.domain.names import IDLE, SEPARATOR
from kubetally.mcp.context import Backend
from kubetally.mcp.models import AllocationCosts, AllocationSetOut, ClusterShare, TimeRange
from kubetally.query import AllocationQuery
from kubetally.query.scope import Scope, scope_allocation

MAX_SETS = 31
"""The most sets one answer holds."""
ROW_CAP = 150
"""The most allocation rows one answer holds, over all its sets."""
COARSER_STEPS = ("1h", "2h", "3h", "6h", "12h", "1d", "2d", "1w", "month", "quarter")
"""The steps a too-finely cut query is re-cut with, shortest first."""

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


def _cost(row: Mapping[str, Any]) -> float:
    return float(row.get("totalCost") or 0.0)


def allocation_query(backend: Backend, scope: Scope, params: Mapping[str, str]) -> AllocationQuery:
    """The query of ``params`` (/allocation's names) parsed like the API, checked and narrowed to ``scope``."""
    query = AllocationQuery.from_params({k: v for k, v in params.items() if v}, backend.clock())
    backend.check_window(query.window)
    return scope_allocation(query, scope, SHARE_PARAMETERS)


def bounded_query(backend: Backend, scope: Scope, params: Mapping[str, str]) -> tuple[AllocationQuery, str, list[str]]:
    """The query, re-cut with a coarser step when it has more than :data:`MAX_SETS` sets; its step and notes."""
    query = allocation_query(backend, scope, params)
    asked = params.get("step") or params.get("accumulate") or ""
    if len(query.sets) <= MAX_SETS:
        return query, asked or ("window" if len(query.sets) == 1 else ""), []
    for step in COARSER_STEPS:
        coarser = allocation_query(backend, scope, {**params, "step": step, "accumulate": ""})
        if len(coarser.sets) <= MAX_SETS:
            note = (
                f"{asked!r} would cut the window into {len(query.sets)} sets; it was cut with step {step!r} "
                f"into {len(coarser.sets)} sets instead (at most {MAX_SETS})"
            )
            return coarser, step, [note]
    raise AssertionError("a quarter step always gives few enough sets for the longest allowed window")


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
    for data in backend.cache.allocation(backend.reader(), whole):
        for name, row in data.items():
            cluster = name.split(SEPARATOR)[0]
            clusters[cluster] = clusters.get(cluster, 0.0) + _cost(row)
    return clusters


def _capped(data: Mapping[str, Mapping[str, Any]], cap: int) -> tuple[dict[str, dict[str, Any]], int]:
    ranked = sorted(data.items(), key=lambda item: (-_cost(item[1]), item[0]))
    kept = {name: {f: row[f] for f in ALLOCATION_FIELDS if f in row} for name, row in ranked[:cap]}
    return kept, max(0, len(ranked) - cap)


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
    query, step, notes = bounded_query(backend, scope, params)
    sets = backend.cache.allocation(backend.reader(), query)
    kept = [(window, data) for window, data in zip(query.sets, sets, strict=True) if data]
    per_set = max(1, ROW_CAP // max(1, len(kept)))
    out = []
    for window, data in kept:
        rows, more = _capped(data, per_set)
        total = round(sum(_cost(row) for row in data.values()), 5)
        out.append(AllocationSetOut(window=time_range(window), total_cost=total, allocations=rows, more_rows=more))
    idle = sum(_cost(row) for _w, data in kept for name, row in data.items() if is_idle(name))
    total = sum(_cost(row) for _w, data in kept for row in data.values())
    result = AllocationCosts(
        window=time_range(query.window),
        aggregate=params.get("aggregate", ""),
        filter=params.get("filter", ""),
        currency=backend.currency,
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


__all__ = ["ALLOCATION_FIELDS", "MAX_SETS", "ROW_CAP", "allocation_costs", "allocation_query", "is_idle"]

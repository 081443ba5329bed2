"""The short human summary each tool returns next to its structured output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubetally.mcp.models import (
    AggregationValues,
    AllocationCosts,
    AssetCosts,
    CloudCosts,
    Efficiency,
    IdleCosts,
    TimeRange,
)

TOP = 5
"""How many of the largest entries a summary names."""


def _span(window: TimeRange) -> str:
    return f"{window.start} to {window.end}"


def _top(costs: dict[str, float], total: float) -> str:
    ranked = sorted(costs.items(), key=lambda item: -item[1])[:TOP]
    parts = [f"{name} {cost:.2f}" + (f" ({100 * cost / total:.1f}%)" if total else "") for name, cost in ranked]
    return "; ".join(parts)


def allocation_summary(result: AllocationCosts) -> str:
    """Total, number of steps and the largest allocations over all steps."""
    costs: dict[str, float] = {}
    for step in result.sets:
        for name, row in step.allocations.items():
            costs[name] = costs.get(name, 0.0) + float(row.get("totalCost") or 0.0)
    steps = f"{len(result.sets)} step{'s' if len(result.sets) != 1 else ''}"
    top = _top(costs, result.total_cost)
    return f"Allocations {_span(result.window)} ({steps}): total {result.total_cost:.2f}. Largest: {top}."


def asset_summary(result: AssetCosts) -> str:
    """Total and the most expensive assets."""
    costs: dict[str, float] = {}
    for step in result.sets:
        for key, row in step.assets.items():
            costs[key] = costs.get(key, 0.0) + float(row.get("totalCost") or 0.0)
    kind = f"{result.type} assets" if result.type else "Assets"
    top = _top(costs, result.total_cost)
    return f"{kind} {_span(result.window)}: {len(costs)} assets, total {result.total_cost:.2f}. Largest: {top}."


def cloud_summary(result: CloudCosts) -> str:
    """Total billed cost, or why there is none."""
    if result.note:
        return f"Cloud costs {_span(result.window)}: none. {result.note}."
    costs = {row.name: row.billed_cost for row in result.rows}
    top = _top(costs, result.total_billed_cost)
    return f"Cloud costs {_span(result.window)}: billed {result.total_billed_cost:.2f}. Largest: {top}."


def idle_summary(result: IdleCosts) -> str:
    """The idle percentage overall and per resource."""
    overall = result.overall
    percent = "n/a" if overall.idle_percent is None else f"{overall.idle_percent:.2f}%"
    resources = ", ".join(
        f"{r.name} {'n/a' if r.idle_percent is None else f'{r.idle_percent:.1f}%'}" for r in result.resources
    )
    return (
        f"Idle {_span(result.window)}: {overall.idle_cost:.2f} of {overall.total_cost:.2f} ({percent}) is not "
        f"allocated to workloads. By resource: {resources}."
    )


def efficiency_summary(result: Efficiency) -> str:
    """The total possible monthly saving and where it is."""
    costs = {w.name: w.monthly_saving for w in result.workloads if w.monthly_saving > 0}
    return (
        f"Right-sizing {_span(result.window)} (headroom {100 * result.headroom:.0f}%): up to "
        f"{result.total_monthly_saving:.2f} per month. Largest: {_top(costs, 0.0) or 'none'}."
    )


def values_summary(result: AggregationValues) -> str:
    """How many of each kind of value exist."""
    return (
        f"In {_span(result.window)}: {len(result.clusters)} clusters, {len(result.namespaces)} namespaces "
        f"({', '.join(result.namespaces[:10])}), {len(result.controllers)} controllers, "
        f"{len(result.labels)} label keys ({', '.join(list(result.labels)[:10])})."
    )


SUMMARIES: dict[type[Any], Callable[[Any], str]] = {
    AllocationCosts: allocation_summary,
    AssetCosts: asset_summary,
    CloudCosts: cloud_summary,
    IdleCosts: idle_summary,
    Efficiency: efficiency_summary,
    AggregationValues: values_summary,
}
"""The summary function of each tool's output model."""

__all__ = ["SUMMARIES"]

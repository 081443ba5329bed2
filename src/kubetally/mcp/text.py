"""The text block of each tool: the whole answer as compact tables with units and currency.

Some clients (Cline among them) pass only a tool's text content to the model, so the text carries every figure
the structured content holds that a question needs: one row per allocation, asset or workload (up to the row cap
of :mod:`kubetally.mcp.allocations`, then a line saying how many rows are left out and how to narrow the query),
with totals that always sum every row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubetally.mcp.allocations import ADJUSTMENTS, is_idle
from kubetally.mcp.models import (
    AggregationValues,
    AllocationCosts,
    AssetCosts,
    CloudCosts,
    Efficiency,
    IdleCosts,
    TimeRange,
)

GIB = 1024.0**3


def _span(window: TimeRange) -> str:
    return f"{window.start} to {window.end}"


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} %"


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _more(count: int, hint: str) -> str:
    return f"\n{count} more rows not shown (the totals above include them); narrow with {hint}." if count else ""


COST_COLUMNS: dict[str, Callable[[Mapping[str, Any]], float]] = {
    "cpu": lambda row: float(row.get("cpuCost") or 0.0),
    "gpu": lambda row: float(row.get("gpuCost") or 0.0),
    "ram": lambda row: float(row.get("ramCost") or 0.0),
    "pv": lambda row: float(row.get("pvCost") or 0.0),
    "network": lambda row: float(row.get("networkCost") or 0.0),
    "lb": lambda row: float(row.get("loadBalancerCost") or 0.0),
    "shared": lambda row: float(row.get("sharedCost") or 0.0),
    "external": lambda row: float(row.get("externalCost") or 0.0),
    "adjustment": lambda row: sum(float(row.get(f) or 0.0) for f in ADJUSTMENTS),
}
"""The columns of an allocation row, whose sum is its ``totalCost``."""
OPTIONAL_COLUMNS = frozenset({"external", "adjustment"})
"""Cost columns shown only when a row has such a cost."""


def _cost_columns(result: AllocationCosts) -> list[str]:
    rows = [row for step in result.sets for row in step.allocations.values()]
    return [c for c in COST_COLUMNS if c not in OPTIONAL_COLUMNS or any(COST_COLUMNS[c](row) for row in rows)]


def _allocation_rows(result: AllocationCosts, columns: list[str]) -> list[list[Any]]:
    many = len(result.sets) > 1
    rows = []
    for step in result.sets:
        for name, row in step.allocations.items():
            share = (
                ""
                if result.all_costs_total in (None, 0) or is_idle(name)
                else (f"{100 * float(row.get('totalCost') or 0) / result.all_costs_total:.2f}")
            )
            costs = [_money(COST_COLUMNS[column](row)) for column in columns]
            cells = [name, *costs, _money(row.get("totalCost")), share]
            rows.append([step.window.start, *cells] if many else cells)
    return rows


def _idle_line(result: AllocationCosts) -> str:
    cur = result.currency
    if result.idle_mode == "share":
        return (
            f"Allocated cost, idle shared onto the allocations (idle=share; always for a scoped identity): "
            f"{result.allocated_cost:.2f} {cur}."
        )
    if result.idle_mode == "hide":
        return f"Allocated cost (idle hidden): {result.allocated_cost:.2f} {cur}."
    return (
        f"Allocated cost (idle excluded): {result.allocated_cost:.2f} {cur}. Idle shown as __idle__ rows: "
        f"{result.idle_cost:.2f} {cur} (kept out of every percentage). Total of all rows: {result.total_cost:.2f} "
        f"{cur}."
    )


def allocation_text(result: AllocationCosts) -> str:
    """Totals, the share of all costs in words, and one row per allocation of every set."""
    cur = result.currency
    lines = [
        f"Allocation costs {_span(result.window)}, amounts in {cur}; aggregate {result.aggregate or 'none'}; "
        f"filter {result.filter or 'none'}; {len(result.sets)} set(s), step {result.step or 'none'}."
    ]
    lines += [f"Note: {note}." for note in result.notes]
    lines.append(_idle_line(result))
    if result.share_of_total is not None:
        lines.append(
            f"Share of all costs: {_pct(result.share_of_total)} = {result.allocated_cost:.2f} / "
            f"{result.all_costs_total:.2f} {cur}, where the denominator is the unfiltered total of the window: every "
            "allocation of every cluster plus every cluster's idle. Cluster-management fees are outside it."
        )
    else:
        lines.append("Shares of all costs are not given to a scoped identity: other tenants' costs stay hidden.")
    for share in result.share_by_cluster:
        lines.append(
            f"In cluster {share.cluster}: {share.cost:.2f} of its {share.cluster_total_cost:.2f} {cur} "
            f"({_pct(share.share_percent)} of that cluster's whole cost, idle included)."
        )
    if result.empty_sets_dropped:
        lines.append(f"{result.empty_sets_dropped} set(s) without any allocation are not shown.")
    columns = _cost_columns(result)
    header = ["name", *(f"{column} {cur}" for column in columns), f"total {cur}", "% of all costs"]
    if len(result.sets) > 1:
        header.insert(0, "set start")
        lines += [
            _table(
                ["set start", "set end", f"set total {cur}"],
                [[s.window.start, s.window.end, _money(s.total_cost)] for s in result.sets],
            )
        ]
    if result.sets:
        lines.append(_table(header, _allocation_rows(result, columns)))
    more = sum(s.more_rows for s in result.sets)
    return "\n".join(lines) + _more(more, 'a filter (e.g. namespace:"x"), a coarser aggregate or a longer step')


def asset_text(result: AssetCosts) -> str:
    """Total and one row per asset; disks with their claim, namespace and size."""
    cur = result.currency
    rows: list[list[Any]] = []
    many = len(result.sets) > 1
    for step in result.sets:
        for key, asset in step.assets.items():
            props = asset.get("properties") or {}
            size = asset.get("bytes")
            rows.append(
                ([step.window.start] if many else [])
                + [
                    asset.get("type", ""),
                    props.get("cluster", ""),
                    asset.get("volumeName") or props.get("name", "") or key,
                    asset.get("claimName") or "",
                    asset.get("claimNamespace") or "",
                    "" if size is None else f"{float(size) / GIB:.1f}",
                    f"{float(asset.get('minutes') or 0) / 60:.0f}",
                    _money(float(asset.get("totalCost") or 0.0)),
                ]
            )
    header = ["type", "cluster", "name", "claim", "namespace", "GiB", "hours", f"cost {cur}"]
    kind = f"{result.type} assets" if result.type else "Assets"
    more = sum(s.more_rows for s in result.sets)
    lines = [
        f"{kind} {_span(result.window)}, amounts in {cur}; filter {result.filter or 'none'}; {len(result.sets)} "
        f"set(s), step {result.step}: {len(rows) + more} asset row(s), total {result.total_cost:.2f} {cur}."
    ]
    lines += [f"Note: {note}." for note in result.notes]
    if result.empty_sets_dropped:
        lines.append(f"{result.empty_sets_dropped} set(s) without any asset are not shown.")
    if len(result.sets) > 1:
        header.insert(0, "set start")
    if rows:
        lines.append(_table(header, rows))
    return "\n".join(lines) + _more(more, 'a filter such as cluster:"x", a type or a longer step')


def cloud_text(result: CloudCosts) -> str:
    """Total billed cost and one row per aggregate value, or why there is none."""
    if result.note:
        return f"Cloud costs {_span(result.window)}: none. {result.note}."
    rows = [
        [r.name, _money(r.billed_cost), _money(r.effective_cost), _money(r.list_cost), r.currency] for r in result.rows
    ]
    currencies = sorted({r.currency for r in result.rows})
    unit = f" {currencies[0]}" if len(currencies) == 1 and not result.more_rows else " (see each row's currency)"
    return (
        f"Cloud costs {_span(result.window)} by {result.aggregate or 'total'}: billed {result.total_billed_cost:.2f}"
        f"{unit} in all ({len(rows) + result.more_rows} row(s)).\n"
        + _table(["name", "billed", "effective", "list", "currency"], rows)
        + _more(result.more_rows, "a filter")
    )


def idle_text(result: IdleCosts) -> str:
    """The idle percentage overall, per resource and per cluster or node, with the currency."""
    cur, overall = result.currency, result.overall
    rows = [["all", _money(overall.idle_cost), _money(overall.total_cost), _pct(overall.idle_percent)]]
    rows += [
        [f"resource {r.name}", _money(r.idle_cost), _money(r.total_cost), _pct(r.idle_percent)]
        for r in result.resources
    ]
    rows += [
        [f"{result.by} {g.name}", _money(g.idle_cost), _money(g.total_cost), _pct(g.idle_percent)]
        for g in result.breakdown
    ]
    fee = result.cluster_management_cost
    outside = "" if fee is None else f" of {fee:.2f} {cur}"
    return (
        f"Idle (not allocated to any workload) {_span(result.window)}: {overall.idle_cost:.2f} {cur} of "
        f"{overall.total_cost:.2f} {cur}, {_pct(overall.idle_percent)} of the cluster cost (allocations plus idle; "
        f"the cluster-management fees{outside} are outside this total).\n"
        + _table(["part", f"idle {cur}", f"total {cur}", "idle %"], rows)
        + _more(result.more_rows, "by=cluster")
    )


def efficiency_text(result: Efficiency) -> str:
    """The possible monthly saving and one row per workload."""
    cur = result.currency
    rows = [
        [
            w.name,
            _money(w.total_cost),
            f"{w.cpu_core_request_average:.3f}",
            f"{w.cpu_core_usage_average:.3f}",
            f"{w.cpu_recommended_request:.3f}",
            f"{w.ram_byte_request_average / GIB:.2f}",
            f"{w.ram_byte_usage_average / GIB:.2f}",
            f"{w.ram_recommended_request / GIB:.2f}",
            _money(w.monthly_saving),
        ]
        for w in result.workloads
    ]
    header = [
        "workload",
        f"cost {cur}",
        "cpu req cores",
        "cpu use cores",
        "cpu rec cores",
        "ram req GiB",
        "ram use GiB",
        "ram rec GiB",
        f"saving {cur}/month",
    ]
    notes = "".join(f"\nNote: {note}." for note in result.notes)
    return (
        f"Right-sizing {_span(result.window)} (headroom {100 * result.headroom:.0f} %, idle not included): up to "
        f"{result.total_monthly_saving:.2f} {cur} per 730-hour month.{notes}\n"
        + _table(header, rows)
        + _more(result.more_workloads, "a filter")
    )


def values_text(result: AggregationValues) -> str:
    """Every value of every kind."""
    labels = "\n".join(f"label {key}: {', '.join(values)}" for key, values in result.labels.items())
    left_out = "; ".join(f"{kind}: {count} more" for kind, count in result.more.items())
    return (
        f"Values in {_span(result.window)}:\nclusters: {', '.join(result.clusters)}\n"
        f"namespaces: {', '.join(result.namespaces)}\ncontroller kinds: {', '.join(result.controller_kinds)}\n"
        f"controllers: {', '.join(result.controllers)}\nnodes: {', '.join(result.nodes)}\n{labels}"
        + (f"\nNot listed (narrow with a filter): {left_out}" if left_out else "")
    )


TEXTS: dict[type[Any], Callable[[Any], str]] = {
    AllocationCosts: allocation_text,
    AssetCosts: asset_text,
    CloudCosts: cloud_text,
    IdleCosts: idle_text,
    Efficiency: efficiency_text,
    AggregationValues: values_text,
}
"""The text function of each tool's output model."""

__all__ = ["TEXTS", "allocation_text", "asset_text", "cloud_text", "efficiency_text", "idle_text", "values_text"]

"""``run_allocation``: an AllocationQuery answered as the ``data`` of OpenCost's ``/allocation``.

The steps, in order (the order matters: idle is shared before shared costs, so that a shared namespace passes
on the idle it received; the filter is applied last, so that who pays for idle and shared costs does not depend
on what is shown):

1. one GROUP BY over the window in DuckDB (filter flag, share flag, set index and name parts computed in SQL);
2. idle: hidden, named, or shared per cluster / node;
3. shared costs moved into the receivers' ``sharedCost``;
4. the filter: only matching rows (and the idle of the clusters or nodes they run in) are kept;
5. rows summed per set and name, and shaped as OpenCost allocations.
"""

from __future__ import annotations

from typing import Any, Protocol

import polars as pl

from kubetally.domain.aggregation import SIMPLE_KEYS, AggregateKey
from kubetally.domain.names import IDLE, SEPARATOR, UNAGGREGATED_PARTS, UNALLOCATED
from kubetally.query.allocation_shape import allocation_sets
from kubetally.query.details import LBS, PVS, detail_sql, lb_details, pv_details
from kubetally.query.idle import IS_IDLE, SCOPE, apply_idle
from kubetally.query.names import complete_groups
from kubetally.query.params import AllocationQuery, ShareSplit
from kubetally.query.share import apply_sharing
from kubetally.query.sql import SUM_COLUMNS, TIME_WEIGHTED, GroupSpec, ShareRule, allocation_group_sql, overhead_sql

UNAGGREGATED_KEYS: tuple[AggregateKey, ...] = tuple(SIMPLE_KEYS[part] for part in UNAGGREGATED_PARTS)
HOURS_PER_MONTH = 730.0
"""OpenCost's month for monthly amounts (``shareCost``)."""

AllocationSet = dict[str, dict[str, Any]]


class Reader(Protocol):
    """What the query layer needs from a ledger: one SQL query as a Polars frame."""

    def fetch(self, sql: str, params: Any = ...) -> pl.DataFrame: ...


def _prepare(frame: pl.DataFrame, parts: int) -> pl.DataFrame:
    """Names, zero-filled sums and the columns idle and sharing fill."""
    numeric = [*SUM_COLUMNS, *(name for name, _ in TIME_WEIGHTED), "cpu_core_usage_max", "ram_byte_usage_max"]
    name = pl.concat_str([pl.col(f"k{i}").fill_null(UNALLOCATED) for i in range(parts)], separator=SEPARATOR)
    return frame.with_columns(
        pl.col("set_idx").cast(pl.Int64),
        pl.col("node").fill_null(""),
        *(pl.col(c).cast(pl.Float64).fill_null(0.0) for c in numeric),
        name=pl.when(IS_IDLE).then(pl.lit(IDLE)).otherwise(name),
        cpu_cost_idle=pl.lit(0.0),
        ram_cost_idle=pl.lit(0.0),
        gpu_cost_idle=pl.lit(0.0),
        shared_cost=pl.lit(0.0),
    )


def _extra_shared(ledger: Reader, query: AllocationQuery) -> pl.DataFrame:
    """Per set: the fixed monthly overhead for the set's hours plus, on request, its ClusterManagement cost."""
    fixed = pl.DataFrame(
        {
            "set_idx": list(range(len(query.sets))),
            "amount": [
                query.share_cost_per_month * w.duration.total_seconds() / 3600 / HOURS_PER_MONTH for w in query.sets
            ],
        },
        schema={"set_idx": pl.Int64, "amount": pl.Float64},
    )
    if not query.share_tenancy_costs:
        return fixed
    sql = overhead_sql(query.window, query.sets)
    overhead = ledger.fetch(sql.text, sql.params)
    if overhead.height == 0:
        return fixed
    overhead = overhead.select(pl.col("set_idx").cast(pl.Int64), pl.col("overhead").cast(pl.Float64).alias("amount"))
    return pl.concat([fixed, overhead], how="vertical")


def _visible(frame: pl.DataFrame, scopes: pl.DataFrame | None, *, tenant: bool = False) -> pl.DataFrame:
    """Rows matching the filter, and idle rows of scopes holding a matching row (all of them without filter).

    For a ``tenant`` (a query with an identity scope) only matching workload rows: no idle, shared or
    unmounted rows, whose costs are cluster-wide.
    """
    shown = frame.filter(~IS_IDLE & pl.col("in_filter"))
    if tenant:
        return shown.filter(pl.col("kind") == "workload")
    idle = frame.filter(IS_IDLE)
    if scopes is not None:
        idle = idle.join(scopes, on=list(SCOPE), how="semi")
    return pl.concat([shown, idle], how="vertical")


def group_spec(query: AllocationQuery, *, rollup: bool = True) -> GroupSpec:
    """The GROUP BY a query needs: its keys (the unaggregated parts when not aggregated), rules and sets.

    ``rollup`` False reads every row hour by hour instead of whole days from the daily rollup.
    """
    return GroupSpec(
        window=query.window,
        sets=query.sets,
        keys=query.aggregate or UNAGGREGATED_KEYS,
        by_node=query.idle_by_node,
        share=ShareRule(query.share_namespaces, query.share_labels, query.share_filter),
        filter=query.filter,
        properties=not query.aggregate,
        rollup=rollup,
    )


def grouped_frame(
    ledger: Reader, query: AllocationQuery, spec: GroupSpec, *, idle_split: ShareSplit | None = None
) -> pl.DataFrame:
    """Steps 1–4: the filtered rows after idle and sharing, one per (set, kind, scope, name).

    Idle is shared by ``idle_split`` when given (Kubecost's legacy endpoint always spreads it by cost), else by the
    query's share split.
    """
    sql = allocation_group_sql(spec)
    frame = _prepare(complete_groups(ledger.fetch(sql.text, sql.params), spec.keys), len(spec.keys))
    scopes = None
    if query.filter is not None:
        scopes = frame.filter(~IS_IDLE & pl.col("in_filter")).select(SCOPE).unique()
    split = query.share_split if idle_split is None else idle_split
    frame = apply_idle(frame, query.idle, split, query.split_idle, query.idle_by_node)
    if query.shares_anything:
        frame = apply_sharing(frame, query.share_split, _extra_shared(ledger, query))
    return _visible(frame, scopes, tenant=query.scope is not None)


def run_allocation(ledger: Reader, query: AllocationQuery, *, rollup: bool = True) -> list[AllocationSet]:
    """The ``data`` of OpenCost's ``/allocation``: one set per step, each keyed by allocation name.

    ``rollup`` False forces the hourly rows (the rollup path gives the same figures, faster on long windows).
    """
    spec = group_spec(query, rollup=rollup)
    frame = grouped_frame(ledger, query, spec)
    pvs_sql, lbs_sql = detail_sql(spec, PVS), detail_sql(spec, LBS)
    pvs = pv_details(ledger.fetch(pvs_sql.text, pvs_sql.params), spec)
    lbs = lb_details(ledger.fetch(lbs_sql.text, lbs_sql.params), spec)
    return allocation_sets(frame, query, spec.keys, unaggregated=not query.aggregate, pvs=pvs, lbs=lbs)

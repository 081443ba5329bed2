"""FOCUS 1.2 export of the ledger: one row per charge period (hour or day), cost component and Kubernetes object.

``FocusQuery.from_params`` decodes the export's parameters (``window``, ``granularity``, ``aggregate``,
``filter``) the same way for the CLI and the HTTP API; :func:`focus_frame` runs the one GROUP BY
(:mod:`kubetally.query.focus_sql`) and shapes its result into FOCUS rows (:mod:`kubetally.query.focus_shape`);
:mod:`kubetally.query.focus_write` serialises them as CSV or Parquet. docs/focus-export.md maps every column.

Unfiltered and unscoped, the rows of a window add up (EffectiveCost, BilledCost, ListCost and ContractedCost
alike) to the cluster's total cost: every allocation row (workload, idle, unmounted) plus the ClusterManagement
assets, which is Σ assets by the ledger invariant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import polars as pl

from kubetally.domain.filter_ast import And, Filter
from kubetally.domain.window import Window
from kubetally.errors import InvalidAggregate, InvalidParameter
from kubetally.query.allocation import Reader
from kubetally.query.filtering import parse_filter_param
from kubetally.query.focus_columns import DIMENSIONS, Granularity
from kubetally.query.focus_shape import shape_focus
from kubetally.query.focus_sql import KEY_SQL, FocusSqlSpec, focus_group_sql
from kubetally.query.params import window_param
from kubetally.query.scope import Scope

_KEY_NAMES: dict[str, str] = {name.lower(): name for name, _ in DIMENSIONS}
_IMPLIED: dict[str, tuple[str, ...]] = {
    "pod": ("namespace",),
    "container": ("namespace", "pod"),
    "controller": ("namespace", "controllerKind"),
}
"""Dimensions that only identify an object together with others (a pod name is unique within its namespace)."""

DEFAULT_KEYS: frozenset[str] = frozenset(KEY_SQL)
"""Without ``aggregate``: every dimension (one row per container and node)."""


def parse_granularity(raw: str | None) -> Granularity:
    """``hour`` or ``day`` (case-insensitive); absent or empty → ``day``."""
    cleaned = (raw or "").strip().lower()
    if not cleaned:
        return Granularity.DAY
    try:
        return Granularity(cleaned)
    except ValueError:
        raise InvalidParameter("granularity", f"invalid value {raw!r}; expected hour or day") from None


def parse_keys(raw: str | None) -> frozenset[str]:
    """The kept dimensions of ``aggregate`` (comma list of cluster, node, namespace, controllerKind, controller,
    pod, container; case-insensitive), with the dimensions they imply; empty → every dimension."""
    parts = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not parts:
        return DEFAULT_KEYS
    keys: set[str] = set()
    for part in parts:
        name = _KEY_NAMES.get(part.lower())
        if name is None:
            raise InvalidAggregate(
                f"unknown dimension {part!r}; expected a comma list of " + ", ".join(n for n, _ in DIMENSIONS)
            )
        keys.add(name)
        keys.update(_IMPLIED.get(name, ()))
    keys.discard("cluster")
    return frozenset(keys)


@dataclass(frozen=True)
class FocusQuery:
    """One FOCUS export: the window, the charge-period length, the kept dimensions and the filter."""

    window: Window
    granularity: Granularity = Granularity.DAY
    keys: frozenset[str] = DEFAULT_KEYS
    """Kept dimensions besides ``cluster`` (always kept); see :func:`parse_keys`."""
    filter: Filter | None = None
    workloads_only: bool = False
    """Only workload rows (no idle, unmounted or overhead rows): set for a namespace-scoped identity."""

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> FocusQuery:
        """Decode ``window``, ``granularity``, ``aggregate`` and ``filter``; a bad value raises InvalidParameter
        (or a subclass) naming it. Unknown parameters are ignored."""
        raw_filter = (params.get("filter") or "").strip()
        return FocusQuery(
            window=window_param(params, now),
            granularity=parse_granularity(params.get("granularity")),
            keys=parse_keys(params.get("aggregate")),
            filter=parse_filter_param(raw_filter, "filter") if raw_filter else None,
        )


def scope_focus(query: FocusQuery, scope: Scope) -> FocusQuery:
    """``query`` narrowed to ``scope``: its clusters and namespaces are ANDed into the filter.

    A namespace-scoped identity gets its workload rows only: idle, unmounted and overhead rows are cluster-wide
    costs (the same rule as ``/allocation``, see :mod:`kubetally.query.scope`). A cluster-scoped identity gets
    every row of its clusters, idle and overhead included.
    """
    scope_filter = scope.allocation_filter()
    if scope_filter is None:
        return query
    narrowed = scope_filter if query.filter is None else And((query.filter, scope_filter))
    return replace(query, filter=narrowed, workloads_only=query.workloads_only or scope.namespaces is not None)


def focus_frame(ledger: Reader, query: FocusQuery, currency: str, *, rollup: bool = True) -> pl.DataFrame:
    """The FOCUS rows of ``query`` with :data:`~kubetally.query.focus_columns.EXPORT_SCHEMA`'s columns, sorted by
    charge period, sub account, resource and component.

    ``currency`` is the price book's (``BillingCurrency``); ``rollup`` False reads day granularity from the hourly
    rows only (the daily rollup gives the same sums).
    """
    spec = FocusSqlSpec(query.window, query.granularity, query.keys, query.filter, query.workloads_only, rollup)
    sql = focus_group_sql(spec)
    grouped = ledger.fetch(sql.text, sql.params)
    return shape_focus(grouped, query.window, query.granularity, query.keys, currency)


__all__ = ["FocusQuery", "focus_frame", "parse_granularity", "parse_keys", "scope_focus"]

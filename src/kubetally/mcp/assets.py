"""get_asset_costs: the asset query bounded for an assistant (see :mod:`kubetally.mcp.bounds`), and the
cluster-management fee the idle answer names as outside its total."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from kubetally.domain.filter_ast import And, Comparison, FieldKind, Op
from kubetally.errors import InvalidParameter
from kubetally.mcp.allocations import time_range
from kubetally.mcp.bounds import bounded_sets, cost_of, ranked, rows_per_set
from kubetally.mcp.context import Backend
from kubetally.mcp.models import AssetCosts, AssetSetOut
from kubetally.query import AssetQuery
from kubetally.query.scope import Scope, scope_assets

ASSET_TYPES = ("Node", "Disk", "LoadBalancer", "Network", "ClusterManagement")
"""The asset types of the ledger (``type`` argument of get_asset_costs, case-insensitive)."""


def canonical_type(asset_type: str) -> str:
    """The ledger's spelling of ``asset_type`` (case-insensitive); InvalidParameter naming the types otherwise."""
    canonical = {t.lower(): t for t in ASSET_TYPES}.get(asset_type.strip().lower())
    if canonical is None:
        raise InvalidParameter("type", f"unknown asset type {asset_type!r}; expected one of {', '.join(ASSET_TYPES)}")
    return canonical


def _query(backend: Backend, scope: Scope, params: Mapping[str, str], asset_type: str) -> AssetQuery:
    query = AssetQuery.from_params({k: v for k, v in params.items() if v}, backend.clock())
    backend.check_window(query.window)
    if asset_type:
        by_type = Comparison("type", FieldKind.SCALAR, Op.EQ, (asset_type,))
        query = replace(query, filter=by_type if query.filter is None else And((query.filter, by_type)))
    return scope_assets(query, scope)


def _no_match(backend: Backend, scope: Scope, window: str, asked: str) -> str:
    """The note of a type or filter matching no asset: what was asked and the types and clusters that exist."""
    query = _query(backend, scope, {"window": window, "accumulate": "true"}, "")
    rows = [row for data in backend.cache.assets(backend.reader_for(query.window), query) for row in data.values()]
    types = sorted({str(row.get("type")) for row in rows if row.get("type")})
    clusters = sorted({str((row.get("properties") or {}).get("cluster")) for row in rows} - {"None", ""})
    return (
        f"no asset matches {asked} in this window. The values that exist: types: {', '.join(types) or 'none'}; "
        f"clusters: {', '.join(clusters) or 'none'}"
    )


def asset_costs(backend: Backend, scope: Scope, params: Mapping[str, str], asset_type: str) -> AssetCosts:
    """The bounded sets of the asset query of ``params``, only assets of ``asset_type`` when given."""
    kind = canonical_type(asset_type) if asset_type.strip() else ""
    query, step, notes = bounded_sets(lambda p: _query(backend, scope, p, kind), params)
    sets = backend.cache.assets(backend.reader_for(query.window), query)
    kept = [(window, ranked(data)) for window, data in zip(query.sets, sets, strict=True) if data]
    per_set = rows_per_set([rows for _w, rows in kept], dict)
    asked = " and ".join(
        ([f"type {kind!r}"] if kind else []) + ([f"filter {params['filter']!r}"] if params.get("filter") else [])
    )
    if asked and not kept:
        notes.append(_no_match(backend, scope, params["window"], asked))
    out = [
        AssetSetOut(
            window=time_range(window),
            total_cost=round(sum(cost_of(row) for _name, row in rows), 5),
            assets={name: dict(row) for name, row in rows[:per_set]},
            more_rows=max(0, len(rows) - per_set),
        )
        for window, rows in kept
    ]
    return AssetCosts(
        window=time_range(query.window),
        type=kind,
        currency=backend.currency,
        filter=params.get("filter", ""),
        total_cost=round(sum(s.total_cost for s in out), 5),
        step=step,
        empty_sets_dropped=len(query.sets) - len(kept),
        notes=notes,
        sets=out,
    )


def cluster_management_cost(backend: Backend, scope: Scope, window: str) -> float:
    """The cluster-management fees of the window (the scope's clusters), which allocations and idle leave out."""
    query = _query(backend, scope, {"window": window, "accumulate": "true"}, "ClusterManagement")
    sets = backend.cache.assets(backend.reader_for(query.window), query)
    return round(sum(cost_of(row) for data in sets for row in data.values()), 5)


__all__ = ["ASSET_TYPES", "asset_costs", "canonical_type", "cluster_management_cost"]

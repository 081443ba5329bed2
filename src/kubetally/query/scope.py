"""Scope: the clusters and namespaces an identity may see, and how a query is narrowed to them.

A scope narrows what is *shown*, never who pays: idle and shared costs are computed over everything in the
ledger, then only the scope's own rows are returned. A scoped allocation query therefore

* ANDs the scope into its filter (cluster and namespace are row fields, so no pod join is needed);
* always shares idle onto the allocations, so that no ``__idle__`` row (a cluster total) is returned, and
  only the rows of the scope's own workloads are kept (no ``__idle__``, ``__shared__`` or ``__unmounted__``
  rows); with namespaces scoped, each resource's idle goes by that resource's request share (core-minutes
  requested over all requests in the cluster), never by cost: a share weighted by the others' cost, with node
  prices, gives their cost back (:func:`idle_split`); and idle is shared per cluster, never per node (a
  node's idle and its tenant's own price per core-hour would narrow the others' requests to one node);
* refuses sharing parameters (403): shared costs split by weight would reveal other tenants' costs.

Assets are per cluster: a namespace-scoped identity may not read them (403); a cluster-scoped one sees its
clusters' assets only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kubetally.domain.filter_ast import And, Comparison, FieldKind, Filter, Op
from kubetally.errors import Forbidden
from kubetally.query.params import AllocationQuery, AssetQuery, IdleMode, ShareSplit, SplitMethod


@dataclass(frozen=True)
class Scope:
    """The clusters and namespaces an identity may see; ``None`` for either means any."""

    clusters: frozenset[str] | None = None
    namespaces: frozenset[str] | None = None

    @property
    def unrestricted(self) -> bool:
        """Whether the scope sees everything."""
        return self.clusters is None and self.namespaces is None

    def describe(self) -> str:
        """The scope in words, for error messages."""
        parts = []
        if self.clusters is not None:
            parts.append("clusters " + ", ".join(sorted(self.clusters)))
        if self.namespaces is not None:
            parts.append("namespaces " + ", ".join(sorted(self.namespaces)))
        return " and ".join(parts) or "everything"

    def allocation_filter(self) -> Filter | None:
        """The scope as an allocation filter (``cluster:"a","b" + namespace:"x"``); ``None`` when unrestricted."""
        return _filter(self)

    def asset_filter(self) -> Filter | None:
        """The scope's clusters as an asset filter; ``None`` when every cluster is in scope."""
        return _filter(Scope(self.clusters, None))


UNRESTRICTED = Scope()
"""The scope of an unscoped identity (and of every request when authentication is off)."""

_SHARE_PARAMETERS: tuple[tuple[str, str], ...] = (
    ("share_namespaces", "shareNamespaces"),
    ("share_labels", "shareLabels"),
    ("share_filter", "shareFilter"),
    ("share_cost_per_month", "shareCost"),
    ("share_tenancy_costs", "shareTenancyCosts"),
)
"""AllocationQuery sharing fields and the parameter each comes from."""


def _filter(scope: Scope) -> Filter | None:
    terms: list[Filter] = []
    for field, values in (("cluster", scope.clusters), ("namespace", scope.namespaces)):
        if values is not None:
            terms.append(Comparison(field, FieldKind.SCALAR, Op.EQ, tuple(sorted(values)) or ("",)))
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else And(tuple(terms))


def _narrowed(current: Filter | None, scope_filter: Filter) -> Filter:
    return scope_filter if current is None else And((current, scope_filter))


def scope_allocation(query: AllocationQuery, scope: Scope, parameters: dict[str, str] | None = None) -> AllocationQuery:
    """``query`` narrowed to ``scope`` (see the module docstring); ``query`` itself when unrestricted.

    ``parameters`` maps sharing fields to the parameter names the caller uses (defaults to /allocation's), so
    that a refused sharing option is reported under the name the client sent.
    """
    if scope.unrestricted:
        return query
    names = dict(_SHARE_PARAMETERS) | (parameters or {})
    for field, parameter in _SHARE_PARAMETERS:
        if getattr(query, field):
            name = names.get(field, parameter)
            raise Forbidden(f"{name}: sharing is not available to an identity scoped to {scope.describe()}")
    scope_filter = scope.allocation_filter()
    assert scope_filter is not None
    return replace(
        query,
        filter=_narrowed(query.filter, scope_filter),
        idle=IdleMode.SHARE,
        split_idle=False,
        idle_by_node=query.idle_by_node and scope.namespaces is None,
        share_split=idle_split(scope),
        scope=scope,
    )


def idle_split(scope: Scope) -> ShareSplit:
    """How idle is shared onto a scoped identity's rows: by request share when namespaces are scoped (a share
    weighted by co-tenants' cost would give it back), by cost when the scope is whole clusters (nothing in them
    is hidden from the identity)."""
    if scope.namespaces is not None:
        return ShareSplit(SplitMethod.REQUEST)
    return ShareSplit(SplitMethod.WEIGHTED)


def scope_assets(query: AssetQuery, scope: Scope) -> AssetQuery:
    """``query`` narrowed to the scope's clusters; Forbidden for a namespace-scoped identity."""
    if scope.namespaces is not None:
        raise Forbidden(f"assets are cluster-wide; an identity scoped to {scope.describe()} cannot read them")
    scope_filter = scope.asset_filter()
    if scope_filter is None:
        return query
    return replace(query, filter=_narrowed(query.filter, scope_filter), scope=scope)


__all__ = ["UNRESTRICTED", "Scope", "idle_split", "scope_allocation", "scope_assets"]

"""Aggregation keys: what ``aggregate=namespace,label:app`` means, as a table the query layer compiles.

Each :class:`AggregateKey` says where its value comes from in the ledger: a scalar column of ``allocations`` /
``pods`` (``column``), a map column (``labels`` / ``annotations``, looked up by ``lookup_keys``), the first
element of a list column (``services``), the controller of a given kind, or the ``kind:name`` pair of the
controller. A row with no value for a key is named ``__unallocated__`` for that key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kubetally.domain.filter_sql import SqlFragment
from kubetally.domain.names import (
    ALL,
    DAEMONSET,
    DEFAULT_LABEL_ALIASES,
    DEPLOYMENT,
    JOB,
    SEPARATOR,
    STATEFULSET,
    UNALLOCATED,
    label_lookup_keys,
)
from kubetally.errors import InvalidAggregate


class KeySource(StrEnum):
    """Where an aggregate key takes its value from."""

    COLUMN = "column"
    """``column`` holds the value (a scalar column of allocations or pods)."""
    CONTROLLER = "controller"
    """``kind:name`` from ``controller_kind`` and ``controller`` (OpenCost's controller value)."""
    CONTROLLER_OF_KIND = "controller_of_kind"
    """``controller`` when ``controller_kind`` equals ``controller_kind`` (deployment, job, ...), else none."""
    FIRST_OF_LIST = "first_of_list"
    """The first element of the list column ``column`` (services)."""
    MAP = "map"
    """``column[key]`` for the first of ``lookup_keys`` present in the map column ``column``."""
    ALL = "all"
    """One aggregate for everything: the constant ``constant``."""


@dataclass(frozen=True)
class AggregateKey:
    """One aggregation key.

    ``name`` is the canonical spelling (``namespace``, ``controllerKind``, ``label:app``); ``property_name`` is the
    OpenCost allocation property it fills; ``column`` the ledger column it reads (``allocations`` columns
    ``cluster, node, namespace, pod, container``; ``pods`` columns ``controller_kind, controller, cronjob,
    services, provider_id, labels, annotations``); ``label`` the label or annotation key as written (MAP keys only) and
    ``lookup_keys`` the map keys to try; ``controller_kind`` the kind a CONTROLLER_OF_KIND key selects.
    """

    name: str
    source: KeySource
    property_name: str
    column: str | None = None
    label: str | None = None
    lookup_keys: tuple[str, ...] = ()
    controller_kind: str | None = None
    constant: str | None = None

    @property
    def needs_pods(self) -> bool:
        """Whether the value comes from the ``pods`` dimension rather than the allocation row itself."""
        return self.source is not KeySource.ALL and self.column not in _ALLOCATION_COLUMNS


_ALLOCATION_COLUMNS = frozenset({"cluster", "node", "namespace", "pod", "container"})


def _column(name: str, column: str, prop: str | None = None) -> AggregateKey:
    return AggregateKey(name, KeySource.COLUMN, prop or name, column=column)


def _controller_of_kind(name: str, kind: str) -> AggregateKey:
    return AggregateKey(name, KeySource.CONTROLLER_OF_KIND, "controller", column="controller", controller_kind=kind)


SIMPLE_KEYS: Mapping[str, AggregateKey] = {
    key.name.lower(): key
    for key in (
        _column("cluster", "cluster"),
        _column("node", "node"),
        _column("namespace", "namespace"),
        _column("controllerKind", "controller_kind"),
        AggregateKey("controller", KeySource.CONTROLLER, "controller", column="controller"),
        _column("pod", "pod"),
        _column("container", "container"),
        AggregateKey("service", KeySource.FIRST_OF_LIST, "services", column="services"),
        _column("providerID", "provider_id"),
        _controller_of_kind("deployment", DEPLOYMENT),
        _controller_of_kind("statefulset", STATEFULSET),
        _controller_of_kind("daemonset", DAEMONSET),
        _controller_of_kind("job", JOB),
        _column("cronjob", "cronjob", "controller"),
    )
}
"""Keys without an argument, by lower-case name. ``job`` is OpenCost's: every Job's pods, a CronJob's under the
name of its Jobs without their timestamp; ``cronjob`` is kubetally's roll-up of a CronJob's Jobs by ownership."""

_MAP_PREFIXES = {"label": "labels", "annotation": "annotations"}
_ALL_WORDS = frozenset({"all"})


def _map_key(prefix: str, name: str, text: str) -> AggregateKey:
    if not name:
        raise InvalidAggregate(f"{text!r} needs a name after '{prefix}:' (e.g. {prefix}:app)")
    return AggregateKey(
        f"{prefix}:{name}",
        KeySource.MAP,
        _MAP_PREFIXES[prefix],
        column=_MAP_PREFIXES[prefix],
        label=name,
        lookup_keys=label_lookup_keys(name),
    )


def _accepted() -> str:
    simple = ", ".join(key.name for key in SIMPLE_KEYS.values())
    return f"{simple}, {', '.join(DEFAULT_LABEL_ALIASES)}, label:<name>, annotation:<name>, all"


def parse_aggregate_key(text: str, label_aliases: Mapping[str, str] = DEFAULT_LABEL_ALIASES) -> AggregateKey:
    """One key: a name of :data:`SIMPLE_KEYS` (case-insensitive), a label alias, ``label:<name>`` or
    ``annotation:<name>``."""
    cleaned = text.strip()
    lowered = cleaned.lower()
    if lowered in SIMPLE_KEYS:
        return SIMPLE_KEYS[lowered]
    if lowered in label_aliases:
        alias = _map_key("label", label_aliases[lowered], cleaned)
        return AggregateKey(lowered, KeySource.MAP, "labels", "labels", alias.label, alias.lookup_keys)
    prefix, sep, name = cleaned.partition(":")
    if sep and prefix.lower() in _MAP_PREFIXES:
        return _map_key(prefix.lower(), name.strip(), cleaned)
    if not cleaned:
        raise InvalidAggregate(f"empty key; accepted: {_accepted()}")
    raise InvalidAggregate(f"unknown key {cleaned!r}; accepted: {_accepted()}")


def parse_aggregate(
    text: str | None, label_aliases: Mapping[str, str] = DEFAULT_LABEL_ALIASES
) -> tuple[AggregateKey, ...]:
    """A comma-separated list of keys. Empty means no aggregation (one row per container, named
    ``cluster/node/namespace/pod/container``); ``all`` means a single aggregate.

    Keys are case-insensitive; a repeated key is an error (its rows would be named ``x/x``).
    """
    cleaned = (text or "").strip()
    if not cleaned:
        return ()
    if cleaned.lower() in _ALL_WORDS:
        return (AggregateKey("all", KeySource.ALL, "", constant=ALL),)
    keys = tuple(parse_aggregate_key(part, label_aliases) for part in cleaned.split(","))
    seen: set[str] = set()
    for key in keys:
        if key.name in seen:
            raise InvalidAggregate(f"key {key.name!r} is repeated in {cleaned!r}")
        seen.add(key.name)
    return keys


def value_sql(key: AggregateKey, columns: Mapping[str, str]) -> SqlFragment:
    """A DuckDB expression for the key's value of one row: a VARCHAR, NULL when the row has none (empty
    strings count as none).

    ``columns`` maps ledger column names (``cluster``, ``controller_kind``, ``labels``, ...) to qualified SQL
    expressions (``a.cluster``, ``p.controller_kind``, ``p.labels``). When it maps ``namespace_labels`` too, a
    label key falls back to the namespace's labels, as OpenCost does.
    """

    def col(name: str) -> str:
        try:
            return columns[name]
        except KeyError:
            raise InvalidAggregate(f"key {key.name!r} cannot be aggregated on here") from None

    if key.source is KeySource.ALL:
        return SqlFragment("CAST(? AS VARCHAR)", (key.constant,))
    if key.source is KeySource.COLUMN:
        return SqlFragment(f"NULLIF({col(str(key.column))}, '')", ())
    if key.source is KeySource.FIRST_OF_LIST:
        return SqlFragment(f"NULLIF({col(str(key.column))}[1], '')", ())
    if key.source is KeySource.MAP:
        maps = [col(str(key.column))]
        if key.column == "labels" and "namespace_labels" in columns:
            maps.append(columns["namespace_labels"])  # a pod without the label inherits its namespace's
        lookups = ", ".join(f"{source}[?]" for source in maps for _ in key.lookup_keys)
        return SqlFragment(f"NULLIF(COALESCE({lookups}), '')", key.lookup_keys * len(maps))
    name, kind = col("controller"), col("controller_kind")
    if key.source is KeySource.CONTROLLER_OF_KIND:
        return SqlFragment(f"CASE WHEN {kind} = ? THEN NULLIF({name}, '') END", (key.controller_kind,))
    return SqlFragment(
        f"CASE WHEN NULLIF({name}, '') IS NULL THEN NULL WHEN NULLIF({kind}, '') IS NULL THEN {name} "
        f"ELSE {kind} || ':' || {name} END",
        (),
    )


def name_sql(keys: tuple[AggregateKey, ...], columns: Mapping[str, str]) -> SqlFragment:
    """A DuckDB expression for the aggregate name of one row: the keys' values joined with ``/``, a missing
    value reading ``__unallocated__``. ``keys`` must not be empty (unaggregated rows are named by
    :func:`kubetally.domain.names.unaggregated_name`)."""
    if not keys:
        raise InvalidAggregate("no aggregation keys to name")
    parts = [value_sql(key, columns) for key in keys]
    sql = ", ".join(f"COALESCE({part.sql}, ?)" for part in parts)
    params = tuple(param for part in parts for param in (*part.params, UNALLOCATED))
    return SqlFragment(f"concat_ws(?, {sql})", (SEPARATOR, *params))

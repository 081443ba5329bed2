"""Aggregation keys: what ``aggregate=namespace,label:app`` means, as a table the query layer compiles.

Each :class:`AggregateKey` says where its value comes from in the ledger: a scalar column of ``allocations`` /
``pods`` (``column``), a map column (``labels`` / ``annotations``, looked up by ``lookup_keys``), the first
element of a list column (``services``), the controller of a given kind, or the ``kind:name`` pair of the
controller. A row with no value for a key is named ``__unallocated__`` for that key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kubetally.domain.names import ALL
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


_LABEL_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def sanitize_label_name(name: str) -> str:
    """The Prometheus form of a Kubernetes label or annotation name: every character other than ASCII
    letters, digits and ``_`` becomes ``_``, and a leading digit gets a ``_`` prefix
    (``app.kubernetes.io/name`` → ``app_kubernetes_io_name``)."""
    cleaned = _LABEL_INVALID.sub("_", name)
    return f"_{cleaned}" if cleaned[:1].isdigit() else cleaned


def label_lookup_keys(name: str) -> tuple[str, ...]:
    """Map keys to try, in order, for a label written as ``name``: the name itself, then its sanitised form."""
    sanitized = sanitize_label_name(name)
    return (name,) if sanitized == name else (name, sanitized)


DEFAULT_LABEL_ALIASES: Mapping[str, str] = {
    "department": "department",
    "environment": "env",
    "owner": "owner",
    "product": "app",
    "team": "team",
}
"""The labels OpenCost's ``department/environment/owner/product/team`` aggregations read by default."""


@dataclass(frozen=True)
class AggregateKey:
    """One aggregation key.

    ``name`` is the canonical spelling (``namespace``, ``controllerKind``, ``label:app``); ``property_name`` is the
    OpenCost allocation property it fills; ``column`` the ledger column it reads (``allocations`` columns
    ``cluster, node, namespace, pod, container``; ``pods`` columns ``controller_kind, controller, services,
    provider_id, labels, annotations``); ``label`` the label or annotation key as written (MAP keys only) and
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
        _controller_of_kind("deployment", "Deployment"),
        _controller_of_kind("statefulset", "StatefulSet"),
        _controller_of_kind("daemonset", "DaemonSet"),
        _controller_of_kind("job", "Job"),
        _controller_of_kind("cronjob", "CronJob"),
        _controller_of_kind("replicaset", "ReplicaSet"),
    )
}
"""Keys without an argument, by lower-case name."""

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

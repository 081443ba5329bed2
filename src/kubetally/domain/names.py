"""Special allocation names and the way OpenCost builds allocation and asset names."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

IDLE = "__idle__"
"""Capacity cost no workload was charged for."""
UNALLOCATED = "__unallocated__"
"""An allocation with no value for (one of) the aggregation keys, e.g. a pod without the label."""
UNMOUNTED = "__unmounted__"
"""Storage or load-balancer cost with no running pod using it."""
SHARED = "__shared__"
"""Cost shared onto the other allocations (shared namespaces, labels, overhead)."""
FILTERED = "__filtered__"
"""Cost of allocations removed by a filter, when a response keeps it as one row."""

ALL = "__all__"
"""The single aggregate of ``aggregate=all``."""

SPECIAL_NAMES = frozenset({IDLE, UNALLOCATED, UNMOUNTED, SHARED, FILTERED, ALL})

SEPARATOR = "/"
"""Joins the values of a multi-key aggregate and the parts of an unaggregated name."""

UNAGGREGATED_PARTS = ("cluster", "node", "namespace", "pod", "container")
"""The parts of an unaggregated allocation name, in order."""

ASSET_NAME_PARTS = ("provider", "account", "project", "category", "cluster", "type", "service", "providerID", "name")
"""The parts of an asset key in ``/assets`` responses, in order."""


def is_special(name: str) -> bool:
    """Whether ``name`` is, or ends in, one of the special names (``cluster-a/__idle__`` is special)."""
    return name.rsplit(SEPARATOR, 1)[-1] in SPECIAL_NAMES


def _part(value: str | None) -> str:
    return value if value else UNALLOCATED


def aggregate_name(values: Iterable[str | None]) -> str:
    """The name of an aggregate: its key values joined with ``/``; a missing value reads ``__unallocated__``.

    A single ``__idle__`` / ``__unmounted__`` / ``__shared__`` value is passed through unchanged.
    """
    return SEPARATOR.join(_part(value) for value in values)


DEPLOYMENT = "deployment"
STATEFULSET = "statefulset"
DAEMONSET = "daemonset"
JOB = "job"
"""Controller kinds as OpenCost writes them (``controllerKind``): the Kubernetes kind in lower case (also
``replicaset`` and ``rollout``)."""

CRONJOB_JOB_NAME = "^(.+)-([0-9]{10}|[0-9]{8})$"
"""A Job name ending in a CronJob's schedule timestamp (8 digits: minutes, batch/v1; 10 digits: seconds,
batch/v1beta1); group 1 is the name OpenCost reports for the Job (the CronJob's name, in practice). The pattern is
the same in Python, Polars, DuckDB and Spark (Java) regular expressions, and has no backslash to escape in SQL."""


def controller_value(kind: str | None, name: str | None) -> str | None:
    """OpenCost's ``controller`` aggregate value ``kind:name`` (``None`` when the pod has no controller)."""
    if not name:
        return None
    return f"{kind}:{name}" if kind else name


def unaggregated_name(
    cluster: str | None, node: str | None, namespace: str | None, pod: str | None, container: str | None
) -> str:
    """``cluster/node/namespace/pod/container`` with ``__unallocated__`` for missing parts."""
    return aggregate_name((cluster, node, namespace, pod, container))


def idle_name(cluster: str | None = None, node: str | None = None) -> str:
    """``__idle__``, ``<cluster>/__idle__`` (split idle) or ``<cluster>/<node>/__idle__`` (split by node)."""
    parts = [part for part in (cluster, node) if part]
    return SEPARATOR.join([*parts, IDLE])


def asset_name(parts: Iterable[str | None]) -> str:
    """An asset key ``provider/account/project/category/cluster/type/service/providerID/name``; missing
    parts are empty, as in OpenCost."""
    return SEPARATOR.join(part or "" for part in parts)


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

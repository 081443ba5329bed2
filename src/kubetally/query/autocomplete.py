"""OpenCost's autocomplete: the distinct values of one field over a window, for a UI's filter boxes.

``/allocation/autocomplete``, ``/assets/autocomplete`` and ``/cloudCost/autocomplete`` answer
``{"data": [value, ...]}``: the values the field takes in the window (after ``filter``), sorted, those containing
``search`` (case-insensitive) only, at most ``limit``. The values are the names of the matching query aggregated by
that field, so an autocomplete offers exactly what an aggregation or a filter on the field would find; the special
names (``__idle__``, ``__unallocated__``, ...) are not values and never offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kubetally.domain.names import SEPARATOR, SPECIAL_NAMES
from kubetally.errors import InvalidParameter

DEFAULT_LIMIT = 100
"""Values returned when ``limit`` is absent or 0 (OpenCost's default)."""
MAX_LIMIT = 1000
"""The largest ``limit`` accepted (OpenCost's maximum)."""

ALLOCATION_FIELDS: dict[str, str] = {
    "cluster": "cluster",
    "node": "node",
    "namespace": "namespace",
    "controllerkind": "controllerKind",
    "controllername": "controller",
    "controller": "controller",
    "pod": "pod",
    "container": "container",
    "service": "service",
    "providerid": "providerID",
    "department": "department",
    "environment": "environment",
    "owner": "owner",
    "product": "product",
    "team": "team",
}
"""Allocation autocomplete fields (case-insensitive) and the aggregate each reads; ``label:<name>`` too."""

ASSET_FIELDS: dict[str, str] = {
    "cluster": "cluster",
    "name": "name",
    "type": "type",
    "assettype": "type",
    "category": "category",
    "service": "service",
    "providerid": "providerID",
    "provider": "provider",
    "account": "account",
    "project": "project",
}
"""Asset autocomplete fields (case-insensitive) and the aggregate each reads; ``label:<name>`` too."""


@dataclass(frozen=True)
class Autocomplete:
    """One autocomplete request: the aggregate it reads, the search text and the limit."""

    aggregate: str
    search: str
    limit: int

    @staticmethod
    def from_params(params: Mapping[str, str], fields: Mapping[str, str] | None) -> Autocomplete:
        """Decode ``field`` (through ``fields``; ``None``: taken as given, the caller's parser checks it),
        ``search`` and ``limit``; InvalidParameter naming the bad one."""
        raw = (params.get("field") or "").strip()
        if not raw:
            raise InvalidParameter("field", "missing (required); e.g. field=namespace")
        if raw.lower().startswith("label:") or fields is None:
            aggregate = raw
        elif raw.lower() in fields:
            aggregate = fields[raw.lower()]
        else:
            allowed = ", ".join(sorted({*fields, "label:<name>"}))
            raise InvalidParameter("field", f"unknown field {raw[:60]!r}; expected one of {allowed}")
        return Autocomplete(aggregate, (params.get("search") or "").strip().lower(), _limit(params.get("limit")))


def _limit(raw: str | None) -> int:
    text = (raw or "").strip()
    if not text:
        return DEFAULT_LIMIT
    if not text.isdigit() or len(text) > 6:
        raise InvalidParameter("limit", f"invalid value {text[:40]!r}; expected an integer from 0 to {MAX_LIMIT}")
    value = int(text)
    if value > MAX_LIMIT:
        raise InvalidParameter("limit", f"{value} is too many; at most {MAX_LIMIT} values are returned")
    return value or DEFAULT_LIMIT


def values(names: Iterable[str], request: Autocomplete) -> dict[str, list[str]]:
    """The ``data`` of an autocomplete answer from the names of the aggregated sets: real values only, sorted,
    those containing the search text, at most ``limit``."""
    found = {name for name in names if name and name not in SPECIAL_NAMES and not name.endswith(SEPARATOR + "__idle__")}
    matching = sorted(name for name in found if request.search in name.lower())
    return {"data": matching[: request.limit]}


__all__ = ["ALLOCATION_FIELDS", "ASSET_FIELDS", "DEFAULT_LIMIT", "MAX_LIMIT", "Autocomplete", "values"]

"""The JSON-ready form of query results handed to the edges (CLI, HTTP API, MCP)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kubetally.query.shape import clean

Sets = list[dict[str, dict[str, Any]]]


def _render(sets: Sequence[dict[str, dict[str, Any]]]) -> Sets:
    return [{name: {k: clean(v) for k, v in item.items()} for name, item in s.items()} for s in sets]


def render_allocation(sets: Sequence[dict[str, dict[str, Any]]]) -> Sets:
    """OpenCost's ``/allocation`` ``data``: ``run_allocation``'s sets (already rounded, NaN → null)."""
    return _render(sets)


def render_assets(sets: Sequence[dict[str, dict[str, Any]]]) -> Sets:
    """OpenCost's ``/assets`` ``data``: ``run_assets``' sets (already rounded, NaN → null)."""
    return _render(sets)

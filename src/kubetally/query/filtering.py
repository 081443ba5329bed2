"""Filters compiled against the ledger's columns (aliases ``a`` allocations, ``p`` pods, ``s`` assets)."""

from __future__ import annotations

from kubetally.domain.filter_ast import ALLOCATION_FIELDS, ASSET_FIELDS, And, Comparison, FieldSet, Filter, Or
from kubetally.domain.filter_parser import parse
from kubetally.domain.filter_sql import FilterColumns, compile_filter
from kubetally.errors import InvalidFilter

ALLOCATION_FILTER_COLUMNS = FilterColumns.for_allocations("a", "p")
"""Where each allocation filter field lives in ``allocations a LEFT JOIN pods p``."""

ASSET_FILTER_COLUMNS = FilterColumns.for_assets("s")
"""Where each asset filter field lives in ``assets s``."""

_ROW_FIELDS = frozenset({"cluster", "node", "namespace", "container", "pod"})


def filter_fields(tree: Filter) -> set[str]:
    """The field names a filter reads."""
    if isinstance(tree, Comparison):
        return {tree.field}
    fields: set[str] = set()
    operands = tree.operands if isinstance(tree, And | Or) else ()
    for operand in operands:
        fields |= filter_fields(operand)
    return fields


def compile_allocation_filter(tree: Filter) -> tuple[str, list[object], bool]:
    """SQL text, its parameters, and whether it reads the ``pods`` dimension."""
    fragment = compile_filter(tree, ALLOCATION_FILTER_COLUMNS)
    return fragment.sql, list(fragment.params), not filter_fields(tree) <= _ROW_FIELDS


def compile_asset_filter(tree: Filter) -> tuple[str, list[object]]:
    """SQL text and parameters of an asset filter over ``assets s``."""
    fragment = compile_filter(tree, ASSET_FILTER_COLUMNS)
    return fragment.sql, list(fragment.params)


def parse_filter_param(text: str, parameter: str, fields: FieldSet = ALLOCATION_FIELDS) -> Filter:
    """Parse one filter parameter; errors name ``parameter`` (``filter``, ``shareFilter``)."""
    try:
        return parse(text, fields)
    except InvalidFilter as exc:
        if exc.parameter == parameter:
            raise
        message = exc.message.removeprefix(f"{exc.parameter}: ")
        raise InvalidFilter(message, parameter) from exc


def parse_asset_filter(text: str) -> Filter:
    """Parse an ``/assets`` filter."""
    return parse_filter_param(text, "filter", ASSET_FIELDS)

"""Evaluating a parsed filter on one row in Python, with the same semantics as the SQL compiler."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from kubetally.domain.filter_ast import And, Comparison, FieldKind, Filter, Op
from kubetally.domain.names import label_lookup_keys

_TESTS: dict[Op, Callable[[str, str], bool]] = {
    Op.EQ: lambda subject, value: subject == value,
    Op.CONTAINS: lambda subject, value: value in subject,
    Op.PREFIX: lambda subject, value: subject.startswith(value),
    Op.SUFFIX: lambda subject, value: subject.endswith(value),
}


def _map_value(mapping: object, keys: Iterable[str]) -> str:
    if not isinstance(mapping, Mapping):
        return ""
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return str(value)
    return ""


def _elements(value: object) -> list[str]:
    if value is None or isinstance(value, str):
        return []
    if isinstance(value, Mapping):
        return [str(key) for key in value]
    if isinstance(value, Iterable):
        return [str(element) for element in value if element is not None]
    return []


def _holds(comparison: Comparison, cell: object, value: str) -> bool:
    op = comparison.op.positive
    if comparison.kind is FieldKind.SCALAR:
        if comparison.key is not None:
            subject = _map_value(cell, comparison.lookup_keys)
        else:
            subject = "" if cell is None else str(cell)
        if comparison.folds_case:
            return _TESTS[op](subject.lower(), value.lower())
        return _TESTS[op](subject, value)
    elements = _elements(cell)
    if op in (Op.PREFIX, Op.SUFFIX):
        return any(_TESTS[op](element, value) for element in elements)
    candidates = label_lookup_keys(value) if comparison.kind is FieldKind.MAP else (value,)
    return any(candidate in elements for candidate in candidates)


def matches(filter_: Filter, row: Mapping[str, object]) -> bool:
    """Whether ``row`` satisfies ``filter_``.

    ``row`` maps canonical field names (``namespace``, ``controllerName``, ``services``, ``label``, ...) to a
    string (scalar fields), a sequence of strings (``services``) or a string mapping (map fields); a missing
    entry counts as a missing value.
    """
    if isinstance(filter_, Comparison):
        cell = row.get(filter_.field)
        held = any(_holds(filter_, cell, value) for value in filter_.values)
        return not held if filter_.op.negated else held
    if isinstance(filter_, And):
        return all(matches(operand, row) for operand in filter_.operands)
    return any(matches(operand, row) for operand in filter_.operands)

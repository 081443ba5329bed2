"""Compiling a parsed filter to a DuckDB ``WHERE`` fragment, with every value passed as a ``?`` parameter.

Semantics (the same as :func:`kubetally.domain.filter_eval.matches`): a missing scalar or map value compares
as the empty string; a missing list or map has no elements. A comparison with several values holds when the
operator holds for any value; a negated operator holds when the positive operator holds for none. Map keys are
looked up as written, then in their Prometheus-sanitised form. ``controllerKind`` and ``controllerName`` ignore
case (:data:`kubetally.domain.filter_ast.CASE_INSENSITIVE_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from kubetally.domain.filter_ast import And, Comparison, FieldKind, Filter, Op
from kubetally.domain.names import label_lookup_keys
from kubetally.errors import InvalidFilter


@dataclass(frozen=True)
class SqlFragment:
    """A boolean SQL expression and its positional ``?`` parameters, in order."""

    sql: str
    params: tuple[object, ...]


@dataclass(frozen=True)
class FilterColumns:
    """The SQL expression each filter field reads, by canonical field name.

    Scalar fields map to a VARCHAR expression, ``services`` to a ``VARCHAR[]`` expression, and map fields
    (``label``, ``annotation``, ...) to a ``MAP(VARCHAR, VARCHAR)`` expression. Expressions are trusted SQL
    written by the query layer, never user input.
    """

    expressions: Mapping[str, str]

    def expression(self, field: str) -> str:
        try:
            return self.expressions[field]
        except KeyError:
            raise InvalidFilter(f'field "{field}" cannot be filtered on here') from None

    @classmethod
    def for_allocations(cls, allocations: str = "a", pods: str = "p") -> FilterColumns:
        """Columns of an ``allocations`` row (alias ``allocations``) joined to its ``pods`` row (alias ``pods``)."""
        return cls(
            MappingProxyType(
                {
                    "cluster": f"{allocations}.cluster",
                    "node": f"{allocations}.node",
                    "namespace": f"{allocations}.namespace",
                    "pod": f"{allocations}.pod",
                    "container": f"{allocations}.container",
                    "controllerName": f"{pods}.controller",
                    "controllerKind": f"{pods}.controller_kind",
                    "providerID": f"{pods}.provider_id",
                    "services": f"{pods}.services",
                    "label": f"{pods}.labels",
                    "annotation": f"{pods}.annotations",
                    "namespaceLabel": f"{pods}.namespace_labels",
                    "namespaceAnnotation": f"{pods}.namespace_annotations",
                }
            )
        )

    @classmethod
    def for_assets(cls, assets: str = "s") -> FilterColumns:
        """Columns of an ``assets`` row (alias ``assets``); ``provider``, ``account`` and ``project`` are not
        stored in the ledger and cannot be filtered on."""
        names = {"cluster": "cluster", "name": "name", "type": "type", "category": "category"}
        names |= {"service": "service", "providerID": "provider_id", "label": "labels"}
        return cls(MappingProxyType({field: f"{assets}.{column}" for field, column in names.items()}))


_ELEMENT = "kt_element"
"""The lambda variable of list predicates (a name no ledger column uses)."""

_SCALAR_SQL = {
    Op.EQ: "{subject} = ?",
    Op.CONTAINS: "contains({subject}, ?)",
    Op.PREFIX: "starts_with({subject}, ?)",
    Op.SUFFIX: "ends_with({subject}, ?)",
}
_ANY_ELEMENT_SQL = {
    Op.PREFIX: "starts_with",
    Op.SUFFIX: "ends_with",
}


def _scalar_subject(comparison: Comparison, expression: str) -> tuple[str, tuple[object, ...]]:
    if comparison.folds_case:
        return f"lower(COALESCE({expression}, ''))", ()
    if comparison.key is None:
        return f"COALESCE({expression}, '')", ()
    keys = comparison.lookup_keys
    lookups = ", ".join(f"{expression}[?]" for _ in keys)
    return f"COALESCE({lookups}, '')", tuple(keys)


def _any_element(op: Op, elements: str, value: str, keys: bool) -> tuple[str, tuple[object, ...]]:
    if op in _ANY_ELEMENT_SQL:
        function = _ANY_ELEMENT_SQL[op]
        sql = f"COALESCE(list_bool_or(list_transform({elements}, lambda {_ELEMENT}: {function}({_ELEMENT}, ?))), false)"
        return sql, (value,)
    candidates = label_lookup_keys(value) if keys else (value,)
    sql = " OR ".join(f"COALESCE(list_contains({elements}, ?), false)" for _ in candidates)
    return (sql if len(candidates) == 1 else f"({sql})"), tuple(candidates)


def _positive(comparison: Comparison, expression: str, value: str) -> tuple[str, tuple[object, ...]]:
    op = comparison.op.positive
    if comparison.kind is FieldKind.SCALAR:
        subject, params = _scalar_subject(comparison, expression)
        return _SCALAR_SQL[op].format(subject=subject), (*params, value.lower() if comparison.folds_case else value)
    if comparison.kind is FieldKind.LIST:
        return _any_element(op, expression, value, keys=False)
    return _any_element(op, f"map_keys({expression})", value, keys=True)


def _comparison(comparison: Comparison, columns: FilterColumns) -> SqlFragment:
    expression = columns.expression(comparison.field)
    parts = [_positive(comparison, expression, value) for value in comparison.values]
    sql = " OR ".join(part for part, _ in parts) if parts else "false"
    params = tuple(param for _, group in parts for param in group)
    if comparison.op.negated:
        return SqlFragment(f"NOT ({sql})", params)
    return SqlFragment(f"({sql})", params)


def compile_filter(filter_: Filter, columns: FilterColumns) -> SqlFragment:
    """A DuckDB boolean expression equivalent to ``filter_``; values are ``?`` parameters, never inlined."""
    if isinstance(filter_, Comparison):
        return _comparison(filter_, columns)
    joiner = " AND " if isinstance(filter_, And) else " OR "
    fragments = [compile_filter(operand, columns) for operand in filter_.operands]
    return SqlFragment(
        "(" + joiner.join(fragment.sql for fragment in fragments) + ")",
        tuple(param for fragment in fragments for param in fragment.params),
    )

"""OpenCost's filter language v2: parse once into an immutable tree, then compile to SQL or evaluate.

The language, its fields and its semantics are described in ``docs/query-language.md``; this module is the
public entry point and re-exports the pieces that live in the ``filter_*`` modules.
"""

from __future__ import annotations

from kubetally.domain.filter_ast import (
    ALLOCATION_FIELDS,
    ASSET_FIELDS,
    And,
    Comparison,
    FieldKind,
    FieldSet,
    FieldSpec,
    Filter,
    Op,
    Or,
    quote,
)
from kubetally.domain.filter_eval import matches
from kubetally.domain.filter_parser import parse
from kubetally.domain.filter_sql import FilterColumns, SqlFragment, compile_filter

__all__ = [
    "ALLOCATION_FIELDS",
    "ASSET_FIELDS",
    "And",
    "Comparison",
    "FieldKind",
    "FieldSet",
    "FieldSpec",
    "Filter",
    "FilterColumns",
    "Op",
    "Or",
    "SqlFragment",
    "compile_filter",
    "matches",
    "parse_filter",
    "quote",
]


def parse_filter(text: str | None, fields: FieldSet = ALLOCATION_FIELDS) -> Filter | None:
    """Parse a filter; ``None`` when ``text`` is empty or blank (no filter).

    Raises :class:`kubetally.errors.InvalidFilter` with the position of the problem and what was expected.
    """
    if text is None or not text.strip():
        return None
    return parse(text, fields)

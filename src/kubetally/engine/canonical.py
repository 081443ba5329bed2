"""The canonical row order of a ClusterHistory: costs must not depend on the order a source emitted its rows.

Floating-point sums depend on the order of their terms, so two sources (or two fetches from one source) that give
the same rows in different orders would otherwise cost them with different last bits.
"""

from __future__ import annotations

import polars as pl

from kubetally.engine.timeline import ENGINE
from kubetally.history import ClusterHistory


def sort_keys(frame: pl.DataFrame) -> list[str]:
    """Every column of ``frame`` that has an order (all but maps and other nested columns)."""
    return [name for name, dtype in frame.schema.items() if not dtype.is_nested()]


def canonical(history: ClusterHistory) -> ClusterHistory:
    """``history`` with every table sorted by all its orderable columns (nulls last); the tables sort in parallel."""
    tables = history.tables()
    names = list(tables)
    lazy = [tables[name].lazy().sort(sort_keys(tables[name]), nulls_last=True, maintain_order=True) for name in names]
    ordered = pl.collect_all(lazy, engine=ENGINE)
    return ClusterHistory(start=history.start, end=history.end, **dict(zip(names, ordered, strict=True)))

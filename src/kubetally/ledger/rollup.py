"""Maintaining ``allocations_daily``: the rollup rows of whole UTC days recomputed from the hourly rows.

A write recomputes every ``(cluster, day)`` it touched inside its own transaction, so the rollup is always a
fresh aggregation of the hourly rows it summarises: a crash leaves both as they were, and re-writing the same
hours leaves it equal (up to the order floating-point sums are added in).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb

from kubetally.ledger.schema import ROLLUP, ROLLUP_COLUMNS, TABLES, quote_identifier

DAY = timedelta(days=1)


def day_floor(instant: datetime) -> datetime:
    """The start of the UTC day holding ``instant``."""
    utc = instant.astimezone(UTC)
    return datetime(utc.year, utc.month, utc.day, tzinfo=UTC)


def day_ceil(instant: datetime) -> datetime:
    """The first UTC midnight at or after ``instant``."""
    floor = day_floor(instant)
    return floor if floor == instant else floor + DAY


def rollup_select_sql(where: str) -> str:
    """``SELECT`` of the rollup rows of the hourly ``allocations`` rows matching ``where``, in insertion order."""
    selected = ", ".join(f"{c.expression} AS {quote_identifier(c.name)}" for c in ROLLUP_COLUMNS)
    keys = ", ".join(c.expression for c in ROLLUP_COLUMNS if c.key)
    order = ", ".join(quote_identifier(c) for c in TABLES[ROLLUP].sort)
    return f"SELECT {selected} FROM allocations WHERE {where} GROUP BY {keys} ORDER BY {order}"


def _insert_sql(where: str) -> str:
    columns = ", ".join(quote_identifier(c.name) for c in ROLLUP_COLUMNS)
    return f"INSERT INTO {ROLLUP} ({columns}) {rollup_select_sql(where)}"


def refresh_days(connection: duckdb.DuckDBPyConnection, scope_table: str, start: datetime, end: datetime) -> int:
    """Recompute the rollup rows of the clusters in ``scope_table`` for every UTC day overlapping ``[start, end)``.

    Runs inside the caller's transaction. Returns the number of rollup rows inserted.
    """
    first, stop = day_floor(start), day_ceil(end)
    clusters = f"cluster IN (SELECT cluster FROM {scope_table})"
    connection.execute(f"DELETE FROM {ROLLUP} WHERE day >= ? AND day < ? AND {clusters}", [first, stop]).fetchall()
    rows = connection.execute(_insert_sql(f"hour >= ? AND hour < ? AND {clusters}"), [first, stop]).fetchall()
    return int(rows[0][0]) if rows else 0


def rebuild(connection: duckdb.DuckDBPyConnection) -> int:
    """Replace the whole rollup by the aggregation of every hourly row (inside the caller's transaction)."""
    connection.execute(f"DELETE FROM {ROLLUP}").fetchall()
    rows = connection.execute(_insert_sql("true")).fetchall()
    return int(rows[0][0]) if rows else 0

"""Upserting cloud bill rows (``cloud_costs``, keyed by the whole bill line) and cloud usage rows (``cloud_usage``).

A write replaces, in one transaction, every stored row whose key equals the key of an incoming row (NULL equal to
NULL, as Krateo's database compares them) and inserts the incoming rows; rows with other keys are untouched. An
incoming frame holding one key several times keeps its last row. The ledger's ``generation`` grows with every
write, so readers comparing generations see the change, and ``cloud_sources`` records, per ``source`` of the
frame, when it was last written and how many rows that write held.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb
import polars as pl

from kubetally.errors import InvalidParameter, LedgerError
from kubetally.history import STRING_MAP
from kubetally.ledger.opening import rollback_quietly
from kubetally.ledger.schema import TABLES, TableSpec, insert_select_sql, quote_identifier

_SOURCE = "_kubetally_cloud_source"

CLOUD_TABLES = ("cloud_costs", "cloud_usage")
"""The tables written by :func:`upsert`."""


@dataclass(frozen=True)
class CloudWrite:
    """What one upsert did: rows whose key was new (``inserted``) and rows that replaced a stored row (``updated``)."""

    inserted: int
    updated: int


def conform_cloud(spec: TableSpec, frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with exactly ``spec``'s columns, in order and of the ledger types, one row per key (the last)."""
    if not isinstance(frame, pl.DataFrame):
        raise InvalidParameter("frame", f"{spec.name}: expected a polars DataFrame, got {type(frame).__name__}")
    missing = [c for c in spec.schema if c not in frame.columns]
    extra = [c for c in frame.columns if c not in spec.schema]
    if missing or extra:
        raise InvalidParameter(
            "frame", f"{spec.name}: missing columns {missing or 'none'}, unexpected columns {extra or 'none'}"
        )
    try:
        conformed = frame.select(
            pl.col(c) if frame.schema[c] == dtype else pl.col(c).cast(dtype, strict=True)
            for c, dtype in spec.schema.items()
        )
    except pl.exceptions.PolarsError as exc:
        wrong = {c: str(frame.schema[c]) for c, dtype in spec.schema.items() if frame.schema[c] != dtype}
        raise InvalidParameter("frame", f"{spec.name}: columns of the wrong type {wrong}: {exc}") from exc
    return conformed.unique(subset=list(spec.key), keep="last", maintain_order=True)


def _delete_matching_sql(spec: TableSpec, source: str) -> str:
    """``DELETE`` of the stored rows whose key equals an incoming row's key, NULL equal to NULL."""

    def incoming(column: str) -> str:
        name = f"s.{quote_identifier(column)}"
        return f"map_from_entries({name})" if spec.schema[column] == STRING_MAP else name

    condition = " AND ".join(f"t.{quote_identifier(c)} IS NOT DISTINCT FROM {incoming(c)}" for c in spec.key)
    return f"DELETE FROM {spec.name} AS t WHERE EXISTS (SELECT 1 FROM {source} AS s WHERE {condition})"


def _record_sources_sql(table: str) -> list[str]:
    """Statements replacing the ``cloud_sources`` rows of the sources in the registered frame (parameter: now)."""
    sources = f"SELECT source, count(*) AS n FROM {_SOURCE} GROUP BY source"
    return [
        f"DELETE FROM cloud_sources WHERE table_name = '{table}' AND source IN (SELECT source FROM ({sources}))",
        "INSERT INTO cloud_sources (source, table_name, last_ingest, rows) "
        f"SELECT source, '{table}', CAST(? AS TIMESTAMPTZ), n FROM ({sources})",
    ]


def upsert(
    connection: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, now: datetime | None = None
) -> CloudWrite:
    """Replace the rows of ``table`` (``cloud_costs`` or ``cloud_usage``) by key with ``frame``, in one transaction;
    ``now`` is recorded as the sources' last ingest in ``cloud_sources``.

    Raises InvalidParameter for a frame without exactly the table's columns, LedgerError when DuckDB fails (the
    transaction is then rolled back and the ledger is unchanged).
    """
    if table not in CLOUD_TABLES:
        raise InvalidParameter("table", f"{table!r} is not one of {list(CLOUD_TABLES)}")
    spec = TABLES[table]
    rows = conform_cloud(spec, frame)
    if rows.is_empty():
        return CloudWrite(0, 0)
    connection.register(_SOURCE, rows.to_arrow())
    try:
        connection.begin()
        try:
            deleted = connection.execute(_delete_matching_sql(spec, _SOURCE)).fetchall()
            connection.execute(insert_select_sql(spec, _SOURCE)).fetchall()
            if now is not None:
                delete, insert = _record_sources_sql(table)
                connection.execute(delete).fetchall()
                connection.execute(insert, [now]).fetchall()
            connection.execute(
                "UPDATE ledger_meta SET value = CAST(CAST(value AS BIGINT) + 1 AS VARCHAR) WHERE key = 'generation'"
            ).fetchall()
            connection.commit()
        except BaseException:
            rollback_quietly(connection)
            raise
    except duckdb.Error as exc:
        raise LedgerError(f"ledger write of {rows.height} {table} rows failed and was rolled back: {exc}") from exc
    finally:
        connection.unregister(_SOURCE)
    updated = int(deleted[0][0]) if deleted else 0
    return CloudWrite(inserted=rows.height - updated, updated=updated)

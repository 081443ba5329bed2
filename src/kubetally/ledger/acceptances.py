"""Recording accepted reconciliations (``bill_acceptances``): one row per asset, range and basis, the last wins."""

from __future__ import annotations

import duckdb
import polars as pl

from kubetally.errors import LedgerError
from kubetally.ledger.opening import rollback_quietly
from kubetally.ledger.schema import TABLES, insert_select_sql

_SOURCE = "_kubetally_acceptances"


def record_acceptances(connection: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> int:
    """Replace the acceptances of ``frame``'s keys by its rows, in one transaction; the rows written."""
    spec = TABLES["bill_acceptances"]
    rows = frame.select(spec.schema.names()).unique(subset=list(spec.key), keep="last")
    if rows.is_empty():
        return 0
    same = " AND ".join(f't."{c}" = s."{c}"' for c in spec.key)
    connection.register(_SOURCE, rows.to_arrow())
    try:
        connection.begin()
        try:
            connection.execute(
                f"DELETE FROM {spec.name} AS t WHERE EXISTS (SELECT 1 FROM {_SOURCE} AS s WHERE {same})"
            ).fetchall()
            connection.execute(insert_select_sql(spec, _SOURCE)).fetchall()
            connection.commit()
        except BaseException:
            rollback_quietly(connection)
            raise
    except duckdb.Error as exc:
        raise LedgerError(f"ledger write of {rows.height} bill acceptances failed: {exc}") from exc
    finally:
        connection.unregister(_SOURCE)
    return rows.height

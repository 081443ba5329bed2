"""Fleet engines: what runs the query layer's SQL over the fleet's Parquet files.

An engine defines one view per ledger table over a list of files (:class:`TableFiles`) and answers SQL written in
DuckDB's dialect (the query layer's) as a Polars frame with the ledger's types. :class:`DuckDBEngine` runs in
process; :class:`kubetally.ledger.spark.SparkEngine` transpiles each query with sqlglot and runs it on Spark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import duckdb
import polars as pl

from kubetally.errors import LedgerError
from kubetally.history import STRING_MAP
from kubetally.ledger.schema import SCHEMA_VERSION, quote_identifier, sql_type, version_4_controllers_sql

REVISION_COLUMN = ("hour_coverage", "generation")
"""The column a fleet view replaces by the fleet revision (see :mod:`kubetally.ledger.fleet`)."""


@dataclass(frozen=True)
class TableFiles:
    """A ledger table as the fleet holds it: its columns and the data files of its visible partitions."""

    name: str
    schema: pl.Schema
    files: tuple[str, ...]
    columns: tuple[tuple[str, ...], ...] = ()
    """Each file's columns, as its manifest lists them (empty when unknown)."""

    def groups(self) -> list[tuple[tuple[str, ...] | None, list[str]]]:
        """The files grouped by their column lists (``None``: unknown), in a stable order."""
        grouped: dict[tuple[str, ...] | None, list[str]] = {}
        for index, path in enumerate(self.files):
            key = self.columns[index] if index < len(self.columns) and self.columns[index] else None
            grouped.setdefault(key, []).append(path)
        return sorted(grouped.items(), key=lambda item: (item[0] is None, item[0] or ()))


class FleetEngine(Protocol):
    """What the fleet store needs from an engine."""

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection for the Ledger base class (the engine's own, or an idle in-memory one)."""
        ...

    def sibling(self) -> FleetEngine:
        """An engine sharing this one's resources with views of its own (for a scoped store)."""
        ...

    def define(self, tables: Mapping[str, TableFiles], revision: int) -> None:
        """(Re)define one view per table, ``ledger_meta`` and the revision column."""
        ...

    def fetch(self, sql: str, params: Sequence[object] | Mapping[str, object]) -> pl.DataFrame:
        """One DuckDB-dialect query, with ``?`` or ``$name`` parameters."""
        ...

    def close(self) -> None: ...


def select_list(table: TableFiles, revision: int, present: tuple[str, ...] | None = None) -> list[str]:
    """The view's columns in DuckDB SQL, the revision column replaced, and a column not in ``present`` (the
    columns of files written before it was added) as a typed null. Pods published by a version-4 ledger read
    with their controllers renamed as the ledger migration renames them (the renaming leaves later rows as they
    are, so it applies to every file)."""
    columns = []
    renamed: dict[str, str] = {}
    if table.name == "pods":
        renamed = version_4_controllers_sql("NULL" if present is not None and "cronjob" not in present else "cronjob")
    for name, dtype in table.schema.items():
        if name in renamed:
            columns.append(f"{renamed[name]} AS {quote_identifier(name)}")
        elif (table.name, name) == REVISION_COLUMN:
            columns.append(f"CAST({revision} AS BIGINT) AS {quote_identifier(name)}")
        elif present is not None and name not in present:
            columns.append(f"CAST(NULL AS {sql_type(dtype)}) AS {quote_identifier(name)}")
        else:
            columns.append(quote_identifier(name))
    return columns


def empty_view_sql(table: TableFiles, revision: int) -> str:
    """A view with the table's columns and no rows (a table nothing was published to)."""
    nulls = ", ".join(f"CAST(NULL AS {sql_type(t)}) AS {quote_identifier(c)}" for c, t in table.schema.items())
    return f"SELECT {nulls} WHERE 1 = 0"


def meta_view_sql(revision: int) -> str:
    return (
        f"SELECT * FROM (VALUES ('schema_version', '{SCHEMA_VERSION}'), ('generation', '{revision}')) "
        "AS meta(key, value)"
    )


def scan_sql(table: TableFiles, revision: int) -> str:
    """The view body: one ``read_parquet`` per set of files with the same columns, their rows concatenated.

    Files whose manifests list the same columns are read by one scan that binds its schema from the first file,
    so a query opens no footer twice and needs no ``union_by_name`` pass over every file; a column missing from
    older files reads as null. Files of unknown columns fall back to ``union_by_name``.
    """
    scans = []
    for present, files in table.groups():
        listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
        options = "hive_partitioning = false" + (", union_by_name = true" if present is None else "")
        columns = ", ".join(select_list(table, revision, present))
        scans.append(f"SELECT {columns} FROM read_parquet([{listed}], {options})")
    return " UNION ALL ".join(scans)


class DuckDBEngine:
    """DuckDB reading the Parquet files in process (row groups pruned by their hour statistics).

    Footers are cached across queries (``parquet_metadata_cache``): published data files are content-addressed
    and never rewritten in place, so a cached footer is never stale.
    """

    def __init__(self, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self._connection = connection if connection is not None else duckdb.connect(":memory:")
        self._connection.execute("SET GLOBAL TimeZone = 'UTC'").fetchall()
        self._connection.execute("SET GLOBAL parquet_metadata_cache = true").fetchall()

    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._connection

    def sibling(self) -> DuckDBEngine:
        return DuckDBEngine()

    def define(self, tables: Mapping[str, TableFiles], revision: int) -> None:
        statements = []
        for table in tables.values():
            body = scan_sql(table, revision) if table.files else empty_view_sql(table, revision)
            statements.append(f"CREATE OR REPLACE VIEW {table.name} AS {body}")
        statements.append(f"CREATE OR REPLACE VIEW ledger_meta AS {meta_view_sql(revision)}")
        try:
            for statement in statements:
                self._connection.execute(statement).fetchall()
        except duckdb.Error as exc:
            raise LedgerError(f"fleet views cannot be defined: {exc}") from exc

    def fetch(self, sql: str, params: Sequence[object] | Mapping[str, object]) -> pl.DataFrame:
        cursor = self._connection.cursor()
        try:
            relation = cursor.sql(sql, params=params if params else None)
            frame: pl.DataFrame = pl.DataFrame() if relation is None else relation.pl()
        except duckdb.Error as exc:
            raise LedgerError(f"fleet query failed: {exc}") from exc
        finally:
            cursor.close()
        maps = [name for name, dtype in frame.schema.items() if isinstance(dtype, pl.Map)]
        return frame.with_columns(pl.col(maps).cast(STRING_MAP)) if maps else frame

    def close(self) -> None:
        self._connection.close()

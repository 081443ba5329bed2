"""Opening a ledger file: DuckDB's errors translated into LedgerError, and the schema created or checked.

DuckDB raises the same ``IOException`` for a missing read-only file, a file that is not a database, a damaged
file and a file locked by another process. A missing file is recognised before connecting; the others are told
apart after DuckDB refused the file, from the file itself: the ``DUCK`` magic bytes every DuckDB file carries at
offset 8, and a non-blocking probe of the POSIX lock DuckDB holds on an open database file. Probing only after
DuckDB refused matters: closing any descriptor of a file drops the POSIX locks this process holds on it, and a
file this process already has open is never refused with an ``IOException`` (DuckDB shares the instance).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import duckdb
import polars as pl

from kubetally.errors import LedgerError
from kubetally.ledger.rollup import rebuild
from kubetally.ledger.schema import (
    ROLLUP,
    SCHEMA_VERSION,
    TABLES,
    TableSpec,
    create_table_sql,
    ddl,
    quote_identifier,
    sql_type,
    version_4_controllers_sql,
)

DUCKDB_MAGIC = b"DUCK"
"""Bytes 8-11 of every DuckDB database file."""
_MAGIC_OFFSET = 8


def check_path(path: Path, *, read_only: bool) -> None:
    """Refuse a path that cannot be a ledger, without opening it; a permission problem is named as such (DuckDB
    would report a later symptom: a failed rollback, a damaged file, a missing file)."""
    if path.is_dir():
        raise LedgerError(f"ledger {path} is a directory, not a DuckDB file")
    folder = path.parent
    if not path.exists():
        if read_only:
            raise LedgerError(f"ledger {path} not found: no such file (ingest into it first)")
        if not folder.is_dir():
            raise LedgerError(f"ledger {path} cannot be created: directory {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise LedgerError(f"ledger {path} cannot be created: Permission denied on directory {folder}")
        return
    if not os.access(path, os.R_OK):
        raise LedgerError(f"ledger {path} cannot be read: Permission denied")
    if read_only:
        return
    if not os.access(path, os.W_OK):
        raise LedgerError(
            f"ledger {path} is read-only (Permission denied for writing): open it read-only, or make it writable"
        )
    wal = path.with_name(path.name + ".wal")
    if not os.access(folder, os.W_OK | os.X_OK) and not os.access(wal, os.W_OK):
        raise LedgerError(
            f"ledger {path} cannot be written: Permission denied creating its write-ahead log {wal} "
            f"(directory {folder} is not writable)"
        )


def rollback_quietly(connection: duckdb.DuckDBPyConnection) -> None:
    """Roll back after a failed statement; a rollback that fails too (no transaction left, an unwritable file)
    must not hide the first cause, which the caller re-raises."""
    try:
        connection.rollback()
    except duckdb.Error:
        return


def locked_by_another_process(path: Path) -> bool:
    """Whether another process holds a lock on ``path`` (DuckDB locks every database file it opens)."""
    try:
        with path.open("rb+") as handle:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
    except OSError:
        return False
    return False


def refusal(path: Path, exc: duckdb.Error, *, read_only: bool) -> LedgerError:
    """The LedgerError saying why DuckDB refused to open ``path``."""
    try:
        with path.open("rb") as handle:
            header = handle.read(_MAGIC_OFFSET + len(DUCKDB_MAGIC))
    except OSError as error:
        return LedgerError(f"ledger {path} cannot be read: {error.strerror or error}")
    if header and header[_MAGIC_OFFSET:] != DUCKDB_MAGIC:
        return LedgerError(f"ledger {path} is not a DuckDB database file")
    if locked_by_another_process(path):
        others = "another process is writing to it" + ("" if read_only else " or reading it")
        return LedgerError(f"ledger {path} is in use: {others} (DuckDB allows one writing process per file)")
    return LedgerError(f"ledger {path} cannot be opened (damaged or unreadable): {exc}")


THREADS = 1
"""DuckDB threads of a ledger connection. With more than one, the partial sums of a parallel GROUP BY are combined
in whatever order the threads finish, so the same query over the same ledger answers with floating-point sums that
differ in their last digits from run to run; one thread answers the same bytes every time (ETags, a restored
backup, an upgraded ledger compare equal). On the demo ledger, queries take as long with one thread as with two
(docs/benchmarks.md, "Container image")."""


def connect(path: Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection to ``path`` with timestamps rendered in UTC and :data:`THREADS` threads."""
    check_path(path, read_only=read_only)
    try:
        connection = duckdb.connect(str(path.resolve()), read_only=read_only)
    except duckdb.IOException as exc:
        raise refusal(path, exc, read_only=read_only) from exc
    except duckdb.ConnectionException as exc:
        mode = "read-only" if read_only else "read-write"
        raise LedgerError(f"ledger {path} is already open in this process in another mode than {mode}: {exc}") from exc
    except duckdb.Error as exc:
        raise LedgerError(f"ledger {path} cannot be opened: {exc}") from exc
    try:
        connection.execute("SET GLOBAL TimeZone = 'UTC'").fetchall()
        connection.execute(f"SET GLOBAL threads = {THREADS}").fetchall()
    except duckdb.Error as exc:
        connection.close()
        raise LedgerError(f"ledger {path}: cannot set the UTC time zone and threads: {exc}") from exc
    return connection


def prepare_schema(connection: duckdb.DuckDBPyConnection, path: Path, *, read_only: bool) -> None:
    """Create the ledger tables in an empty file, migrate an older version in place (writable only), or check
    that the file holds this schema version."""
    existing = {row[0] for row in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if "ledger_meta" not in existing:
        if existing:
            raise LedgerError(
                f"ledger {path} is a DuckDB file but not a kubetally ledger (tables: {', '.join(sorted(existing))})"
            )
        if read_only:
            raise LedgerError(f"ledger {path} is empty: it holds no kubetally ledger yet (ingest into it first)")
        create_schema(connection)
        return
    version = stored_version(connection)
    if version in MIGRATIONS and not read_only:
        migrate(connection, version)
        existing = {row[0] for row in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        version = SCHEMA_VERSION
    elif version in MIGRATIONS:
        raise LedgerError(
            f"ledger {path} has schema version {version}; this kubetally reads schema version {SCHEMA_VERSION}: "
            "open it for writing once (any `kubetally ingest` into it) to migrate it in place"
        )
    if version != SCHEMA_VERSION:
        found = "no schema version" if version is None else f"schema version {version}"
        hint = "a newer kubetally wrote it" if version is not None and version > SCHEMA_VERSION else "re-ingest it"
        raise LedgerError(f"ledger {path} has {found}; this kubetally reads schema version {SCHEMA_VERSION} ({hint})")
    missing = sorted(set(TABLES) - existing)
    if missing:
        raise LedgerError(f"ledger {path} lacks the tables {', '.join(missing)}")


def stored_version(connection: duckdb.DuckDBPyConnection) -> int | None:
    """The schema version ``ledger_meta`` records (None: no table, no row, or not a number)."""
    if not connection.execute("SELECT 1 FROM duckdb_tables() WHERE table_name = 'ledger_meta'").fetchall():
        return None
    rows = connection.execute("SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchall()
    return int(rows[0][0]) if rows and str(rows[0][0]).isdigit() else None


def migrate_file(path: Path) -> int | None:
    """Migrate the ledger at ``path`` in place when it holds an older schema version (a reader that opens it
    read-only, such as ``kubetally serve`` without a Prometheus, calls this first). Returns the version it held,
    or None when there was nothing to migrate (no file, the current version, or a version no migration knows,
    which opening it then names)."""
    if not path.is_file():
        return None
    connection = connect(path, read_only=True)
    try:
        version = stored_version(connection)
    except duckdb.Error as exc:
        raise LedgerError(f"ledger {path} cannot be read: {exc}") from exc
    finally:
        connection.close()
    if version not in MIGRATIONS:
        return None
    connection = connect(path, read_only=False)
    try:
        prepare_schema(connection, path, read_only=False)
    except duckdb.Error as exc:
        raise LedgerError(f"ledger {path} cannot be migrated from schema version {version}: {exc}") from exc
    finally:
        connection.close()
    return version


def create_schema(connection: duckdb.DuckDBPyConnection) -> None:
    """Every ledger table and the meta rows, in one transaction."""
    connection.begin()
    try:
        for statement in ddl():
            connection.execute(statement).fetchall()
        connection.execute(
            "INSERT INTO ledger_meta VALUES ('schema_version', ?), ('generation', '0')", [str(SCHEMA_VERSION)]
        ).fetchall()
        connection.commit()
    except duckdb.Error:
        rollback_quietly(connection)
        raise


def _build_rollup(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 1 → 2: fill ``allocations_daily`` (created empty by :func:`add_missing`) from every hourly row."""
    rebuild(connection)


def _no_data_change(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 2 → 3: only new columns (bill adjustments, cloud bill columns) and tables, added by
    :func:`add_missing`; every bill adjustment starts at 0."""


def add_bill_acceptances(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 3 → 4: the ``bill_acceptances`` table (held reconciliations a person accepted), empty."""
    connection.execute(create_table_sql(TABLES["bill_acceptances"])).fetchall()


def rename_controllers(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 4 → 5: controller kinds in lower case; a Job's name without its CronJob timestamp; a CronJob's
    pods become its Job's (kind ``job``, the CronJob's name, which is the Job's name without the timestamp), the
    CronJob kept in ``cronjob`` (added empty by :func:`add_missing`)."""
    assignments = ", ".join(f"{column} = {sql}" for column, sql in version_4_controllers_sql("cronjob").items())
    connection.execute(f"UPDATE pods SET {assignments} WHERE controller_kind IS NOT NULL").fetchall()


def add_running_bounds(connection: duckdb.DuckDBPyConnection) -> None:
    """Version 5 → 6: ``running_start``/``running_end`` (added null by :func:`add_missing`). Hourly rows keep
    them null, which readers take as the bucket's bounds; rollup rows get their day's bounds the same way, from
    ``first_hour`` and ``last_hour``, so that the rollup stays equal to a fresh aggregation of the hourly rows."""
    connection.execute(
        f"UPDATE {ROLLUP} SET running_start = coalesce(running_start, first_hour), "
        "running_end = coalesce(running_end, last_hour + INTERVAL 1 HOUR)"
    ).fetchall()


MIGRATIONS = {
    1: _build_rollup,
    2: _no_data_change,
    3: add_bill_acceptances,
    4: rename_controllers,
    5: add_running_bounds,
}
"""Schema version → the data step bringing a ledger of that version to the next one (after :func:`add_missing`
has created every missing table and column)."""


def default_sql(spec: TableSpec, column: str, dtype: pl.DataType) -> str:
    """The value a column added to an existing table takes in its rows: 0 for the numbers of the fact tables and
    the daily rollup (their sums must stay numbers) and for any ``*adjustment`` column, null otherwise."""
    numeric = dtype == pl.Float64() or dtype == pl.Int64()
    if numeric and (spec.fact or spec.name == ROLLUP or column.endswith("adjustment")):
        return "0"
    return "NULL"


def add_missing(connection: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every table of :data:`TABLES` the file lacks and add every column its tables lack (inside the
    caller's transaction). Returns what was added, as ``table`` or ``table.column``."""
    columns: dict[str, set[str]] = {}
    for table, column in connection.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main' AND NOT internal"
    ).fetchall():
        columns.setdefault(str(table), set()).add(str(column))
    added: list[str] = []
    for spec in TABLES.values():
        present = columns.get(spec.name)
        if present is None:
            connection.execute(create_table_sql(spec)).fetchall()
            added.append(spec.name)
            continue
        for column, dtype in spec.schema.items():
            if column in present:
                continue
            connection.execute(
                f"ALTER TABLE {spec.name} ADD COLUMN {quote_identifier(column)} {sql_type(dtype)} "
                f"DEFAULT {default_sql(spec, column, dtype)}"
            ).fetchall()
            added.append(f"{spec.name}.{column}")
    return added


def migrate(connection: duckdb.DuckDBPyConnection, version: int) -> None:
    """Bring a ledger of an older ``version`` to :data:`SCHEMA_VERSION` in place, in one transaction."""
    connection.begin()
    try:
        add_missing(connection)
        for step in range(version, SCHEMA_VERSION):
            MIGRATIONS[step](connection)
        connection.execute(
            "UPDATE ledger_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
        ).fetchall()
        connection.commit()
    except duckdb.Error:
        rollback_quietly(connection)
        raise

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from kubetally.costs import COST_SCHEMAS
from kubetally.errors import LedgerError
from kubetally.ledger import Ledger
from kubetally.ledger.schema import SCHEMA_VERSION, TABLES

REPO = Path(__file__).resolve().parents[2]


def test_first_open_creates_every_table_with_the_schema_types(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        for table, schema in COST_SCHEMAS.items():
            assert ledger.fetch(f"SELECT * FROM {table}").schema == schema, table
        names = set(ledger.fetch("SELECT table_name FROM duckdb_tables()").get_column("table_name"))
        assert names == set(TABLES)
        assert ledger.generation == 0
        assert ledger.clusters() == ()
        assert ledger.bounds() is None
    assert ledger_path.is_file()


def test_schema_version_is_recorded_and_reopening_keeps_it(ledger_path: Path) -> None:
    Ledger.open(ledger_path).close()
    with Ledger.open(ledger_path, read_only=True) as ledger:
        version = ledger.fetch("SELECT value FROM ledger_meta WHERE key = 'schema_version'").item()
    assert version == str(SCHEMA_VERSION)


def test_a_newer_schema_version_is_refused(ledger_path: Path) -> None:
    Ledger.open(ledger_path).close()
    connection = duckdb.connect(str(ledger_path))
    connection.execute("UPDATE ledger_meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION + 1)])
    connection.close()
    with pytest.raises(LedgerError, match=f"schema version {SCHEMA_VERSION + 1}.*newer kubetally"):
        Ledger.open(ledger_path)
    with pytest.raises(LedgerError, match=str(ledger_path)):
        Ledger.open(ledger_path, read_only=True)


def test_a_duckdb_file_that_is_not_a_ledger_is_refused(ledger_path: Path) -> None:
    connection = duckdb.connect(str(ledger_path))
    connection.execute("CREATE TABLE something (x INTEGER)")
    connection.close()
    with pytest.raises(LedgerError, match=r"not a kubetally ledger.*something"):
        Ledger.open(ledger_path)


def test_a_file_that_is_not_duckdb_is_refused_naming_it(ledger_path: Path) -> None:
    ledger_path.write_bytes(b"time,cost\n" * 500)
    with pytest.raises(LedgerError, match=f"{ledger_path} is not a DuckDB database file"):
        Ledger.open(ledger_path)
    with pytest.raises(LedgerError, match=f"{ledger_path} is not a DuckDB database file"):
        Ledger.open(ledger_path, read_only=True)


def test_a_truncated_duckdb_file_is_refused_as_damaged(ledger_path: Path) -> None:
    Ledger.open(ledger_path).close()
    ledger_path.write_bytes(ledger_path.read_bytes()[:5000])
    with pytest.raises(LedgerError, match=f"{ledger_path} cannot be opened \\(damaged"):
        Ledger.open(ledger_path)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match="is a directory"):
        Ledger.open(tmp_path)


def test_read_only_open_of_a_missing_file_is_not_found(ledger_path: Path) -> None:
    with pytest.raises(LedgerError, match=f"{ledger_path} not found"):
        Ledger.open(ledger_path, read_only=True)
    assert not ledger_path.exists()


def test_opening_in_a_missing_directory_names_it(tmp_path: Path) -> None:
    with pytest.raises(LedgerError, match=r"directory .*nowhere does not exist"):
        Ledger.open(tmp_path / "nowhere" / "ledger.duckdb")


def test_closed_ledger_refuses_queries(ledger_path: Path) -> None:
    ledger = Ledger.open(ledger_path)
    ledger.close()
    ledger.close()
    with pytest.raises(LedgerError, match="is closed"):
        ledger.fetch("SELECT 1")


def test_bad_sql_is_a_ledger_error(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger, pytest.raises(LedgerError, match="no_such_table"):
        ledger.fetch("SELECT * FROM no_such_table")


def test_fetch_binds_positional_and_named_parameters(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        assert ledger.fetch("SELECT ? + ? AS total", [2, 3]).item() == 5
        assert ledger.fetch("SELECT $a || $b AS text", {"a": "x", "b": "y"}).item() == "xy"


def _start_holder(path: Path, marker: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.writer_process", str(path), str(marker), "hold"], cwd=REPO
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"writer process exited early with {process.returncode}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("writer process did not open the ledger within 60 s")
        time.sleep(0.05)
    return process


def test_a_second_writer_process_gets_a_clear_lock_error(ledger_path: Path, tmp_path: Path) -> None:
    Ledger.open(ledger_path).close()
    holder = _start_holder(ledger_path, tmp_path / "holding")
    try:
        with pytest.raises(LedgerError, match=f"{ledger_path} is in use: another process is writing"):
            Ledger.open(ledger_path)
        with pytest.raises(LedgerError, match="another process is writing"):
            Ledger.open(ledger_path, read_only=True)
    finally:
        holder.kill()
        holder.wait()
    with Ledger.open(ledger_path) as ledger:
        assert ledger.generation == 0

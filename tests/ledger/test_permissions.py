"""Write errors name their first cause: permission denied on the file, its folder or its write-ahead log.

The tests run as root, who may write anything, so the CLI runs as the unprivileged ``nobody`` through util-linux's
``setpriv``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubetally.ledger import Ledger
from tests.runner import as_nobody, nobody_folder

BILL = Path(__file__).parent.parent / "data" / "focus" / "focus-1.2-aws-sample.csv"


@pytest.fixture
def folder() -> Iterator[Path]:
    with nobody_folder("kubetally-permissions-") as path:
        yield path


def ingest(db: Path) -> subprocess.CompletedProcess[str]:
    return as_nobody("focus", "ingest", "--no-reconcile", "--db", str(db), str(BILL))


def _message(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    return " ".join(done.stderr.split())


def test_a_ledger_in_a_read_only_folder_names_its_write_ahead_log(folder: Path) -> None:
    locked = folder / "locked"
    locked.mkdir()
    db = locked / "ledger.duckdb"
    Ledger.open(db).close()
    db.chmod(0o666)
    locked.chmod(0o555)
    message = _message(ingest(db))
    assert "Permission denied" in message and "write-ahead log" in message, message
    assert "rollback" not in message


def test_a_0444_ledger_is_read_only_not_damaged(folder: Path) -> None:
    db = folder / "ledger.duckdb"
    Ledger.open(db).close()
    db.chmod(0o444)
    message = _message(ingest(db))
    assert "read-only" in message and "Permission denied" in message, message
    assert "damaged" not in message
    readable = as_nobody("cloud-costs", "--db", str(db), "--window", "7d")
    assert readable.returncode == 0, readable.stderr


def test_a_new_ledger_in_a_read_only_folder_is_permission_denied(folder: Path) -> None:
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    message = _message(ingest(locked / "new.duckdb"))
    assert "Permission denied" in message, message
    assert "No such file" not in message

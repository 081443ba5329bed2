"""Write errors of a real ``kubetally serve`` that follows a Prometheus (the ledger's one writer) name their first
cause: permission denied on the ledger's folder, its write-ahead log or the file itself, never a rollback error,
"damaged" or "No such file". The server runs as the unprivileged ``nobody`` (the tests run as root, who may write
anything)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kubetally.ledger import Ledger
from tests.runner import as_nobody, free_port, nobody_folder


@pytest.fixture
def folder() -> Iterator[Path]:
    with nobody_folder("kubetally-serve-permissions-") as path:
        yield path


def _in_read_only_folder(folder: Path) -> Path:
    (folder / "locked").mkdir()
    db = folder / "locked" / "ledger.duckdb"
    Ledger.open(db).close()
    db.chmod(0o666)
    db.parent.chmod(0o555)
    return db


def _new_in_read_only_folder(folder: Path) -> Path:
    (folder / "locked").mkdir()
    (folder / "locked").chmod(0o555)
    return folder / "locked" / "new.duckdb"


def _read_only_file(folder: Path) -> Path:
    db = folder / "ledger.duckdb"
    Ledger.open(db).close()
    db.chmod(0o444)
    return db


CASES: dict[str, tuple[Callable[[Path], Path], tuple[str, ...], tuple[str, ...]]] = {
    "read-only folder": (_in_read_only_folder, ("Permission denied", "write-ahead log"), ("rollback",)),
    "new ledger in a read-only folder": (_new_in_read_only_folder, ("Permission denied",), ("No such file",)),
    "0444 ledger": (_read_only_file, ("read-only", "Permission denied"), ("damaged",)),
}


@pytest.mark.parametrize("case", CASES)
def test_serve_names_the_first_cause_of_a_write_error(folder: Path, case: str) -> None:
    make, expected, unexpected = CASES[case]
    db = make(folder)
    done = as_nobody(
        "serve", "--db", str(db), "--prometheus-url", "http://127.0.0.1:1", "--port", str(free_port()), timeout=60
    )
    assert done.returncode != 0, done.stdout
    message = " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr, done.stderr
    for text in expected:
        assert text in message, (text, message)
    for text in unexpected:
        assert text not in message, (text, message)

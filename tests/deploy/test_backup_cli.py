"""``kubetally ledger backup`` / ``restore`` and ``GET /ledger/backup`` on the host: the round trip answers byte
for byte, and every misuse is one clear error line."""

from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator, Identity, PasswordHash, hash_password
from kubetally.errors import LedgerError
from kubetally.ledger.backup import unpack
from kubetally.query.scope import Scope
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history
from tests.runner import kubetally, succeed
from tests.serve.conftest import write_hours

START = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = "2026-01-01T00:00:00Z,2026-01-01T03:00:00Z"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    history = to_history(simulate(load_scenario("small"), start=START, hours=4, now=START + timedelta(days=30)))
    prices = scenario_pricebook(load_scenario("small"))
    return write_hours(tmp_path_factory.mktemp("backup") / "small.duckdb", history, prices, 3)


def _answers(db: Path) -> list[bytes]:
    with TestClient(create_app(db)) as client:
        return [
            client.get("/allocation", params={"window": WINDOW, "aggregate": aggregate}).content
            for aggregate in ("namespace", "pod", "controller")
        ] + [client.get("/assets", params={"window": WINDOW}).content]


def test_backup_and_restore_answer_byte_for_byte(
    ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    succeed(capsys, monkeypatch, "ledger", "backup", "--db", str(ledger), "--to", str(tmp_path / "backups"))
    (backup,) = (tmp_path / "backups").glob("kubetally-*")
    assert (backup / "kubetally-backup.json").is_file() and list(backup.glob("*.parquet"))
    restored = tmp_path / "restored.duckdb"
    run = succeed(capsys, monkeypatch, "ledger", "restore", "--from", str(tmp_path / "backups"), "--db", str(restored))
    assert "2026-01-01T00:00Z to 2026-01-01T03:00Z" in run.out
    assert _answers(restored) == _answers(ledger)


def test_keep_deletes_the_oldest_backups(ledger: Path, tmp_path: Path) -> None:
    from kubetally.ledger.backup import MANIFEST, prune

    for stamp in ("20260101T000000Z", "20260102T000000Z", "20260103T000000Z"):
        (tmp_path / f"kubetally-{stamp}").mkdir()
        (tmp_path / f"kubetally-{stamp}" / MANIFEST).write_text("{}")
    assert [path.name for path in prune(tmp_path, 2)] == ["kubetally-20260101T000000Z"]
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "kubetally-20260102T000000Z",
        "kubetally-20260103T000000Z",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("backup", "--to", "{tmp}/b"), "give the ledger (--db) or a running server (--url)"),
        (("backup", "--db", "{tmp}/missing.duckdb", "--to", "{tmp}/b"), "not found"),
        (("restore", "--from", "{tmp}/nothing", "--db", "{tmp}/new.duckdb"), "not found: no such directory"),
        (("restore", "--from", "{tmp}", "--db", "{tmp}/new.duckdb"), "holds no kubetally backup"),
        (("backup", "--url", "http://127.0.0.1:1", "--to", "{tmp}/b"), "cannot reach"),
    ],
)
def test_misuse_is_one_clear_error(
    args: tuple[str, ...],
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KUBETALLY_DB", raising=False)
    run = kubetally(capsys, monkeypatch, "ledger", *(arg.format(tmp=tmp_path) for arg in args))
    assert run.code == 2 and message in run.err and "Traceback" not in run.err


def test_restore_never_overwrites(
    ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    succeed(capsys, monkeypatch, "ledger", "backup", "--db", str(ledger), "--to", str(tmp_path / "b"))
    existing = tmp_path / "existing.duckdb"
    existing.write_bytes(b"keep me")
    run = kubetally(capsys, monkeypatch, "ledger", "restore", "--from", str(tmp_path / "b"), "--db", str(existing))
    assert run.code == 2 and "already exists" in run.err
    assert existing.read_bytes() == b"keep me"


def test_the_backup_route_is_a_tar_for_unscoped_identities_only(ledger: Path) -> None:
    users = [
        (Identity("admin"), PasswordHash.parse(hash_password("a", n=2**10), "admin")),
        (Identity("team", Scope(None, frozenset({"shop"}))), PasswordHash.parse(hash_password("t", n=2**10), "team")),
    ]
    with TestClient(create_app(ledger, auth=Authenticator(users))) as client:
        assert client.get("/ledger/backup").status_code == 401
        assert client.get("/ledger/backup", auth=("team", "t")).status_code == 403
        response = client.get("/ledger/backup", auth=("admin", "a"))
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        names = tar.getnames()
    assert "kubetally-backup.json" in names and "schema.sql" in names and "load.sql" in names


@pytest.mark.parametrize("member", [tarfile.TarInfo("../escape"), tarfile.TarInfo("sub/file"), tarfile.TarInfo("link")])
def test_an_archive_with_anything_but_plain_files_is_refused(member: tarfile.TarInfo, tmp_path: Path) -> None:
    if member.name == "link":
        member.type, member.linkname = tarfile.SYMTYPE, "/etc/passwd"
    archive = tmp_path / "hostile.tar"
    with tarfile.open(archive, "w") as tar:
        tar.addfile(member, io.BytesIO(b"") if member.isfile() else None)
    with pytest.raises(LedgerError, match="not a plain file"):
        unpack(archive, tmp_path / "out")
    assert not (tmp_path / "escape").exists() and not (tmp_path / "out" / "link").exists()

"""Acceptance, in the image: a ledger written by the previous release answers unchanged, and a backup of the
running server restored into an empty volume answers byte for byte as the server does.

Both run the image's ``kubetally`` with ``podman exec`` in the container the other tests serve from (same image,
user, environment, read-only root) instead of new containers: with vfs storage each new container copies the
whole image, which cost 30-60 s apiece on the test machine."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import httpx

from kubetally.ledger.schema import SCHEMA_VERSION
from tests.deploy.conftest import ADMIN, UID, WORK, Served, volume
from tests.deploy.podman import exec_serving, podman, wait_http
from tests.deploy.previous import answers, previous_release, run_previous, same_answers, serving_previous
from tests.prometheus.conftest import free_port


def _own(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        shutil.chown(path, UID, UID)


def _window(db: Path) -> str:
    """The hours the ledger holds, read with DuckDB alone (this release would refuse the older ledger read-only)."""
    with duckdb.connect(str(db), read_only=True) as connection:
        row = connection.execute("SELECT min(hour), max(hour) + INTERVAL 1 HOUR FROM allocations").fetchone()
    assert row is not None and row[0] is not None
    return f"{row[0]:%Y-%m-%dT%H:%M:%SZ},{row[1]:%Y-%m-%dT%H:%M:%SZ}"


def _schema_version(db: Path) -> int:
    with duckdb.connect(str(db), read_only=True) as connection:
        row = connection.execute("SELECT value FROM ledger_meta WHERE key = 'schema_version'").fetchone()
    assert row is not None
    return int(row[0])


def test_a_ledger_of_the_previous_release_answers_unchanged_in_the_image(served: Served, tmp_path: Path) -> None:
    src = previous_release(tmp_path)
    data = volume(served.work / "previous")
    db = data / "kubetally.duckdb"
    done = run_previous(src, "demo", "--no-serve", "--no-bill", "--db", str(db))
    assert done.returncode == 0, done.stderr
    window = _window(db)
    assert _schema_version(db) == 3
    with serving_previous(src, db, free_port(), tmp_path / "previous.log") as url:
        old = answers(url, window)
    _own(data)
    with exec_serving(served.name, free_port(), "--db", f"{WORK}/previous/kubetally.duckdb") as url:
        same_answers(old, answers(url, window))
    assert _schema_version(db) == SCHEMA_VERSION == 6


def _bytes(url: str, window: str, auth: tuple[str, str] | None) -> list[bytes]:
    found = []
    for path, params in (("/allocation", {"aggregate": "namespace"}), ("/allocation", {"aggregate": "pod"})):
        response = httpx.get(f"{url}{path}", params={"window": window, **params}, auth=auth, timeout=60)
        assert response.status_code == 200, response.text
        found.append(response.content)
    assets = httpx.get(f"{url}/assets", params={"window": window}, auth=auth, timeout=60)
    assert assets.status_code == 200, assets.text
    return [*found, assets.content]


def test_backup_of_the_server_restored_into_an_empty_volume_answers_byte_for_byte(served: Served) -> None:
    wait_http(f"{served.url}/readyz", served.name, seconds=180)
    backups, restored = volume(served.work / "backups"), volume(served.work / "restored")
    backup = podman(
        "exec", "--env", f"KUBETALLY_BACKUP_PASSWORD={ADMIN[1]}", served.name,
        "kubetally", "ledger", "backup", "--url", served.url, "--user", ADMIN[0], "--to", f"{WORK}/backups",
        "--keep", "14", check=False,
    )  # fmt: skip
    assert backup.returncode == 0, backup.stderr
    assert len(list(backups.glob("kubetally-*"))) == 1
    db = f"{WORK}/restored/kubetally.duckdb"
    restore = podman(
        "exec", served.name, "kubetally", "ledger", "restore", "--from", f"{WORK}/backups", "--db", db, check=False
    )
    assert restore.returncode == 0, restore.stderr
    assert (restored / "kubetally.duckdb").exists()
    window = f"{served.start:%Y-%m-%dT%H:%M:%SZ},{served.end:%Y-%m-%dT%H:%M:%SZ}"
    with exec_serving(served.name, free_port(), "--db", db) as url:
        assert _bytes(url, window, None) == _bytes(served.url, window, ADMIN)

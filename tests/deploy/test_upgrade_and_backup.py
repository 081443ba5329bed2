"""Acceptance, in the image: a ledger written by the previous release answers unchanged, and a backup of the
running server restored into an empty volume answers byte for byte as the server does."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import httpx

from kubetally.ledger.schema import SCHEMA_VERSION
from tests.deploy.conftest import ADMIN, UID, Served, volume
from tests.deploy.podman import LIMITS, container, podman, wait_http
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


def test_a_ledger_of_the_previous_release_answers_unchanged_in_the_image(image: str, tmp_path: Path) -> None:
    src = previous_release(tmp_path)
    data = volume(tmp_path / "volume")
    db = data / "kubetally.duckdb"
    done = run_previous(src, "demo", "--no-serve", "--no-bill", "--db", str(db))
    assert done.returncode == 0, done.stderr
    window = _window(db)
    assert _schema_version(db) == 3
    with serving_previous(src, db, free_port(), tmp_path / "previous.log") as url:
        old = answers(url, window)
    _own(data)
    port = free_port()
    args = ["--volume", f"{data}:/var/lib/kubetally", image, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with container(args, image=image, name=f"kubetally-previous-{port}") as name:
        wait_http(f"http://127.0.0.1:{port}/readyz", name)
        same_answers(old, answers(f"http://127.0.0.1:{port}", window))
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


def test_backup_of_the_server_restored_into_an_empty_volume_answers_byte_for_byte(
    image: str, served: Served, tmp_path: Path
) -> None:
    wait_http(f"{served.url}/readyz", served.name, seconds=180)
    backups, restored = volume(tmp_path / "backups"), volume(tmp_path / "restored")
    run = ("run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp", *LIMITS)
    backup = podman(
        *run, "--volume", f"{backups}:/backups", "--env", f"KUBETALLY_BACKUP_PASSWORD={ADMIN[1]}", image,
        "ledger", "backup", "--url", served.url, "--user", ADMIN[0], "--to", "/backups", "--keep", "14",
        check=False,
    )  # fmt: skip
    assert backup.returncode == 0, backup.stderr
    assert len(list(backups.glob("kubetally-*"))) == 1
    restore = podman(
        *run, "--volume", f"{backups}:/backups:ro", "--volume", f"{restored}:/var/lib/kubetally", image,
        "ledger", "restore", "--from", "/backups", "--db", "/var/lib/kubetally/kubetally.duckdb",
        check=False,
    )  # fmt: skip
    assert restore.returncode == 0, restore.stderr
    window = f"{served.start:%Y-%m-%dT%H:%M:%SZ},{served.end:%Y-%m-%dT%H:%M:%SZ}"
    port = free_port()
    args = ["--volume", f"{restored}:/var/lib/kubetally", image, "serve", "--host", "127.0.0.1", "--port", str(port)]
    with container(args, image=image, name=f"kubetally-restored-{port}") as name:
        wait_http(f"http://127.0.0.1:{port}/readyz", name)
        assert _bytes(f"http://127.0.0.1:{port}", window, None) == _bytes(served.url, window, ADMIN)

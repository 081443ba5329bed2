"""The image (built once per session with ``make image``), a real Prometheus backfilled with the simulator's
``small`` scenario over the last three closed hours and scraping the container, and the container serving it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from kubetally.api.auth import hash_password
from kubetally.sources.simulator import load_scenario, simulate, write_openmetrics
from tests.deploy.podman import IMAGE, build_image, container, wait_http
from tests.prometheus.conftest import backfill, free_port
from tests.serve.test_prometheus_scrapes_serve import wait_until

PROMETHEUS = Path("/usr/bin/prometheus")
ADMIN = ("admin", "admin-password-for-tests")
TEAM = ("shop-team", "shop-team-password")
UID = 10001
"""The image's user (Containerfile ``USER``)."""
WORK = "/work"


@dataclass(frozen=True)
class Served:
    """The container serving the simulated cluster, and what it was started with."""

    url: str
    name: str
    prometheus: str
    start: datetime
    end: datetime
    work: Path
    """A folder the image's user may write, mounted at :data:`WORK` in the container: where the tests that
    ``podman exec`` into it keep their ledgers and backups."""


@pytest.fixture(scope="session")
def image() -> str:
    return build_image()


def users_file(folder: Path) -> Path:
    """A Secret-style users file: an unscoped admin and a user scoped to the ``shop`` namespace."""
    users = [
        {"name": ADMIN[0], "password_hash": hash_password(ADMIN[1], n=2**12)},
        {"name": TEAM[0], "password_hash": hash_password(TEAM[1], n=2**12), "namespaces": ["shop"]},
    ]
    path = folder / "users.yaml"
    path.write_text(yaml.safe_dump({"users": users}), encoding="utf-8")
    path.chmod(0o644)
    return path


def volume(folder: Path) -> Path:
    """An empty directory the image's user may write (what a PersistentVolumeClaim gives with fsGroup)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chown(folder, UID, UID)
    return folder


def _backfill(folder: Path, start: datetime, end: datetime) -> Path:
    hours = int((end - start) / timedelta(hours=1))
    simulation = simulate(load_scenario("small"), seed=7, start=start, hours=hours, now=end)
    exposition = folder / "small.om"
    write_openmetrics(simulation, exposition, scrape_interval_seconds=60)
    data = folder / "data"
    backfill(exposition, data)
    return data


@pytest.fixture(scope="session")
def served(image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("deploy")
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=3)
    data = _backfill(folder, start, end)
    port, prometheus_port = free_port(), free_port()
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 2s\nscrape_configs:\n  - job_name: kubetally\n"
        f"    basic_auth: {{username: {ADMIN[0]}, password: {ADMIN[1]}}}\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n",
        encoding="utf-8",
    )
    prometheus = f"http://127.0.0.1:{prometheus_port}"
    log = (folder / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            str(PROMETHEUS),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{prometheus_port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    users = users_file(folder)
    ledger, work = volume(folder / "ledger"), volume(folder / "work")
    args = [
        "--volume", f"{ledger}:/var/lib/kubetally",
        "--volume", f"{work}:{WORK}",
        "--volume", f"{users}:/etc/kubetally/secret/users.yaml:ro",
        image,
        "serve", "--host", "0.0.0.0", "--port", str(port), "--config", "/etc/kubetally/secret/users.yaml",
        "--prometheus-url", prometheus, "--backfill", "4h", "--interval", "5s",
    ]  # fmt: skip
    try:
        wait_until("prometheus", lambda: process.poll() is None and _ready(prometheus), seconds=60)
        with container(args, image=image, name=f"kubetally-test-{port}") as name:
            yield Served(f"http://127.0.0.1:{port}", name, prometheus, start, end, work)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


__all__ = ["ADMIN", "IMAGE", "TEAM", "UID", "WORK", "Served", "users_file", "volume", "wait_http"]

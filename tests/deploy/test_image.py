"""Acceptance: the image, run with podman against a real Prometheus, serves what the host computes, as a
non-root user on a read-only root, is scraped by that Prometheus, and refuses to serve openly without users."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from tests.deploy.conftest import ADMIN, TEAM, UID, Served, volume
from tests.deploy.podman import LIMITS, podman, wait_http
from tests.serve.test_prometheus_scrapes_serve import query, wait_until

KUBETALLY = Path(sys.executable).parent / "kubetally"


def _window(start: datetime, end: datetime) -> str:
    return f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"


def _host_answer(served: Served, db: Path, params: dict[str, str]) -> Any:
    """``kubetally ingest --prometheus-url`` on the host for the same hours, then the same query in process."""
    done = subprocess.run(
        [
            str(KUBETALLY), "ingest", "--db", str(db), "--prometheus-url", served.prometheus,
            "--start", f"{served.start:%Y-%m-%dT%H:%M:%SZ}", "--end", f"{served.end:%Y-%m-%dT%H:%M:%SZ}",
        ],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with TestClient(create_app(db)) as client:
        response = client.get("/allocation", params=params)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_ready_after_backfill_and_answers_as_the_host_computes(served: Served, tmp_path: Path) -> None:
    wait_http(f"{served.url}/readyz", served.name, seconds=180)
    params = {"window": _window(served.start, served.end), "aggregate": "namespace"}
    response = httpx.get(f"{served.url}/allocation", params=params, auth=ADMIN, timeout=30)
    assert response.status_code == 200, response.text
    in_image = response.json()["data"]
    assert {"shop", "data"} <= set(in_image[0]), in_image
    assert in_image == _host_answer(served, tmp_path / "host.duckdb", params)


def test_metrics_are_scraped_by_prometheus(served: Served) -> None:
    wait_http(f"{served.url}/readyz", served.name, seconds=180)
    wait_until("a scrape of the container", lambda: query(served.prometheus, 'up{job="kubetally"} == 1'), 60)
    nodes = wait_until(
        "node_total_hourly_cost from the container",
        lambda: query(served.prometheus, 'node_total_hourly_cost{job="kubetally"}'),
        60,
    )
    assert {row["metric"]["node"] for row in nodes} == {"node-a", "node-b"}


def test_runs_as_non_root_on_a_read_only_root(served: Served) -> None:
    pid = podman("inspect", "--format", "{{.State.Pid}}", served.name).stdout.strip()
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    uids = next(line for line in status if line.startswith("Uid:")).split()[1:]
    assert {int(uid) for uid in uids} == {UID}
    assert podman("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", served.name).stdout.strip() == "true"
    write = podman("exec", served.name, "python3", "-c", "open('/opt/kubetally/probe', 'w')", check=False)
    assert write.returncode != 0 and "Read-only file system" in write.stderr
    assert podman("exec", served.name, "sh", "-c", "command -v pip pip3 gcc cc", check=False).stdout.strip() == ""


def test_basic_auth_and_a_namespace_scoped_user(served: Served) -> None:
    wait_http(f"{served.url}/readyz", served.name, seconds=180)
    params = {"window": _window(served.start, served.end), "aggregate": "namespace"}
    assert httpx.get(f"{served.url}/allocation", params=params, timeout=30).status_code == 401
    assert httpx.get(f"{served.url}/allocation", params=params, auth=(TEAM[0], "wrong"), timeout=30).status_code == 401
    scoped = httpx.get(f"{served.url}/allocation", params=params, auth=TEAM, timeout=30)
    assert scoped.status_code == 200, scoped.text
    seen = {name for step in scoped.json()["data"] for name in step if not name.startswith("__")}
    assert seen == {"shop"}
    assert httpx.get(f"{served.url}/metrics", auth=TEAM, timeout=30).status_code == 403


def test_refuses_a_non_loopback_bind_without_users(image: str, tmp_path: Path) -> None:
    ledger = volume(tmp_path / "ledger")
    done = podman(
        "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp", *LIMITS,
        "--volume", f"{ledger}:/var/lib/kubetally", image,
        "serve", "--host", "0.0.0.0", "--port", "1", "--prometheus-url", "http://127.0.0.1:1",
        check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no users or tokens are configured" in done.stderr
    assert "Traceback" not in done.stderr

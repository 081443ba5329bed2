"""Acceptance: a real Prometheus scrapes ``kubetally serve``'s ``/metrics`` and PromQL returns the ledger's values."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from kubetally.api.app import create_app
from kubetally.domain.pricing import PriceBook
from tests.serve.conftest import WEB_POD

PROMETHEUS = "/usr/bin/prometheus"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(what: str, check: Any, seconds: float = 30.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def served(small_ledger: Path, prices: PriceBook) -> Iterator[int]:
    """The port of a uvicorn serving the small ledger."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(small_ledger, prices=prices), port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until("uvicorn", lambda: server.started)
    yield port
    server.should_exit = True
    thread.join()


@pytest.fixture(scope="module")
def prometheus(served: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real Prometheus scraping ``served`` every second."""
    assert shutil.which(PROMETHEUS) or Path(PROMETHEUS).exists(), f"{PROMETHEUS} is missing: apt-get install prometheus"
    folder = tmp_path_factory.mktemp("prometheus")
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: kubetally\n    honor_labels: true\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{served}']\n",
        encoding="utf-8",
    )
    port = free_port()
    process = subprocess.Popen(
        [
            PROMETHEUS,
            f"--config.file={config}",
            f"--storage.tsdb.path={folder / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(folder / "prometheus.log").open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until("prometheus to be ready", lambda: _ready(base, process), seconds=60)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _ready(base: str, process: subprocess.Popen[bytes]) -> bool:
    """True once Prometheus answers ``/-/ready`` with 200 (it answers 503 while its storage starts)."""
    assert process.poll() is None, f"prometheus exited with code {process.returncode}"
    try:
        return httpx.get(f"{base}/-/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def query(base: str, promql: str) -> list[dict[str, Any]]:
    try:
        response = httpx.get(f"{base}/api/v1/query", params={"query": promql}, timeout=5)
    except httpx.TransportError:
        return []
    body = response.json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def test_promql_over_the_scraped_metrics(prometheus: str) -> None:
    wait_until("a scrape of kubetally", lambda: query(prometheus, 'up{job="kubetally"} == 1'))
    nodes = wait_until("node_total_hourly_cost", lambda: query(prometheus, 'node_total_hourly_cost{node="node-a"}'))
    assert len(nodes) == 1
    assert float(nodes[0]["value"][1]) == pytest.approx(0.24)
    assert nodes[0]["metric"]["instance"] == "node-a" and nodes[0]["metric"]["cluster_id"] == "small"
    # web's two containers at 02:00: app max(0.5 request, 0.25 usage) + proxy 0.05 usage = 0.55 cores
    cpu = query(prometheus, f'sum(container_cpu_allocation{{pod="{WEB_POD}"}})')
    assert float(cpu[0]["value"][1]) == pytest.approx(0.55)
    spot = query(prometheus, "sum by (node) (kubecost_node_is_spot)")
    assert {row["metric"]["node"]: float(row["value"][1]) for row in spot} == {"node-a": 0.0, "node-b": 1.0}

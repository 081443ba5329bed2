"""A real Prometheus per scrape interval, backfilled with promtool from the simulator's exposition.

Each server holds two scenarios at different times: ``small`` (3 h from 2026-01-01) and a 6-hour slice of ``demo``
(from 2026-02-01).
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from kubetally.sources.simulator import Simulation, load_scenario, simulate, write_openmetrics

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
READY_SECONDS = 30.0


@dataclass(frozen=True)
class Backfilled:
    url: str
    interval_seconds: int
    simulations: dict[str, Simulation]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _require(tool: Path) -> None:
    if not tool.is_file():
        pytest.fail(f"{tool} is required for the Prometheus integration tests (Debian package 'prometheus')")


def _simulations() -> dict[str, Simulation]:
    return {
        "small": simulate(load_scenario("small"), seed=7, start=datetime(2026, 1, 1, tzinfo=UTC), now=NOW),
        "demo": simulate(load_scenario("demo"), seed=7, start=datetime(2026, 2, 1, tzinfo=UTC), hours=6, now=NOW),
    }


def backfill(exposition: Path, data: Path) -> None:
    """Write the OpenMetrics file ``exposition`` into the TSDB at ``data`` with promtool; fail the test if it
    refuses the file."""
    _require(PROMTOOL)
    done = subprocess.run(
        [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(exposition), str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"promtool could not backfill {exposition.name}: {done.stderr[-2000:]}")


def _backfill(simulations: dict[str, Simulation], interval: int, root: Path) -> Path:
    data = root / "data"
    for name, simulation in simulations.items():
        exposition = root / f"{name}.om"
        write_openmetrics(simulation, exposition, scrape_interval_seconds=interval)
        backfill(exposition, data)
        exposition.unlink()
    return data


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"prometheus exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail(f"prometheus at {url} not ready after {READY_SECONDS:g} s: {log.read_text()[-2000:]}")


@contextmanager
def running_prometheus(data: Path, root: Path) -> Iterator[str]:
    """A real Prometheus serving the backfilled TSDB at ``data`` (no scrapes), ready; yields its base URL."""
    _require(PROMETHEUS)
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = root / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=100y",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _serve(root: Path, interval: int) -> Iterator[Backfilled]:
    _require(PROMTOOL)
    simulations = _simulations()
    data = _backfill(simulations, interval, root)
    with running_prometheus(data, root) as url:
        yield Backfilled(url, interval, simulations)


@pytest.fixture(scope="session")
def prometheus_30(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    yield from _serve(tmp_path_factory.mktemp("prometheus-30s"), 30)


@pytest.fixture(scope="session")
def prometheus_60(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    yield from _serve(tmp_path_factory.mktemp("prometheus-60s"), 60)

"""Faults with a real Prometheus: stopped before ingest, dying or killed mid-ingest, answering 503, too slow.

A small reverse proxy stands between kubetally and the real server and breaks on demand: it closes connections
after a number of requests, answers 503 a number of times, or delays its answers. The ledger written under a fault
is compared hour by hour with a clean reference ingest of the same hours.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.errors import SourceUnavailable
from kubetally.ingest import ingest
from kubetally.ledger import Ledger
from kubetally.sources.prometheus import PrometheusConfig, PrometheusSource
from tests.prometheus.conftest import Backfilled, free_port

START = datetime(2026, 2, 1, tzinfo=UTC)
END = START + timedelta(hours=4)
HOUR = timedelta(hours=1)
HOURLY_TABLES = ("allocations", "allocation_pvs", "allocation_lbs", "assets")
KUBETALLY = [str(Path(sys.executable).with_name("kubetally"))]
CLI_SECONDS = 60.0
FLOAT_RTOL = 1e-12
"""Two clean ingests of the same hours can differ in the last bit of a float sum (e.g. an asset's total cost)."""


@dataclass
class Faults:
    """How the proxy misbehaves, and what it saw."""

    close_after: int | None = None
    """Close every connection without an answer once this many requests were forwarded."""
    status_first: int = 0
    """Answer 503 to this many first requests."""
    delay_seconds: float = 0.0
    """Wait this long before forwarding each request."""
    requests: int = 0
    statuses: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Proxy:
    """A threaded reverse proxy to ``upstream`` on a free loopback port, misbehaving as ``faults`` says."""

    def __init__(self, upstream: str) -> None:
        self.faults = Faults()
        faults, client = self.faults, httpx.Client(base_url=upstream, timeout=30.0)

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with faults.lock:
                    faults.requests += 1
                    number = faults.requests
                if faults.close_after is not None and number > faults.close_after:
                    self.close_connection = True
                    return
                if number <= faults.status_first:
                    self._answer(503, b'{"status":"error","error":"overloaded"}')
                    return
                if faults.delay_seconds:
                    time.sleep(faults.delay_seconds)
                try:
                    upstream_response = client.get(self.path)
                except (httpx.HTTPError, RuntimeError):  # the proxy is closing
                    self.close_connection = True
                    return
                self._answer(upstream_response.status_code, upstream_response.content)

            def _answer(self, status: int, body: bytes) -> None:
                with faults.lock:
                    faults.statuses.append(status)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    self.close_connection = True  # the client gave up waiting

            def log_message(self, format: str, *args: object) -> None:
                return

        self._client = client
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()


@pytest.fixture
def proxy(prometheus_30: Backfilled) -> Iterator[Proxy]:
    running = Proxy(prometheus_30.url)
    try:
        yield running
    finally:
        running.close()


def prices() -> PriceBook:
    return PriceBook.from_files(None, None)


def run_ingest(url: str, db: Path, start: datetime = START, end: datetime = END, **config: float) -> None:
    """Ingest ``[start, end)`` from ``url`` into ``db`` an hour per transaction."""
    source = PrometheusSource(PrometheusConfig(url, **config))  # type: ignore[arg-type]
    with Ledger.open(db) as ledger:
        ingest(source, ledger, prices=prices(), policy=BillingPolicy(), start=start, end=end, chunk=HOUR)


def hourly(db: Path) -> dict[str, pl.DataFrame]:
    """Every hour-scoped table of the ledger at ``db``, in a canonical row order."""
    with Ledger.open(db, read_only=True) as ledger:
        return {table: ledger.fetch(f"SELECT * FROM {table} ORDER BY ALL") for table in HOURLY_TABLES}


def hours_of(tables: dict[str, pl.DataFrame]) -> set[datetime]:
    return set(tables["allocations"].get_column("hour").to_list())


def assert_whole_hours(tables: dict[str, pl.DataFrame], reference: dict[str, pl.DataFrame]) -> set[datetime]:
    """Every hour present equals the reference's rows of that hour; the hours present (absent ones have no rows)."""
    present = hours_of(tables)
    for table, frame in tables.items():
        assert set(frame.get_column("hour").to_list()) <= present, table
        expected = reference[table].filter(pl.col("hour").is_in(sorted(present)))
        assert_frame_equal(frame, expected, check_exact=False, rel_tol=FLOAT_RTOL, abs_tol=0.0)
    return present


@dataclass(frozen=True)
class Reference:
    """A clean ingest of the demo slice, an hour per transaction, and the requests one hour took."""

    tables: dict[str, pl.DataFrame]
    requests_per_hour: int


@pytest.fixture(scope="module")
def reference(prometheus_30: Backfilled, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    db = tmp_path_factory.mktemp("reference") / "reference.duckdb"
    counting = Proxy(prometheus_30.url)
    try:
        run_ingest(counting.url, db)
    finally:
        counting.close()
    tables = hourly(db)
    hours = int((END - START) / HOUR)
    assert hours_of(tables) == {START + HOUR * i for i in range(hours)}
    assert counting.faults.requests % hours == 0
    yield Reference(tables, counting.faults.requests // hours)


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*KUBETALLY, *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=CLI_SECONDS,
        env={**os.environ, **(env or {})},
    )


def window(start: datetime, end: datetime) -> list[str]:
    return ["--start", start.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", end.strftime("%Y-%m-%dT%H:%M:%SZ")]


def test_stopped_prometheus_fails_the_cli_with_one_error_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    done = cli("ingest", "--db", str(tmp_path / "x.duckdb"), "--prometheus-url", url, *window(START, END))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error:") and url in lines[0] and "unreachable" in lines[0]


def test_prometheus_dying_mid_ingest_writes_whole_hours_and_a_later_run_fills_the_rest(
    proxy: Proxy, reference: Reference, tmp_path: Path
) -> None:
    db = tmp_path / "faulty.duckdb"
    per_hour = reference.requests_per_hour
    proxy.faults.close_after = 2 * per_hour + per_hour // 2
    with pytest.raises(SourceUnavailable, match="unreachable"):
        run_ingest(proxy.url, db, retries=0)
    assert assert_whole_hours(hourly(db), reference.tables) == {START, START + HOUR}
    proxy.faults.close_after = None
    run_ingest(proxy.url, db, START + 2 * HOUR, END)
    for table, frame in hourly(db).items():
        assert_frame_equal(frame, reference.tables[table], check_exact=False, rel_tol=FLOAT_RTOL, abs_tol=0.0)


def test_sigkill_mid_ingest_leaves_a_ledger_that_opens_with_whole_hours(
    prometheus_30: Backfilled, proxy: Proxy, tmp_path: Path
) -> None:
    db = tmp_path / "killed.duckdb"
    middle = START + 2 * HOUR
    first = cli("ingest", "--db", str(db), "--prometheus-url", prometheus_30.url, *window(START, middle))
    assert first.returncode == 0, first.stderr
    proxy.faults.delay_seconds = 0.05
    process = subprocess.Popen(
        [*KUBETALLY, "ingest", "--db", str(db), "--prometheus-url", proxy.url, *window(middle, END)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + CLI_SECONDS
        while proxy.faults.requests < 5 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None, "the ingest ended before it could be killed"
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=CLI_SECONDS)
    assert process.returncode == -signal.SIGKILL
    with Ledger.open(db) as ledger:
        assert ledger.bounds() == (START, middle)
    assert hours_of(hourly(db)) == {START, START + HOUR}


def test_503_twice_is_retried_with_backoff_then_succeeds(proxy: Proxy, reference: Reference, tmp_path: Path) -> None:
    proxy.faults.status_first = 2
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    source = PrometheusSource(PrometheusConfig(proxy.url, backoff_seconds=0.05, retries=3), sleep=sleep)
    db = tmp_path / "retried.duckdb"
    with Ledger.open(db) as ledger:
        ingest(source, ledger, prices=prices(), policy=BillingPolicy(), start=START, end=START + HOUR, chunk=HOUR)
    assert proxy.faults.statuses[:2] == [503, 503]
    assert set(proxy.faults.statuses[2:]) == {200}
    assert slept == [0.05, 0.1]
    assert assert_whole_hours(hourly(db), reference.tables) == {START}
    assert len(proxy.faults.statuses) == reference.requests_per_hour + 2


def test_slow_prometheus_honours_the_timeout(proxy: Proxy, tmp_path: Path) -> None:
    proxy.faults.delay_seconds = 3.0
    env = {"KUBETALLY_PROMETHEUS_TIMEOUT_SECONDS": "1", "KUBETALLY_PROMETHEUS_RETRIES": "0"}
    done = cli("ingest", "--db", str(tmp_path / "slow.duckdb"), "--prometheus-url", proxy.url,
               *window(START, END), env=env)  # fmt: skip
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    assert proxy.url in lines[0] and "timed out after 1 s" in lines[0]

"""Benchmark: ``kubetally ingest`` of a day of a large cluster from a real Prometheus, against OpenCost's discovery.

Run with ``python -m benchmarks.prometheus_ingest`` (defaults: 2,000 pods on 80 nodes, 24 hours, 60 s scrapes).
``--cronjobs N`` adds N CronJobs that each start a 3-minute one-pod job every 10 minutes (a churning cluster).
It simulates the ``large`` scenario, writes its OpenMetrics exposition, backfills it into a fresh TSDB with
``promtool tsdb create-blocks-from openmetrics``, starts ``prometheus`` on a free loopback port, waits until it is
idle (it compacts the backfilled two-hour blocks first, as a long-running server has long done), then:

* runs ``kubetally ingest`` of the day in a child process (so its peak memory is its own), timing every HTTP
  request to Prometheus; the union of the request intervals is the time waiting on Prometheus, the rest of the
  wall time is kubetally's own processing (JSON decoding, assembly, costing, ledger writes);
* runs OpenCost's pod-discovery query ``avg(kube_pod_container_status_running != 0) by (pod, namespace)[1d:5m]``
  at the end of the day with ``stats=all``, for its wall time and the number of samples Prometheus touched.

Results print as a markdown table; ``--json PATH`` also saves them as JSON. ``--data DIR`` keeps the backfilled
TSDB in ``DIR`` and reuses it on later runs (same scenario and interval): the backfill is most of a run's time.

Prometheus runs with its query limits stated explicitly (``QUERY_FLAGS``, the defaults of Prometheus 2): no query of
the ingest comes near them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.run import machine
from kubetally.sources.simulator import load_scenario, simulate, write_openmetrics
from kubetally.sources.simulator.large import large_name

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")
START = datetime(2026, 10, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
OPENCOST_DISCOVERY = "avg(kube_pod_container_status_running != 0) by (pod, namespace)[1d:5m]"
READY_SECONDS = 300.0
SETTLE_SECONDS = 1200.0
QUERY_FLAGS = ("--query.timeout=2m", "--query.max-samples=50000000", "--query.max-concurrency=20")
"""Prometheus' query limits during the benchmark (its defaults, stated so a run records them)."""
IDLE_CPU_SECONDS = 0.2
IDLE_WINDOWS = 40
"""Prometheus counts as idle once it used less CPU than ``IDLE_CPU_SECONDS`` in each of ``IDLE_WINDOWS``
consecutive 2-second windows: longer than its one-minute compaction tick, so the start-up compaction has run."""


@dataclass(frozen=True)
class IngestFigures:
    """What the ingest child process measured about itself."""

    wall_seconds: float
    waiting_seconds: float
    requests: int
    peak_rss_mib: float
    exit_code: int


@dataclass(frozen=True)
class Results:
    """Every figure of one benchmark run."""

    date: str
    machine: str
    scenario: str
    scrape_interval_seconds: int
    hours: int
    pods: int
    cronjobs: int
    exposition_mib: float
    exposition_samples: int
    generate_seconds: float
    backfill_seconds: float
    ready_seconds: float
    settle_seconds: float
    ingest: IngestFigures
    opencost_seconds: float
    opencost_samples: int
    opencost_series: int


def union_seconds(intervals: list[tuple[float, float]]) -> float:
    """The length of the union of ``[start, end]`` intervals."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


@contextmanager
def timed_requests() -> Iterator[list[tuple[float, float]]]:
    """Record the (start, end) of every ``httpx.Client.get`` and ``.post`` made while active (response bodies
    included)."""
    intervals: list[tuple[float, float]] = []
    lock = threading.Lock()
    originals: dict[str, Callable[..., httpx.Response]] = {"get": httpx.Client.get, "post": httpx.Client.post}

    def timed(original: Callable[..., httpx.Response]) -> Callable[..., httpx.Response]:
        def call(self: httpx.Client, *args: Any, **kwargs: Any) -> httpx.Response:
            began = time.perf_counter()
            try:
                return original(self, *args, **kwargs)
            finally:
                ended = time.perf_counter()
                with lock:
                    intervals.append((began, ended))

        return call

    for name, original in originals.items():
        setattr(httpx.Client, name, timed(original))
    try:
        yield intervals
    finally:
        for name, original in originals.items():
            setattr(httpx.Client, name, original)


def ingest_child(argv: list[str], out: Path) -> None:
    """Run ``kubetally <argv>`` in this process, timing its requests, and write :class:`IngestFigures` to ``out``."""
    from kubetally.cli.app import main

    sys.argv = ["kubetally", *argv]
    code = 0
    with timed_requests() as intervals:
        began = time.perf_counter()
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        wall = time.perf_counter() - began
    figures = IngestFigures(
        wall_seconds=wall,
        waiting_seconds=union_seconds(intervals),
        requests=len(intervals),
        peak_rss_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        exit_code=code,
    )
    out.write_text(json.dumps(asdict(figures)), encoding="utf-8")


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _require(tool: Path) -> None:
    if not tool.is_file():
        raise SystemExit(f"{tool} is required (Debian package 'prometheus')")


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> float:
    began = time.perf_counter()
    while time.perf_counter() - began < READY_SECONDS:
        if process.poll() is not None:
            raise SystemExit(f"prometheus exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1.0).status_code == 200:
                return time.perf_counter() - began
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"prometheus at {url} not ready after {READY_SECONDS:g} s")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_idle(pid: int) -> float:
    """Seconds until Prometheus is idle (done compacting the backfilled two-hour blocks at start-up)."""
    began = time.perf_counter()
    quiet, used = 0, _cpu_seconds(pid)
    while quiet < IDLE_WINDOWS and time.perf_counter() - began < SETTLE_SECONDS:
        time.sleep(2.0)
        now = _cpu_seconds(pid)
        quiet, used = (quiet + 1 if now - used < IDLE_CPU_SECONDS else 0), now
    return time.perf_counter() - began


@contextmanager
def prometheus(data: Path, root: Path) -> Iterator[tuple[str, float, float]]:
    """A Prometheus serving the TSDB at ``data``: its URL, the seconds until ready and then until idle."""
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n", encoding="utf-8")
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
                *QUERY_FLAGS,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        ready = _wait_ready(url, process, log)
        yield url, ready, _wait_idle(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def opencost_discovery(url: str, at: datetime) -> tuple[float, int, int]:
    """Seconds, samples touched and series returned of OpenCost's pod-discovery query evaluated at ``at``."""
    params = {"query": OPENCOST_DISCOVERY, "time": f"{at.timestamp():.0f}", "stats": "all"}
    began = time.perf_counter()
    response = httpx.get(f"{url}/api/v1/query", params=params, timeout=600.0)
    seconds = time.perf_counter() - began
    response.raise_for_status()
    data = response.json()["data"]
    samples = int(data["stats"]["samples"]["totalQueryableSamples"])
    return seconds, samples, len(data["result"])


def _count_samples(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for line in handle if not line.startswith(b"#"))


def run(nodes: int, pods: int, hours: int, interval: int, *, keep: Path | None = None, cronjobs: int = 0) -> Results:
    """Simulate, backfill, serve, ingest, query: every figure of one run. With ``keep``, the TSDB lives in
    ``keep/data`` and is reused when already there (setup figures are then 0)."""
    _require(PROMTOOL)
    _require(PROMETHEUS)
    name = large_name(nodes, pods, max(1, -(-hours // 24)), cronjobs)
    scenario = load_scenario(name)
    end = START + timedelta(hours=hours)
    with tempfile.TemporaryDirectory(prefix="kubetally-bench-") as folder:
        root = Path(folder)
        exposition, db = root / "cluster.om", root / "ledger.duckdb"
        data = (keep if keep is not None else root) / "data"
        generate_seconds = backfill_seconds = exposition_mib = 0.0
        samples = 0
        if not data.is_dir():
            began = time.perf_counter()
            write_openmetrics(simulate(scenario, seed=1, start=START, hours=hours, now=NOW), exposition,
                              scrape_interval_seconds=interval)  # fmt: skip
            generate_seconds = time.perf_counter() - began
            exposition_mib = exposition.stat().st_size / 2**20
            samples = _count_samples(exposition)
            began = time.perf_counter()
            subprocess.run(
                [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(exposition), str(data)],
                check=True,
                capture_output=True,
            )
            backfill_seconds = time.perf_counter() - began
            exposition.unlink()
        pricing = root / "pricing.json"
        pricing.write_text(json.dumps(scenario.pricing), encoding="utf-8")
        with prometheus(data, root) as (url, ready_seconds, settle_seconds):
            figures_file = root / "ingest.json"
            argv = [
                "ingest", "--db", str(db), "--prometheus-url", url, "--pricing", str(pricing),
                "--start", START.strftime("%Y-%m-%dT%H:%M:%SZ"), "--end", end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ]  # fmt: skip
            subprocess.run(
                [sys.executable, "-m", "benchmarks.prometheus_ingest", "--ingest-child", str(figures_file), *argv],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            ingest = IngestFigures(**json.loads(figures_file.read_text(encoding="utf-8")))
            opencost_seconds, opencost_samples, opencost_series = opencost_discovery(url, end)
    return Results(
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        machine=machine(),
        scenario=name,
        scrape_interval_seconds=interval,
        hours=hours,
        pods=pods,
        cronjobs=cronjobs,
        exposition_mib=exposition_mib,
        exposition_samples=samples,
        generate_seconds=generate_seconds,
        backfill_seconds=backfill_seconds,
        ready_seconds=ready_seconds,
        settle_seconds=settle_seconds,
        ingest=ingest,
        opencost_seconds=opencost_seconds,
        opencost_samples=opencost_samples,
        opencost_series=opencost_series,
    )


def table(results: Results) -> str:
    """The markdown table of ``results``."""
    ingest = results.ingest
    own = ingest.wall_seconds - ingest.waiting_seconds
    rows = [
        ("setup", "exposition written", f"{results.generate_seconds:,.1f} s, {results.exposition_mib:,.0f} MiB, "
         f"{results.exposition_samples:,} samples", ""),
        ("setup", "promtool backfill", f"{results.backfill_seconds:,.1f} s", ""),
        ("setup", "Prometheus ready (opens the blocks)", f"{results.ready_seconds:,.1f} s", ""),
        ("setup", "Prometheus idle (start-up compaction done)", f"{results.settle_seconds:,.1f} s", ""),
        ("ingest", f"wall time of {results.hours} h (exit code {ingest.exit_code})",
         f"**{ingest.wall_seconds:,.1f} s**", "< 60 s"),
        ("ingest", f"waiting on Prometheus ({ingest.requests} requests)", f"{ingest.waiting_seconds:,.1f} s", ""),
        ("ingest", "kubetally's own processing", f"**{own:,.1f} s ({100 * own / ingest.wall_seconds:.0f} %)**",
         "≤ 25 %"),
        ("ingest", "peak RSS", f"**{ingest.peak_rss_mib:,.0f} MiB**", "< 1,024 MiB"),
        ("OpenCost", "pod discovery `[1d:5m]` wall time", f"{results.opencost_seconds:,.2f} s", ""),
        ("OpenCost", "pod discovery samples touched", f"{results.opencost_samples:,} "
         f"({results.opencost_series:,} series returned)", ""),
    ]  # fmt: skip
    lines = ["| stage | figure | value | target |", "|---|---|---:|---:|"]
    lines.extend(f"| {stage} | {figure} | {value} | {target} |" for stage, figure, value, target in rows)
    return "\n".join(lines)


def main() -> None:
    """Parse flags, run and print a markdown table (and the JSON results with ``--json``)."""
    if len(sys.argv) > 2 and sys.argv[1] == "--ingest-child":
        ingest_child(sys.argv[3:], Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=80)
    parser.add_argument("--pods", type=int, default=2_000)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--interval", type=int, default=60, help="scrape interval (seconds)")
    parser.add_argument(
        "--cronjobs", type=int, default=0, help="CronJobs starting a 3-minute pod every 10 minutes (churn)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also save the results as JSON here")
    parser.add_argument("--data", type=Path, default=None, help="keep (and reuse) the backfilled TSDB in DIR/data")
    args = parser.parse_args()
    results = run(args.nodes, args.pods, args.hours, args.interval, keep=args.data, cronjobs=args.cronjobs)
    print(
        f"{results.date} · {results.machine} · {results.scenario} ({results.cronjobs} cronjobs), "
        f"{results.hours} h at {args.interval} s\n"
    )
    print(table(results))
    if args.json is not None:
        args.json.write_text(json.dumps(asdict(results), indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

"""Benchmark: ``/allocation`` of ``kubetally serve`` on the ``large`` ledger, cold, cached and under load.

Run with ``python -m benchmarks.api_load`` (defaults: 400 nodes, 10,000 pods, 30 days; 16 clients for 60 s).
It builds the ``large`` ledger the way ``benchmarks.run`` does (simulate with seed 1, cost a day at a time, write
each day) or reuses the one at ``--db PATH`` (built there first when the file does not exist), starts a real
``kubetally serve --db PATH --port <free>`` (uvicorn, no Prometheus) in a child process, waits for ``/readyz``, then
measures ``/allocation?window=<start>,<end>&aggregate=namespace&includeIdle=true``:

* cold: the first request for it after the server started (empty query cache, DuckDB buffer pool not yet holding the
  ledger; the operating system's page cache is left as it is), in ``--cold-runs`` fresh servers (median and max);
* cached: the median of sequential repeats on one keep-alive connection;
* under load: ``wrk --latency`` with ``--clients`` connections for ``--duration`` seconds, for p50/p99, throughput
  and errors (socket errors, timeouts and non-2xx responses);
* with ``--hostile``, the load again, in ``2 × --pairs`` equal slices of ``--duration / --pairs`` seconds that
  alternate clean and hostile (a tenant sending the hostile corpus alongside) in the order clean, hostile, hostile,
  clean, clean, hostile, ... so that a machine whose load drifts during the run weighs on both phases alike. The
  figure is the ratio of the hostile slices' summed requests to the clean slices' (equal durations), with the median
  of the pairs' ratios next to it.

The window is the ledger's own hours as an explicit RFC 3339 pair: the ledger holds the 30 days before
2026-11-01, so ``window=30d`` (the 30 days before now) would miss it. The server's peak resident memory is
``VmHWM`` of its ``/proc/<pid>/status`` after the load. Results print as a markdown table and are saved as JSON
next to this file. ``wrk`` must be on ``PATH`` (``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httpx

from benchmarks.hostile import hostile_requests
from benchmarks.run import NOW, machine
from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute
from kubetally.ledger import Ledger, RunInfo
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

RESULTS = Path(__file__).with_name("api_load.json")
READY_TIMEOUT_SECONDS = 180.0
REQUEST_TIMEOUT_SECONDS = 60.0
WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}
"""Milliseconds per unit of wrk's latency figures."""


@dataclass(frozen=True)
class LoadResult:
    """What wrk measured: latency percentiles (ms), completed requests, throughput and errors."""

    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    requests_per_second: float
    socket_errors: int
    non_2xx: int

    @property
    def errors(self) -> int:
        """Failed requests of every kind."""
        return self.socket_errors + self.non_2xx


@dataclass(frozen=True)
class ApiFigures:
    """The measured figures of one run."""

    window: str
    cold_ms: list[float]
    cached_median_ms: float
    cached_runs: int
    clients: int
    duration_seconds: int
    load: LoadResult
    server_peak_rss_mib: float
    hostile_load: LoadResult | None = None
    """The hostile slices merged (:func:`merge`): the load with a tenant sending :func:`hostile_traffic` alongside."""
    hostile_requests: int = 0
    hostile_statuses: dict[str, int] | None = None
    cpu_ms_per_request: dict[str, float] | None = None
    """The server's CPU time (user + system) per request, by kind: ``/healthz``, the cached clean query, each
    parameter of the hostile corpus, the cache attack (``--hostile``; :func:`cpu_per_request`)."""
    clean_load: LoadResult | None = None
    """The clean slices merged, interleaved with the hostile ones (``--hostile``)."""
    slices: list[Slice] | None = None


@dataclass(frozen=True)
class Slice:
    """One slice of the interleaved run: clean or hostile, what wrk measured, the 1-minute load average at its
    start and how many requests the hostile tenant sent during it."""

    phase: str
    load: LoadResult
    load_average: float
    hostile_sent: int


def build_ledger(db: Path, nodes: int, pods: int, days: int) -> None:
    """Write the ``large`` scenario into a new ledger at ``db``, costed and written a day at a time."""
    scenario = load_scenario(f"large:nodes={nodes},pods={pods},days={days}")
    history = to_history(simulate(scenario, seed=1, now=NOW))
    prices, policy = scenario_pricebook(scenario), BillingPolicy()
    with Ledger.open(db) as ledger:
        day = history.start
        while day < history.end:
            chunk = history.slice(day, min(day + timedelta(days=1), history.end))
            result = compute(chunk, prices, policy)
            ledger.write(result, clusters=chunk.clusters, start=chunk.start, end=chunk.end, run=RunInfo("bench"))
            day += timedelta(days=1)


def ledger_window(db: Path) -> tuple[datetime, datetime]:
    """The first covered hour of the ledger at ``db`` and the end of its last covered hour (UTC)."""
    with Ledger.open(db, read_only=True) as ledger:
        first, last = ledger.fetch("SELECT min(hour) AS first, max(hour) AS last FROM hour_coverage").row(0)
    if first is None or last is None:
        raise SystemExit(f"ledger {db} covers no hours")
    return _utc(first), _utc(last) + timedelta(hours=1)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """``moment`` as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serving(db: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A running ``kubetally serve --db db --port port`` whose ``/readyz`` answers 200; stopped on exit."""
    command = [str(Path(sys.executable).with_name("kubetally")), "serve", "--db", str(db), "--port", str(port)]
    with log.open("wb") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", server, log)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_ready(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    """Return once ``url`` answers 200; exit with the server's log if it stops or takes too long."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"kubetally serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=5.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} not ready after {READY_TIMEOUT_SECONDS:.0f} s:\n{log.read_text()}")


def timed_get(client: httpx.Client, url: str) -> float:
    """Milliseconds one GET of ``url`` took, body read; exits unless it is a 200 with allocation sets."""
    began = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - began) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}: {response.text[:500]}")
    sets = response.json().get("data")
    if not sets or not sets[0]:
        raise SystemExit(f"GET {url} answered no allocations: {response.text[:500]}")
    return elapsed


def run_wrk(url: str, clients: int, duration: int) -> LoadResult:
    """wrk's measurement of ``clients`` connections requesting ``url`` for ``duration`` seconds."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not on PATH; install it with `apt-get install -y wrk`")
    threads = min(clients, 2)
    command = [wrk, f"-t{threads}", f"-c{clients}", f"-d{duration}s", "--timeout", "30s", "--latency", url]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return parse_wrk(completed.stdout)


def parse_wrk(report: str) -> LoadResult:
    """The figures of a ``wrk --latency`` report."""
    percentiles = {
        int(share): float(value) * WRK_UNITS[unit]
        for share, value, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", report, re.MULTILINE)
    }
    totals = re.search(r"(\d+) requests in", report)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", report)
    if totals is None or rate is None or not {50, 75, 90, 99} <= percentiles.keys():
        raise SystemExit(f"unexpected wrk report:\n{report}")
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    return LoadResult(
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        requests=int(totals.group(1)),
        requests_per_second=float(rate.group(1)),
        socket_errors=sum(int(count) for count in socket_errors.groups()) if socket_errors else 0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
    )


def peak_rss_mib(pid: int) -> float:
    """Peak resident set size (``VmHWM``) of the live process ``pid`` (MiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    raise SystemExit(f"/proc/{pid}/status has no VmHWM")


HOSTILE_PARTS = ("corpus", "attack")


def hostile_traffic(
    base: str, start: datetime, end: datetime, parts: tuple[str, ...] = HOSTILE_PARTS
) -> list[tuple[str, dict[str, str]]]:
    """One round of a hostile tenant: the hostile-input corpus on every endpoint (``corpus``), then the cache
    attack (``attack``: distinct hour-step month-long queries with idle split by node, each a new cache key)."""
    attack = [
        (
            "/allocation",
            {
                "window": f"{rfc3339(start + timedelta(hours=shift))},{rfc3339(end)}",
                "step": "1h",
                "idleByNode": "true",
                "splitIdle": "true",
            },
        )
        for shift in range(8)
    ]
    chosen = [*(hostile_requests() if "corpus" in parts else []), *(attack if "attack" in parts else [])]
    return [(base + path, params) for path, params in chosen]


class HostileTenant(threading.Thread):
    """Sends ``requests`` in a loop on one keep-alive connection while ``active`` is set; counts the statuses.

    It uses the standard library's HTTP client, prepared URLs and no response parsing beyond the status, so that
    the tenant itself (which shares the machine with the server and wrk) costs little CPU: what the hostile slices
    measure is the server's cost of the hostile requests."""

    def __init__(self, requests: list[tuple[str, dict[str, str]]]) -> None:
        super().__init__(daemon=True)
        first = urlsplit(requests[0][0])
        self.host, self.port = first.hostname or "127.0.0.1", first.port or 80
        self.paths = [f"{urlsplit(url).path}?{urlencode(params)}" for url, params in requests]
        self.statuses: dict[str, int] = {}
        self.sent = 0
        self.active = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT_SECONDS)
        try:
            while not self.stop.is_set():
                for path in self.paths:
                    if not self.active.wait(timeout=0.2):
                        connection.close()  # idle between hostile slices: the server would time it out
                        break
                    self._send(connection, path)
        finally:
            connection.close()

    def _send(self, connection: http.client.HTTPConnection, path: str) -> None:
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            status = str(response.status)
        except (OSError, http.client.HTTPException) as exc:
            connection.close()
            status = type(exc).__name__
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.sent += 1


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time the live process ``pid`` has used (seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_per_request(pid: int, kinds: dict[str, list[str]], requests: int) -> dict[str, float]:
    """Milliseconds of the server's CPU per request of each kind (a list of URLs), each kind's URLs sent over
    and over until about ``requests`` were sent (the kernel counts CPU time in ticks of 10 ms), on one keep-alive
    connection after one unmeasured round."""
    port = int(next(iter(kinds.values()))[0].split("/", 3)[2].rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)
    costs = {}
    try:
        for kind, urls in kinds.items():
            paths = [url.split("/", 3)[3] for url in urls]
            for path in paths:
                _get(connection, "/" + path)
            repeats = max(1, round(requests / len(paths)))
            before = process_cpu_seconds(pid)
            for _ in range(repeats):
                for path in paths:
                    _get(connection, "/" + path)
            costs[kind] = (process_cpu_seconds(pid) - before) * 1000 / (repeats * len(paths))
    finally:
        connection.close()
    return costs


def _get(connection: http.client.HTTPConnection, path: str) -> None:
    connection.request("GET", path)
    connection.getresponse().read()


def request_kinds(base: str, clean_url: str, start: datetime, end: datetime) -> dict[str, list[str]]:
    """The requests of :func:`cpu_per_request`: ``/healthz``, the clean query, the hostile corpus by parameter
    and the cache attack, as full URLs."""
    kinds: dict[str, list[str]] = {"/healthz": [f"{base}/healthz"], "clean query (cached)": [clean_url]}
    for url, params in hostile_traffic(base, start, end):
        kind = "cache attack" if "idleByNode" in params else next((p for p in params if p != "window"), "window")
        kinds.setdefault(kind, []).append(f"{url}?{urlencode(params)}")
    return kinds


def merge(results: list[LoadResult]) -> LoadResult:
    """Slices of equal duration as one result: requests and errors summed, the mean throughput, the median of
    the slices' p50/p75/p90 and the largest of their p99s (wrk reports percentiles, not the latencies)."""
    return LoadResult(
        p50_ms=statistics.median(r.p50_ms for r in results),
        p75_ms=statistics.median(r.p75_ms for r in results),
        p90_ms=statistics.median(r.p90_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        requests=sum(r.requests for r in results),
        requests_per_second=statistics.fmean(r.requests_per_second for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        non_2xx=sum(r.non_2xx for r in results),
    )


def interleaved(url: str, tenant: HostileTenant, clients: int, seconds: int, pairs: int) -> list[Slice]:
    """``pairs`` clean and hostile slices of ``seconds`` each, in the order clean, hostile, hostile, clean, ..."""
    slices = []
    for pair in range(pairs):
        phases = ("clean", "hostile") if pair % 2 == 0 else ("hostile", "clean")
        for phase in phases:
            before = tenant.sent
            if phase == "hostile":
                tenant.active.set()
            load_average = os.getloadavg()[0]
            result = run_wrk(url, clients, seconds)
            tenant.active.clear()
            slices.append(Slice(phase, result, load_average, tenant.sent - before))
    return slices


def pair_ratios(slices: list[Slice]) -> list[float]:
    """Each pair's hostile throughput over its clean throughput."""
    ratios = []
    for index in range(0, len(slices) - 1, 2):
        pair = {s.phase: s.load.requests_per_second for s in slices[index : index + 2]}
        if pair.get("clean"):
            ratios.append(pair["hostile"] / pair["clean"])
    return ratios


def throughput_ratio(slices: list[Slice]) -> float:
    """The hostile slices' summed requests over the clean slices' (the slices last equally long)."""
    clean = sum(s.load.requests for s in slices if s.phase == "clean")
    hostile = sum(s.load.requests for s in slices if s.phase == "hostile")
    return hostile / clean if clean else 0.0


def cold_latency(db: Path, url_of: Callable[[int], str], log: Path) -> float:
    """Milliseconds of the first request of ``url_of(port)`` to a freshly started server."""
    port = free_port()
    with serving(db, port, log), httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        return timed_get(client, url_of(port))


def measure(
    db: Path,
    log: Path,
    *,
    cold_runs: int,
    cached_runs: int,
    clients: int,
    duration: int,
    hostile: bool = False,
    pairs: int = 4,
    parts: tuple[str, ...] = HOSTILE_PARTS,
) -> ApiFigures:
    """Serve ``db`` and measure the 30-day allocation query cold, cached and under load (and, with ``hostile``,
    under the same load again in ``pairs`` interleaved clean and hostile slices)."""
    start, end = ledger_window(db)
    window = f"{rfc3339(start)},{rfc3339(end)}"
    params = urlencode({"window": window, "aggregate": "namespace", "includeIdle": "true"})

    def url_of(port: int) -> str:
        return f"http://127.0.0.1:{port}/allocation?{params}"

    cold = [cold_latency(db, url_of, log) for _ in range(cold_runs - 1)]
    port = free_port()
    url = url_of(port)
    with serving(db, port, log) as server, httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        cold.append(timed_get(client, url))
        cached = [timed_get(client, url) for _ in range(cached_runs)]
        load = run_wrk(url, clients, duration)
        slices, tenant, costs = None, None, None
        if hostile:
            tenant = HostileTenant(hostile_traffic(f"http://127.0.0.1:{port}", start, end, parts))
            tenant.start()
            slices = interleaved(url, tenant, clients, max(duration // pairs, 1), pairs)
            tenant.stop.set()
            tenant.join(timeout=REQUEST_TIMEOUT_SECONDS)
            base = f"http://127.0.0.1:{port}"
            costs = cpu_per_request(server.pid, request_kinds(base, url, start, end), requests=300)
        peak = peak_rss_mib(server.pid)
    figures = ApiFigures(window, cold, statistics.median(cached), cached_runs, clients, duration, load, peak)
    if tenant is None or slices is None:
        return figures
    return replace(
        figures,
        hostile_load=merge([s.load for s in slices if s.phase == "hostile"]),
        clean_load=merge([s.load for s in slices if s.phase == "clean"]),
        hostile_requests=tenant.sent,
        hostile_statuses=tenant.statuses,
        slices=slices,
        cpu_ms_per_request=costs,
    )


def table(figures: ApiFigures) -> str:
    """The figures as a markdown table, with the targets."""
    load = figures.load
    rows = [
        (
            f"cold: first request after start, median of {len(figures.cold_ms)} servers",
            f"{statistics.median(figures.cold_ms):,.1f} ms",
            "< 500 ms",
        ),
        ("cold: the same, slowest", f"{max(figures.cold_ms):,.1f} ms", "< 500 ms"),
        (f"cached: median of {figures.cached_runs} sequential", f"{figures.cached_median_ms:,.2f} ms", "< 20 ms"),
        (f"{figures.clients} clients × {figures.duration_seconds} s: p50", f"{load.p50_ms:,.2f} ms", ""),
        (f"{figures.clients} clients × {figures.duration_seconds} s: p99", f"{load.p99_ms:,.2f} ms", "< 1 s"),
        (
            f"{figures.clients} clients × {figures.duration_seconds} s: throughput",
            f"{load.requests_per_second:,.0f} req/s",
            "",
        ),
        (f"{figures.clients} clients × {figures.duration_seconds} s: requests", f"{load.requests:,}", ""),
        (f"{figures.clients} clients × {figures.duration_seconds} s: errors", f"{load.errors:,}", "0"),
        ("server peak RSS (VmHWM)", f"{figures.server_peak_rss_mib:,.0f} MiB", ""),
    ]
    rows += _interleaved_rows(figures)
    lines = ["| figure | value | target |", "|---|---:|---:|"]
    lines += [f"| {name} | {value} | {target} |" for name, value, target in rows]
    return "\n".join(lines)


def _interleaved_rows(figures: ApiFigures) -> list[tuple[str, str, str]]:
    """The table rows of the interleaved clean and hostile slices (none without ``--hostile``)."""
    hostile, clean, slices = figures.hostile_load, figures.clean_load, figures.slices
    if hostile is None or clean is None or not slices:
        return []
    count = len(slices) // 2
    seconds = figures.duration_seconds // count
    ratios = ", ".join(f"{r - 1:+.1%}" for r in pair_ratios(slices))
    loads = ", ".join(f"{s.load_average:.1f}" for s in slices)
    return [
        (f"interleaved: {count} clean + {count} hostile slices of {seconds} s, load averages", loads, ""),
        ("clean slices: p50 (median) / p99 (largest)", f"{clean.p50_ms:,.1f} / {clean.p99_ms:,.1f} ms", "< 1 s"),
        ("hostile slices: p50 (median) / p99 (largest)", f"{hostile.p50_ms:,.1f} / {hostile.p99_ms:,.1f} ms", "< 1 s"),
        ("clean slices: requests (mean req/s)", f"{clean.requests:,} ({clean.requests_per_second:,.0f})", ""),
        ("hostile slices: requests (mean req/s)", f"{hostile.requests:,} ({hostile.requests_per_second:,.0f})", ""),
        ("throughput, hostile / clean (summed)", f"{throughput_ratio(slices) - 1:+.1%}", "within 10 %"),
        ("throughput, each pair", ratios, ""),
        ("errors of the clean clients, all slices", f"{clean.errors + hostile.errors:,}", "0"),
        ("hostile tenant: requests (statuses)", f"{figures.hostile_requests:,} {figures.hostile_statuses}", "all 4xx"),
        *(
            (f"server CPU per request: {kind}", f"{cost:.2f} ms", "")
            for kind, cost in (figures.cpu_ms_per_request or {}).items()
        ),
    ]


def main() -> None:
    """Parse flags, build or reuse the ledger, measure, print a markdown table and save the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="Ledger to serve; built there first when missing (default: temporary).")
    parser.add_argument("--nodes", type=int, default=400)
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--cold-runs", type=int, default=5, help="Fresh servers to time the first request on.")
    parser.add_argument("--cached-runs", type=int, default=50)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=int, default=60, help="Seconds of load.")
    parser.add_argument("--hostile", action="store_true", help="Repeat the load with a hostile tenant alongside.")
    parser.add_argument("--pairs", type=int, default=4, help="With --hostile: clean and hostile slices of each.")
    parser.add_argument(
        "--hostile-parts",
        default=",".join(HOSTILE_PARTS),
        help="With --hostile: what the tenant sends, `corpus`, `attack` or both (comma-separated).",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not on PATH; install it with `apt-get install -y wrk`")
    if not args.hostile_parts or not set(args.hostile_parts.split(",")) <= set(HOSTILE_PARTS):
        raise SystemExit(f"--hostile-parts: give {' and/or '.join(HOSTILE_PARTS)}, comma-separated")
    with tempfile.TemporaryDirectory() as folder:
        db: Path = args.db if args.db is not None else Path(folder) / "large.duckdb"
        scenario = f"large: {args.nodes} nodes, {args.pods} pods, {args.days} days"
        if not db.exists():
            print(f"building the ledger ({scenario}) at {db} ...", flush=True)
            build_ledger(db, args.nodes, args.pods, args.days)
        load_before = os.getloadavg()
        figures = measure(
            db,
            Path(folder) / "serve.log",
            cold_runs=max(args.cold_runs, 1),
            cached_runs=args.cached_runs,
            clients=args.clients,
            duration=args.duration,
            hostile=args.hostile,
            pairs=max(args.pairs, 1),
            parts=tuple(args.hostile_parts.split(",")),
        )
    header = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "machine": machine(),
        "scenario": scenario,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    print(f"{header['date']} · {header['machine']} · {header['scenario']} · window={figures.window}")
    print(
        f"load average (1, 5, 15 min) before: {header['load_average_before']}, after: {header['load_average_after']}\n"
    )
    print(table(figures))
    RESULTS.write_text(json.dumps({**header, **asdict(figures)}, indent=2) + "\n")


if __name__ == "__main__":
    main()

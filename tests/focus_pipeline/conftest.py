"""A local bill API (http.server on 127.0.0.1:0) and helpers to build a pipeline against it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from kubetally.focus.exporter import BilledCostCollector
from kubetally.focus.krateo import load_config
from kubetally.focus.pipeline import Pipeline, RetryPolicy
from kubetally.focus.targets import SecretStore, resolve_targets
from kubetally.ledger import Ledger

DATA = Path(__file__).parent / "data"
SEED_TOKEN = "seed-token-7f3a"
LATER_TOKEN = "later-token-91c2"
SEED_BILL_PATH = "/subscriptions/sub-1/providers/Microsoft.CostManagement/focus/november.csv"
VM_ID = "/subscriptions/sub-1/resourceGroups/rg-prod/providers/Microsoft.Compute/virtualMachines/vm-web-1"
SEED_USAGE_PATH = VM_ID + "/providers/microsoft.insights/metrics"


@dataclass
class Route:
    """What the server answers on one path: ``failures`` answers of ``failure_status`` first, then ``body``."""

    body: bytes
    token: str | None = None
    failures: int = 0
    failure_status: int = 503
    content_type: str = "text/csv"


@dataclass
class BillApi:
    """The routes served, the requests seen (path, Authorization, all headers) and the server's address."""

    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str | None, dict[str, str]]] = field(default_factory=list)
    address: str = ""

    def hits(self, path: str) -> int:
        return sum(1 for seen, _, _ in self.requests if seen == path)


def bill_handler(api: BillApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            authorization = self.headers.get("Authorization")
            api.requests.append((path, authorization, dict(self.headers.items())))
            route = api.routes.get(path)
            if route is None:
                self._answer(404, b"not found", "text/plain")
            elif route.failures > 0:
                route.failures -= 1
                self._answer(route.failure_status, b"unavailable", "text/plain")
            elif route.token is not None and authorization != f"Bearer {route.token}":
                self._answer(401, b"bad token", "text/plain")
            else:
                self._answer(200, route.body, route.content_type)

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serving(server: ThreadingHTTPServer, api: BillApi) -> Iterator[BillApi]:
    """``server`` (answering for ``api``) running in a thread; ``api.address`` is where it listens."""
    api.address = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def bill_api() -> Iterator[BillApi]:
    api = BillApi()
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), bill_handler(api)), api) as served:
        yield served


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "ledger.duckdb") as opened:
        yield opened


class FakeTime:
    """A clock that only moves when slept on; records every sleep."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def build_pipeline(
    configs: list[Path],
    ledger: Ledger,
    environ: dict[str, str],
    *,
    secrets_dir: Path | None = None,
    time: FakeTime | None = None,
) -> Pipeline:
    """A pipeline over ``configs`` with a fake clock (no real sleeping) and short timeouts."""
    config = load_config(configs)
    secrets = SecretStore.of(config, secrets_dir)
    targets = resolve_targets(config, secrets, environ)
    fake = time or FakeTime()
    return Pipeline(
        targets,
        ledger,
        secrets,
        BilledCostCollector(),
        RetryPolicy(attempts=3, first_delay=2.0, timeout=5.0),
        clock=fake.clock,
        sleep=fake.sleep,
    )


def seed_api(api: BillApi, bill: bytes | None = None) -> None:
    """Serve the seed configuration's two endpoints: the FOCUS bill (bearer token) and the usage JSON."""
    api.routes[SEED_BILL_PATH] = Route(bill if bill is not None else (DATA / "bill.csv").read_bytes(), SEED_TOKEN)
    api.routes[SEED_USAGE_PATH] = Route((DATA / "usage.json").read_bytes(), content_type="application/json")

"""A request that fails with a 500 does not break the next request of a keep-alive client: the 500 says
``Connection: close``, so the client opens a new connection instead of reusing the one the server drops."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.runner import demo_ledger_at, free_port

SERVER = textwrap.dedent(
    """
    import sys
    import uvicorn
    from kubetally.api.app import create_app
    from kubetally.query import cache

    def broken(reader, query):
        if query.aggregate:
            raise RuntimeError("injected fault")
        return original(reader, query)

    original = cache.run_allocation
    cache.run_allocation = broken
    uvicorn.run(create_app(sys.argv[1], bind_host="127.0.0.1"), host="127.0.0.1", port=int(sys.argv[2]))
    """
)


def test_a_500_does_not_break_the_next_request_on_the_connection(tmp_path: Path) -> None:
    ledger = demo_ledger_at(tmp_path / "demo.duckdb")
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([sys.executable, "-c", SERVER, str(ledger), str(port)], stdout=log, stderr=log)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline:
                        pytest.fail((tmp_path / "serve.log").read_text())
                    time.sleep(0.2)
            for _ in range(3):
                failed = client.get("/allocation", params={"window": "1d", "aggregate": "namespace"})
                assert failed.status_code == 500
                assert failed.headers.get("connection") == "close"
                good = client.get("/allocation", params={"window": "1d"})
                assert good.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)

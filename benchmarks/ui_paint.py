"""First meaningful paint of the Allocations page: 7 days by namespace on the demo ledger, in headless Chromium.

Builds the demo ledger in a temporary folder, runs ``kubetally serve`` on it and opens ``/`` in a fresh browser
context several times. The page marks ``kt-allocations-table`` (Performance API) once the cards' total and the cost
table are drawn from the API's answer; its ``startTime`` is the time since navigation start. The median over the
runs is printed with the first contentful paint, in milliseconds.

Run with ``python -m benchmarks.ui_paint [--runs 7]``; needs Debian's ``chromium`` at /usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
KUBETALLY = Path(sys.executable).parent / "kubetally"
MARK = "kt-allocations-table"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"kubetally serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("kubetally serve did not become ready in 30 s")


def measure(url: str, runs: int) -> tuple[list[float], list[float]]:
    """Milliseconds from navigation start to the table mark, and to the first contentful paint, per run."""
    meaningful: list[float] = []
    contentful: list[float] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True)
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{url}/?window=7d&aggregate=namespace")
            page.wait_for_function(f"performance.getEntriesByName('{MARK}').length > 0", timeout=30_000)
            meaningful.append(float(page.evaluate(f"performance.getEntriesByName('{MARK}')[0].startTime")))
            contentful.append(
                float(page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1"))
            )
            context.close()
        browser.close()
    return meaningful, contentful


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "demo.duckdb"
        subprocess.run([str(KUBETALLY), "demo", "--no-serve", "--db", str(db)], check=True, capture_output=True)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        command = [str(KUBETALLY), "serve", "--db", str(db), "--port", str(port)]
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_ready(url, process)
            meaningful, contentful = measure(url, args.runs)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(f"first meaningful paint (table drawn), median of {args.runs}: {statistics.median(meaningful):.0f} ms")
    print(f"  runs: {', '.join(f'{value:.0f}' for value in meaningful)} ms")
    print(f"first contentful paint, median: {statistics.median(contentful):.0f} ms")


if __name__ == "__main__":
    main()

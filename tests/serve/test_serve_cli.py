"""``kubetally serve`` on the command line: help, bad flags, and a real server process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from kubetally.domain.window import parse_duration
from kubetally.errors import InvalidParameter
from tests.runner import kubetally
from tests.serve.test_prometheus_scrapes_serve import free_port, wait_until

KUBETALLY = Path(sys.executable).with_name("kubetally")


def test_help_shows_examples(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    run = kubetally(capsys, monkeypatch, "serve", "--help")
    assert run.code == 0
    assert "--prometheus-url" in run.out and "--backfill" in run.out
    assert "kubetally serve --db costs.duckdb --prometheus-url http://prometheus:9090" in run.out


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--backfill", "seven days"], "--backfill"),
        (["--interval", "0s"], "--interval"),
        (["--prometheus-url", "prometheus:9090"], "prometheus_url"),
    ],
)
def test_bad_flags_are_one_error_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    small_ledger: Path,
    flags: list[str],
    named: str,
) -> None:
    run = kubetally(capsys, monkeypatch, "serve", "--db", str(small_ledger), *flags)
    assert run.code == 2
    assert run.err.startswith("error:") and named in run.err
    assert len(run.err.strip().splitlines()) == 1


def test_a_missing_ledger_without_prometheus_is_an_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = kubetally(capsys, monkeypatch, "serve", "--db", str(tmp_path / "absent.duckdb"))
    assert run.code == 2 and run.err.startswith("error: db:")


def test_durations() -> None:
    assert parse_duration("7d", "--backfill").total_seconds() == 7 * 86400
    assert parse_duration("90s", "--interval").total_seconds() == 90
    with pytest.raises(InvalidParameter, match="--backfill"):
        parse_duration("7 days", "--backfill")


def test_the_serve_process_answers_metrics(tmp_path: Path, small_ledger: Path) -> None:
    copy = tmp_path / "served.duckdb"
    copy.write_bytes(small_ledger.read_bytes())
    port = free_port()
    process = subprocess.Popen(
        [str(KUBETALLY), "serve", "--db", str(copy), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:

        def healthy() -> bool:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until("kubetally serve", healthy)
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'node_total_hourly_cost{arch="amd64",cluster_id="small"' in metrics
        assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()["ready"] is True
    finally:
        process.terminate()
        process.wait(timeout=30)

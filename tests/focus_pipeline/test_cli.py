"""``kubetally pipeline``: --once reports and exit codes, one-line errors, and the long-running /metrics server."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from kubetally.ledger import Ledger
from tests.focus_pipeline.conftest import DATA, SEED_BILL_PATH, BillApi, seed_api
from tests.runner import KUBETALLY, free_port, kubetally

SEED = str(DATA / "seed.yaml")


def test_once_polls_reports_and_exits_zero(
    bill_api: BillApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_api(bill_api)
    monkeypatch.setenv("BILLS_SERVER", bill_api.address)
    db = tmp_path / "ledger.duckdb"
    run = kubetally(capsys, monkeypatch, "pipeline", "--config", SEED, "--db", str(db), "--once")
    assert run.code == 0, run.err
    assert "finops/azure-costs" in run.out and "finops/vm-web-1-usage" in run.out
    assert "ignored: ProviderConfig finops/azure" in run.err
    assert "DatabaseConfig credentials are not used" in run.err
    with Ledger.open(db, read_only=True) as ledger:
        assert ledger.fetch("SELECT count(*) AS n FROM cloud_costs")["n"][0] == 3


def test_once_exits_one_when_an_endpoint_fails(
    bill_api: BillApi, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_api(bill_api)
    bill_api.routes[SEED_BILL_PATH].token = "rotated-elsewhere"
    monkeypatch.setenv("BILLS_SERVER", bill_api.address)
    run = kubetally(capsys, monkeypatch, "pipeline", "--config", SEED, "--db", str(tmp_path / "l.duckdb"), "--once")
    assert run.code == 1
    assert "failed" in run.out and "401" in run.out


@pytest.mark.parametrize(
    ("extra", "environ", "needle"),
    [
        ([], {}, "environment variable BILLS_SERVER is not set"),
        (["--secrets-dir", "/nonexistent/secrets"], {"BILLS_SERVER": "x"}, "--secrets-dir: /nonexistent/secrets"),
    ],
)
def test_configuration_errors_are_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    environ: dict[str, str],
    needle: str,
) -> None:
    monkeypatch.delenv("BILLS_SERVER", raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    args = ["pipeline", "--config", SEED, "--db", str(tmp_path / "l.duckdb"), "--once", *extra]
    run = kubetally(capsys, monkeypatch, *args)
    assert run.code == 2
    assert run.err.startswith("error:") and needle in run.err
    assert not (tmp_path / "l.duckdb").exists()


def test_long_running_pipeline_serves_billed_cost(bill_api: BillApi, tmp_path: Path) -> None:
    seed_api(bill_api)
    port = free_port()
    log = tmp_path / "pipeline.log"
    args = ["pipeline", "--config", SEED, "--db", str(tmp_path / "l.duckdb"), "--metrics-port", str(port)]
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(KUBETALLY), *args],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "BILLS_SERVER": bill_api.address},
        )
    try:
        samples: list[Sample] = []
        deadline = time.monotonic() + 30
        while not samples:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"kubetally pipeline did not serve billed_cost:\n{log.read_text()}")
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
                families = {f.name: f for f in text_string_to_metric_families(text)}
                samples = families["billed_cost"].samples if "billed_cost" in families else []
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        assert sorted(s.labels["ResourceName"] for s in samples) == ["disk-web-1", "ip-web-1", "vm-web-1"]
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=10)
    assert code == 0, log.read_text()

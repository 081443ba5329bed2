"""``kubetally serve --pipeline-config``: one process serves the API and polls the cloud bill into its ledger."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.focus_pipeline.conftest import DATA, BillApi, seed_api
from tests.runner import serving

SEED = str(DATA / "seed.yaml")


def _eventually(url: str, ready: str, timeout: float = 20.0) -> httpx.Response:
    """GET ``url`` until its body contains ``ready``."""
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(url, timeout=5)
        if ready in response.text or time.monotonic() > deadline:
            return response
        time.sleep(0.2)


def test_serve_polls_the_bill_into_the_ledger_it_serves(
    bill_api: BillApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed_api(bill_api)
    monkeypatch.setenv("BILLS_SERVER", bill_api.address)  # inherited by the serve process
    db = tmp_path / "served.duckdb"
    with serving(["--db", str(db), "--pipeline-config", SEED], tmp_path / "serve.log") as url:
        status = _eventually(f"{url}/cloudCost/status", '"rows"')
        assert status.status_code == 200, status.text
        (source,) = status.json()["data"]
        assert source["rows"] == 3
        metrics = _eventually(f"{url}/metrics", "billed_cost").text
        billed = [
            sample
            for family in text_string_to_metric_families(metrics)
            if family.name == "billed_cost"
            for sample in family.samples
        ]
        assert len(billed) == 3
        totals = httpx.get(
            f"{url}/cloudCost/view/totals", params={"window": "2026-11-01T00:00:00Z,2026-12-01T00:00:00Z"}
        )
        assert totals.status_code == 200, totals.text
        assert totals.json()["data"]["combined"]["cost"] == pytest.approx(sum(s.value for s in billed))

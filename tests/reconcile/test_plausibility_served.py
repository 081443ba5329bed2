"""A real ``kubetally serve`` over a ledger whose bill was implausible: the held-back node is served at its
estimate, the plausible ones at their billed cost, until ``kubetally reconcile --accept``."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from kubetally.focus.reconcile import reconcile_bill
from kubetally.ledger import Ledger
from tests.reconcile.test_plausibility import INFLATED, _inflated_bill, _node_costs
from tests.runner import KUBETALLY, serving


def _served_node_costs(url: str, window: str) -> dict[str, float]:
    response = httpx.get(f"{url}/assets", params={"window": window, "accumulate": "true"}, timeout=60)
    assert response.status_code == 200, response.text
    assets = response.json()["data"]  # accumulate=true answers the one asset set, as OpenCost does
    return {
        f"{row['properties']['cluster']}/{row['properties']['name']}": row["totalCost"]
        for row in assets.values()
        if row["type"] == "Node"
    }


def test_serve_answers_the_estimate_of_a_held_back_node_until_accepted(ledger_path: Path, tmp_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        estimates = _node_costs(ledger)
        bill, _ = _inflated_bill(ledger)
        ledger.upsert_cloud_costs(bill)
        report = reconcile_bill(ledger, bill)
        assert report is not None and report.held.height == 1
        held = "/".join(report.held.select("cluster", "name").row(0))
    window = f"{report.start.isoformat()},{report.end.isoformat()}".replace("+00:00", "Z")
    with serving(["--db", str(ledger_path)], tmp_path / "serve.log") as url:
        served = _served_node_costs(url, window)
    assert served[held] == pytest.approx(estimates[held], rel=1e-6)
    assert all(served[n] == pytest.approx(estimates[n] * 1.07, rel=1e-6) for n in estimates if n != held)

    accept = [str(KUBETALLY), "reconcile", "--db", str(ledger_path), "--window", window, "--accept"]
    done = subprocess.run(accept, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    with serving(["--db", str(ledger_path)], tmp_path / "serve-accepted.log") as url:
        assert _served_node_costs(url, window)[held] == pytest.approx(estimates[held] * INFLATED, rel=1e-6)

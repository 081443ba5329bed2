"""The idle summary and right-sizing computations on hand-made allocation sets, and /mcp with auth off."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.errors import InvalidParameter
from kubetally.query.efficiency import efficiency_frame
from kubetally.query.idle_summary import IdleBy, idle_params, summarize_idle
from tests.mcp.test_auth_and_errors import INITIALIZE


def _row(total: float, cpu: float = 0.0, ram: float = 0.0, **fields: float) -> dict[str, float]:
    return {"totalCost": total, "cpuCost": cpu, "ramCost": ram, "gpuCost": 0.0, **fields}


def test_idle_summary_per_cluster() -> None:
    sets = [
        {
            "a": _row(30.0, cpu=20.0, ram=10.0),
            "a/__idle__": _row(10.0, cpu=4.0, ram=6.0),
            "b": _row(50.0, cpu=50.0),
            "b/__idle__": _row(10.0, cpu=10.0),
        }
    ]
    summary = summarize_idle(sets)
    assert (summary.overall.total_cost, summary.overall.idle_cost, summary.overall.idle_percent) == (100.0, 20.0, 20.0)
    cpu, ram, gpu = summary.resources
    assert (cpu.idle_cost, cpu.total_cost, cpu.idle_percent) == (14.0, 84.0, round(100 * 14 / 84, 4))
    assert (ram.idle_percent, gpu.idle_percent) == (37.5, None)
    assert [(g.name, g.total_cost, g.idle_percent) for g in summary.groups] == [("a", 40.0, 25.0), ("b", 60.0, 16.6667)]


def test_idle_params_split_idle_per_cluster_or_node() -> None:
    assert idle_params("7d", IdleBy.CLUSTER)["aggregate"] == "cluster"
    assert idle_params("7d", IdleBy.NODE).items() >= {"aggregate": "cluster,node", "idleByNode": "true"}.items()


def test_efficiency_recommends_usage_plus_headroom() -> None:
    fields = {"minutes": 60.0 * 73, "ramByteRequestAverage": 0.0, "ramByteUsageAverage": 0.0}
    over = _row(8.0, cpu=8.0, cpuCoreRequestAverage=4.0, cpuCoreUsageAverage=1.0, **fields)
    under = _row(6.0, cpu=6.0, cpuCoreRequestAverage=1.0, cpuCoreUsageAverage=3.0, **fields)
    frame = efficiency_frame([{"over": over, "under": under, "__idle__": _row(5.0)}], headroom=0.5)
    rows = {row["name"]: row for row in frame.to_dicts()}
    assert set(rows) == {"over", "under"}
    # over: billed on 4 cores, recommended 1.5 → cost 8 × 1.5 / 4 = 3, saving 5 over 73 h → 50 per 730 h
    assert rows["over"]["cpu_recommended_request"] == 1.5
    assert rows["over"]["cpu_efficiency"] == 0.25
    assert rows["over"]["saving"] == pytest.approx(5.0)
    assert rows["over"]["monthly_saving"] == pytest.approx(50.0)
    # under: billed on usage 3, recommended 4.5 → cost 9, saving −3
    assert rows["under"]["saving"] == pytest.approx(-3.0)
    assert rows["under"]["ram_efficiency"] is None
    assert frame.get_column("name").to_list() == ["over", "under"]
    with pytest.raises(InvalidParameter, match="headroom"):
        efficiency_frame([], headroom=-0.1)


def test_mcp_over_http_without_auth_answers_anyone(tmp_path: Path) -> None:
    app = create_app(tmp_path / "missing.duckdb")
    headers = {"Accept": "application/json, text/event-stream"}
    for _ in range(2):
        with TestClient(app) as client:
            response = client.post("/mcp", json=INITIALIZE, headers=headers)
            assert response.status_code == 200
            assert response.json()["result"]["serverInfo"]["name"] == "kubetally"
    stopped = TestClient(app).post("/mcp", json=INITIALIZE, headers=headers)
    assert stopped.status_code == 503
    assert stopped.json()["error"] == {"code": "unavailable", "message": "the MCP server is not running"}

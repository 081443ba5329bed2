"""``/metrics``, ``/healthz`` and ``/readyz`` through FastAPI's TestClient, over the ``small`` ledger."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from kubetally.api.app import create_app
from kubetally.api.follow_loop import FollowLoop
from kubetally.domain.policy import BillingPolicy
from kubetally.domain.pricing import PriceBook
from kubetally.errors import InvalidParameter
from kubetally.history import ClusterHistory
from kubetally.ingest import Follower
from kubetally.ledger import Ledger
from kubetally.sources import StaticSource
from tests.serve.conftest import WEB_POD, FlakySource, at

NODE = {"cluster_id", "instance", "node", "instance_type", "region", "provider_id", "arch"}
CONTAINER = {"cluster_id", "namespace", "pod", "container", "instance", "node"}
EXPECTED_LABELS = {
    "node_cpu_hourly_cost": NODE,
    "node_ram_hourly_cost": NODE,
    "node_gpu_hourly_cost": NODE,
    "node_total_hourly_cost": NODE,
    "node_gpu_count": NODE,
    "kubecost_node_is_spot": NODE,
    "pv_hourly_cost": {"cluster_id", "volumename", "persistentvolume", "provider_id"},
    "container_cpu_allocation": CONTAINER,
    "container_memory_allocation_bytes": CONTAINER,
    "container_gpu_allocation": CONTAINER,
    "kubecost_load_balancer_cost": {"cluster_id", "ingress_ip", "namespace", "service_name"},
    "kubecost_cluster_management_cost": {"cluster_id", "provisioner_name"},
    "kubecost_network_zone_egress_cost": {"cluster_id"},
    "kubecost_network_region_egress_cost": {"cluster_id"},
    "kubecost_network_internet_egress_cost": {"cluster_id"},
}


def scrape(client: TestClient) -> dict[str, list[Sample]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {family.name: family.samples for family in text_string_to_metric_families(response.text)}


def value(samples: list[Sample], **labels: str) -> float:
    matching = [s.value for s in samples if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matching) == 1, labels
    return matching[0]


def wait_for_a_step(loop: FollowLoop) -> None:
    """Until the follow loop's first step has finished (at most 30 s)."""
    deadline = time.monotonic() + 30
    while loop.steps == 0 and loop.last_error is None:
        assert time.monotonic() < deadline, "the follow loop never finished a step"
        time.sleep(0.02)


def test_metrics_has_every_family_with_its_exact_labels(small_ledger: Path, prices: PriceBook) -> None:
    with TestClient(create_app(small_ledger, prices=prices)) as client:
        scrape(client)
        families = scrape(client)
    for name, labels in EXPECTED_LABELS.items():
        assert families[name], name
        assert all(set(sample.labels) == labels for sample in families[name]), name
    assert value(families["node_total_hourly_cost"], node="node-a") == pytest.approx(0.24)
    assert value(families["kubecost_node_is_spot"], node="node-b") == 1.0
    cpu = [s.value for s in families["container_cpu_allocation"] if s.labels["pod"] == WEB_POD]
    assert sum(cpu) == pytest.approx(0.55)
    assert value(families["kubecost_network_internet_egress_cost"], cluster_id="small") == pytest.approx(0.10)
    assert {"kubetally_ingest_lag_seconds", "kubetally_query_duration_seconds", "kubetally_hours_written"} <= set(
        families
    )
    # the histogram is emitted before the scrape's own ledger read is observed: the second scrape counts the first
    counts = [s for s in families["kubetally_query_duration_seconds"] if s.name.endswith("_count")]
    assert value(counts) == 1.0


def test_health_and_readiness_of_a_served_ledger(small_ledger: Path, prices: PriceBook) -> None:
    with TestClient(create_app(small_ledger, prices=prices, clock=lambda: at(5))) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["ready"] is True
        families = scrape(client)
    # the latest complete hour ends at 03:00 and the clock says 05:00
    assert value(families["kubetally_ingest_lag_seconds"]) == 7200.0


def test_a_missing_ledger_is_not_ready_and_metrics_answers_503(tmp_path: Path) -> None:
    missing = tmp_path / "absent.duckdb"
    with TestClient(create_app(missing)) as client:
        assert client.get("/healthz").status_code == 200
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        metrics = client.get("/metrics")
    assert metrics.status_code == 503
    assert metrics.json()["error"]["code"] == "ledger_unavailable"
    assert str(missing) in metrics.json()["error"]["message"]


def test_bad_app_parameters_are_named(small_ledger: Path) -> None:
    with pytest.raises(InvalidParameter, match="interval"):
        create_app(small_ledger, interval_seconds=0)


def test_the_follow_loop_writes_hours_and_counts_them(
    tmp_path: Path, history: ClusterHistory, prices: PriceBook
) -> None:
    path = tmp_path / "follow.duckdb"
    source = FlakySource(StaticSource("sim", history), down={at(4)})
    clock = lambda: at(4, 30)  # noqa: E731
    with Ledger.open(path) as ledger:
        follower = Follower(source, ledger, prices, BillingPolicy(), backfill=timedelta(hours=4), clock=clock)
        app = create_app(path, follower=follower, interval_seconds=3600, clock=clock)
        with TestClient(app) as client:
            wait_for_a_step(app.state.kubetally.loop)
            families = scrape(client)
            ready = client.get("/readyz").json()
    assert value(families["kubetally_hours_written"]) == 4.0
    assert value(families["kubetally_ingest_errors"]) == 1.0
    assert value(families["node_total_hourly_cost"], node="node-a") == pytest.approx(0.24)
    assert ready["ready"] is True and "connection refused" in ready["last_error"]

"""The §7 metric values read from the ``small`` ledger, against the hand-computed numbers of docs/cost-model.md."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from kubetally.domain.pricing import PriceBook
from kubetally.history import ClusterHistory
from kubetally.ledger import Ledger
from kubetally.query.exposition import FAMILIES, QUERIES, latest_end, read_exposition
from tests.serve.conftest import WEB_POD, at, write_hours

GIB = 1024**3


@pytest.fixture
def ledger(small_ledger: Path) -> Iterator[Ledger]:
    with Ledger.open(small_ledger, read_only=True) as opened:
        yield opened


def rows(frame: pl.DataFrame, key: str, columns: tuple[str, ...]) -> dict[str, tuple[object, ...]]:
    return {row[0]: tuple(row[1:]) for row in frame.select(key, *columns).iter_rows()}


def test_node_prices_are_the_hand_computed_ones(ledger: Ledger, prices: PriceBook) -> None:
    nodes = read_exposition(ledger, prices).frames["nodes"]
    values = rows(
        nodes,
        "node",
        ("node_cpu_hourly_cost", "node_ram_hourly_cost", "node_gpu_hourly_cost", "node_total_hourly_cost"),
    )
    # node-a on-demand: $0.04/core-h, $0.005/GiB-h, 4 · 0.04 + 16 · 0.005 = $0.24/h; node-b spot: 0.01, 0.001, 0.028
    assert values["node-a"] == pytest.approx((0.04, 0.005, 0.0, 0.24))
    assert values["node-b"] == pytest.approx((0.01, 0.001, 0.0, 0.028))
    assert rows(nodes, "node", ("kubecost_node_is_spot", "node_gpu_count")) == {
        "node-a": (0.0, 0.0),
        "node-b": (1.0, 0.0),
    }
    labels = rows(nodes, "node", ("cluster_id", "instance", "instance_type", "region", "arch"))
    assert labels["node-a"] == ("small", "node-a", "m5.xlarge", "us-east-1", "amd64")
    assert nodes.filter(node="node-b").get_column("provider_id").item().startswith("aws:///us-east-1b/")


def test_volume_balancer_management_and_egress_prices(ledger: Ledger, prices: PriceBook) -> None:
    exposition = read_exposition(ledger, prices)
    # gp3 at $0.073/GiB-month = 0.073 / 730 = $0.0001/GiB-h, for both volumes
    volumes = rows(exposition.frames["volumes"], "persistentvolume", ("volumename", "pv_hourly_cost"))
    assert volumes == {"pv-db": ("pv-db", pytest.approx(0.0001)), "pv-orphan": ("pv-orphan", pytest.approx(0.0001))}
    balancers = exposition.frames["balancers"]
    assert balancers.select("ingress_ip", "namespace", "service_name").rows() == [("203.0.113.10", "shop", "web-lb")]
    assert balancers.get_column("kubecost_load_balancer_cost").item() == pytest.approx(0.025)
    assert exposition.frames["management"].get_column("kubecost_cluster_management_cost").item() == pytest.approx(0.1)
    assert exposition.egress.row(0) == ("small", 0.01, 0.02, 0.10)


def test_container_allocations_of_the_latest_hour(ledger: Ledger, prices: PriceBook) -> None:
    exposition = read_exposition(ledger, prices)
    assert exposition.latest_hours.rows() == [("small", at(2))]
    assert latest_end(exposition) == at(3)
    containers = exposition.frames["containers"]
    values = rows(
        containers, "container", ("pod", "node", "container_cpu_allocation", "container_memory_allocation_bytes")
    )
    # 02:00: db-0 ended at 01:30 and the job ran at 00:15–00:45, so three containers; max(request, usage) of each
    assert values == {
        "app": (WEB_POD, "node-a", pytest.approx(0.5), pytest.approx(1.5 * GIB)),
        "proxy": (WEB_POD, "node-a", pytest.approx(0.05), pytest.approx(0.25 * GIB)),
        "redis": ("cache-5sl68kxfn-bbb2w", "node-b", pytest.approx(1.5), pytest.approx(4 * GIB)),
    }
    assert containers.get_column("container_gpu_allocation").to_list() == [0.0, 0.0, 0.0]
    assert exposition.frames["claims"].is_empty()


def test_allocation_is_averaged_over_running_time_and_claims_report_volume_bytes(
    tmp_path: Path, history: ClusterHistory, prices: PriceBook
) -> None:
    # Hours 00:00 final and 01:00 final, 02:00 provisional: the latest complete hour is 01:00, where app ran
    # 0.9 h (0.45 core-h) and db-0 0.5 h (0.5 core-h, 2 GiB-h), so both average to their full allocation.
    path = write_hours(tmp_path / "partial.duckdb", history, prices, 2, provisional=(2,))
    with Ledger.open(path, read_only=True) as ledger:
        exposition = read_exposition(ledger, prices)
    assert exposition.latest_hours.rows() == [("small", at(1))]
    values = rows(
        exposition.frames["containers"], "container", ("container_cpu_allocation", "container_memory_allocation_bytes")
    )
    assert values["app"] == pytest.approx((0.5, 1.5 * GIB))
    assert values["postgres"] == pytest.approx((1.0, 4 * GIB))
    claims = exposition.frames["claims"]
    assert claims.select("namespace", "pod", "persistentvolumeclaim", "persistentvolume").rows() == [
        ("data", "db-0", "data-db-0", "pv-db")
    ]
    assert claims.get_column("pod_pvc_allocation").item() == 20 * GIB


def test_an_empty_ledger_has_no_series(tmp_path: Path, prices: PriceBook) -> None:
    with Ledger.open(tmp_path / "empty.duckdb") as ledger:
        exposition = read_exposition(ledger, prices)
    assert all(frame.is_empty() for frame in exposition.frames.values())
    assert latest_end(exposition) is None and exposition.egress.is_empty()


def test_every_family_reads_a_column_of_its_query(ledger: Ledger) -> None:
    exposition = read_exposition(ledger, None)
    for family in FAMILIES:
        assert family.query in QUERIES
        assert {"cluster_id", *family.labels, family.name} <= set(exposition.frames[family.query].columns), family.name

"""Cluster-scoped reads never open other clusters' partitions; ``serve --fleet`` and ``--publish-to``."""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from kubetally.errors import LedgerError
from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger, read_manifests
from kubetally.query import AllocationQuery, run_allocation
from kubetally.query.scope import Scope, scope_allocation
from tests.fleet.conftest import CLUSTERS, NOW, WINDOW, fleet_client
from tests.fleet.test_equality import assert_frames_close, grouped
from tests.runner import serving

SHOP_TOKEN = "tok-fleet-checkout-4b6d8f0a2c"


@pytest.fixture
def corrupted(fleet: Path, tmp_path: Path) -> Path:
    """A copy of the fleet whose partitions of every cluster but the first are unreadable garbage."""
    copy = tmp_path / "fleet"
    shutil.copytree(fleet, copy)
    for manifest in read_manifests(str(copy)):
        if manifest.cluster != CLUSTERS[0]:
            (copy / manifest.path).write_bytes(b"not parquet")
    return copy


def test_a_cluster_scoped_store_never_opens_other_clusters_files(corrupted: Path, ledgers: dict[str, Path]) -> None:
    query = AllocationQuery.from_params({"window": WINDOW, "aggregate": "namespace", "includeIdle": "true"}, NOW)
    with pytest.raises(LedgerError):
        FleetLedger(str(corrupted)).fetch("SELECT count(*) FROM allocations")
    with FleetLedger(str(corrupted), clusters=frozenset({CLUSTERS[0]})) as scoped:
        assert {m.cluster for m in scoped.manifests} == {CLUSTERS[0]}
        with Ledger.open(ledgers[CLUSTERS[0]], read_only=True) as ledger:
            assert_frames_close(grouped(scoped, query), grouped(ledger, query), ["set_idx", "name"])


def test_serve_fleet_answers_allocation_by_cluster(fleet: Path, tmp_path: Path) -> None:
    with serving(["--fleet", str(fleet)], tmp_path / "serve.log") as url:
        body = httpx.get(
            f"{url}/allocation", params={"window": WINDOW, "aggregate": "cluster", "accumulate": "true"}, timeout=30
        ).json()
        bad = httpx.get(f"{url}/allocation", params={"window": "nonsense"}, timeout=30)
    assert body["code"] == 200
    assert set(body["data"][0]) == {*CLUSTERS, "__idle__"}
    assert all(row["totalCost"] > 0 for row in body["data"][0].values())
    assert bad.status_code == 400


def test_serve_publish_to_publishes_the_served_ledger(ledgers: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "published"
    db = tmp_path / "ledger.duckdb"
    shutil.copyfile(ledgers[CLUSTERS[1]], db)
    with serving(["--db", str(db), "--publish-to", str(target), "--interval", "1s"], tmp_path / "serve.log"):
        for _ in range(100):
            if read_manifests(str(target)) and any(m.table == "allocations" for m in read_manifests(str(target))):
                break
            time.sleep(0.2)
    manifests = read_manifests(str(target))
    assert {m.cluster for m in manifests} == {CLUSTERS[1]}
    assert {"allocations", "assets", "allocations_daily"} <= {m.table for m in manifests}


@pytest.mark.parametrize("aggregate", ["namespace", "cluster,namespace"])
def test_a_namespace_scoped_identity_sees_its_namespace_across_the_fleet(
    aggregate: str, fleet: Path, ledgers: dict[str, Path]
) -> None:
    """Its rows, in every cluster, with idle shared onto them per cluster: the sum of each ledger's scoped answer."""
    params = {"window": WINDOW, "aggregate": aggregate, "accumulate": "true"}
    scoped = scope_allocation(AllocationQuery.from_params(params, NOW), Scope(namespaces=frozenset({"checkout"})))
    want: dict[str, float] = defaultdict(float)
    for path in ledgers.values():
        with Ledger.open(path, read_only=True) as ledger:
            for name, row in run_allocation(ledger, scoped)[0].items():
                want[name] += row["totalCost"]
    with fleet_client(fleet, SHOP_TOKEN, namespaces=["checkout"]) as client:
        response = client.get("/allocation", params=params)
    assert response.status_code == 200, response.text
    got = response.json()["data"][0]
    expected = {"checkout"} if aggregate == "namespace" else {f"{c}/checkout" for c in CLUSTERS}
    assert sorted(got) == sorted(want) == sorted(expected)
    for name, total in want.items():
        assert got[name]["totalCost"] == pytest.approx(total, abs=1e-4), name

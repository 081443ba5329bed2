"""Three simulated clusters, each costed into its own ledger with its cloud bill reconciled, published to one fleet."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator, token_digest
from kubetally.cli.ingest import ingest_simulation
from kubetally.focus.read import read_focus
from kubetally.focus.reconcile import reconcile_bill
from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger
from kubetally.ledger.publish import publish
from kubetally.ledger.spark import SparkEngine
from kubetally.settings import Settings, load_settings
from kubetally.sources.simulator import load_scenario, simulate, simulated_bill

CLUSTERS = ("fleet-a", "fleet-b", "fleet-c")
START = datetime(2026, 3, 1, 13, tzinfo=UTC)
HOURS = 40
"""From 13:00 on day one to 05:00 on day three: two partial days and one whole day."""
NOW = datetime(2026, 3, 10, tzinfo=UTC)
WINDOW = "2026-03-01T00:00:00Z,2026-03-04T00:00:00Z"


@contextmanager
def fleet_client(fleet: Path, token: str | None = None, **scope: list[str]) -> Iterator[TestClient]:
    """The API served over the fleet store at ``fleet``, its clock at :data:`NOW`; with ``token``, that bearer
    token is the one identity, scoped by ``scope`` (``clusters=[...]`` or ``namespaces=[...]``)."""
    auth = None
    if token is not None:
        entry = {"name": "scoped", "token_sha256": token_digest(token), **scope}
        auth = Authenticator.from_settings(Settings(tokens=[entry]))
    with (
        FleetLedger(str(fleet)) as store,
        TestClient(create_app(fleet, clock=lambda: NOW, auth=auth, fleet=store)) as client,
    ):
        if token is not None:
            client.headers["Authorization"] = f"Bearer {token}"
        yield client


def build_ledger(db: Path, cluster: str, seed: int) -> Path:
    """One cluster of the demo scenario, renamed and reseeded, costed into ``db`` with its bill reconciled."""
    scenario = load_scenario("demo")
    only = scenario.clusters[0].model_copy(update={"name": cluster})
    renamed = scenario.model_copy(update={"clusters": [only], "name": cluster})
    sim = simulate(renamed, seed=seed, start=START, hours=HOURS, now=NOW)
    ingest_simulation(load_settings(None, db=db), sim, Console(quiet=True))
    batch = read_focus(simulated_bill(sim).write_csv().encode(), f"{cluster}-bill.csv")
    with Ledger.open(db) as ledger:
        ledger.upsert_cloud_costs(batch.frame)
        reconcile_bill(ledger, batch.frame)
    return db


@pytest.fixture(scope="session")
def ledgers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ledgers")
    return {name: build_ledger(root / f"{name}.duckdb", name, seed) for seed, name in enumerate(CLUSTERS, 1)}


def publish_all(ledgers: dict[str, Path], fleet: Path) -> None:
    for path in ledgers.values():
        with Ledger.open(path, read_only=True) as ledger:
            publish(ledger, str(fleet), now=NOW)


@pytest.fixture(scope="session")
def fleet(ledgers: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet"
    publish_all(ledgers, path)
    return path


FAST_CONFIG = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
}
"""Settings for a fast test on a tiny fleet: few shuffle partitions, no adaptive re-planning, no whole-stage code
generation (compiling it costs more than the rows), and a JVM tuned for a short life. Results do not depend on
them."""


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[SparkEngine]:
    """One real Spark (``local[2]``) for every Spark test."""
    engine = SparkEngine("local[2]", config=FAST_CONFIG)
    yield engine
    engine.session.stop()

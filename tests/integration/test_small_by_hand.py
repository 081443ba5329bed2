"""Every hand-computed number of docs/cost-model.md's ``small`` section, checked against the engine and the truth.

The numbers are parsed from the document itself, so the document cannot drift from what the code computes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute
from kubetally.sources.simulator import (
    Simulation,
    ground_truth,
    load_scenario,
    scenario_pricebook,
    simulate,
    to_history,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "cost-model.md"
SECTION = "## The `small` scenario, by hand"
START = datetime(2026, 1, 1, tzinfo=UTC)
Table = list[dict[str, str]]


def doc_tables() -> dict[str, Table]:
    """The markdown tables of the section, keyed by their first two header cells."""
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"{DOC} lacks the section {SECTION!r}"
    lines = text.split(SECTION, 1)[1].split("\n## ", 1)[0].splitlines()
    tables: dict[str, Table] = {}
    block: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            block.append([cell.strip() for cell in line.strip().strip("|").split("|")])
            continue
        if block:
            header, rows = block[0], block[2:]
            tables[" / ".join(header[:2]) if header[0] == "hour" else header[0]] = [
                dict(zip(header, row, strict=True)) for row in rows
            ]
            block = []
    return tables


TABLES = doc_tables()


@pytest.fixture(scope="module")
def small() -> Simulation:
    return simulate(load_scenario("small"), start=START, now=START + timedelta(days=30))


@pytest.fixture(scope="module", params=["engine", "ground truth"])
def truth(request: pytest.FixtureRequest, small: Simulation) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(allocations, assets) of ``small`` from the engine, then from the simulator's ground truth."""
    prices = scenario_pricebook(load_scenario("small"))
    if request.param == "engine":
        result = compute(to_history(small), prices, BillingPolicy())
        return result.allocations, result.assets
    reference = ground_truth(small, prices, BillingPolicy())
    return reference.allocations, reference.assets


def hour(sim: Simulation, label: str) -> object:
    hours, minutes = label.split(":")
    return sim.start + timedelta(hours=int(hours), minutes=int(minutes))


def close(actual: float, expected: str, what: str) -> None:
    assert actual == pytest.approx(float(expected), rel=1e-9, abs=1e-12), what


def test_the_doc_has_every_table() -> None:
    assert set(TABLES) == {
        "hour / namespace",
        "hour / idle node",
        "hour / unmounted namespace",
        "namespace",
        "asset type",
    }


def test_containers(small: Simulation, truth: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    allocations = truth[0].filter(pl.col("kind") == "workload")
    expected = TABLES["hour / namespace"]
    assert allocations.height == len(expected)
    columns = {
        "CPU core-h": "cpu_core_hours",
        "CPU $": "cpu_cost",
        "CPU adj $": "cpu_cost_adjustment",
        "RAM $": "ram_cost",
        "PV $": "pv_cost",
        "network $": "network_cost",
        "LB $": "load_balancer_cost",
        "total $": "total_cost",
    }
    for row in expected:
        match = allocations.filter(
            (pl.col("hour") == hour(small, row["hour"]))
            & (pl.col("namespace") == row["namespace"])
            & (pl.col("pod") == row["pod"])
            & (pl.col("container") == row["container"])
        )
        assert match.height == 1, row
        got = match.row(0, named=True)
        assert got["node"] == row["node"]
        for doc_column, column in columns.items():
            close(got[column], row[doc_column], f"{row['hour']} {row['container']} {doc_column}")
        close(got["ram_byte_hours"] / 2**30, row["RAM GiB-h"], f"{row['hour']} {row['container']} RAM GiB-h")


def test_idle(small: Simulation, truth: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    idle = truth[0].filter(pl.col("kind") == "idle")
    expected = TABLES["hour / idle node"]
    assert idle.height == len(expected)
    for row in expected:
        got = idle.filter((pl.col("hour") == hour(small, row["hour"])) & (pl.col("node") == row["idle node"]))
        assert got.height == 1, row
        for doc_column, column in {"CPU $": "cpu_cost", "RAM $": "ram_cost", "total $": "total_cost"}.items():
            close(got.item(0, column), row[doc_column], f"idle {row} {doc_column}")


def test_unmounted(small: Simulation, truth: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    unmounted = truth[0].filter(pl.col("kind") == "unmounted")
    expected = TABLES["hour / unmounted namespace"]
    assert unmounted.height == len(expected)
    for row in expected:
        namespace = row["unmounted namespace"]
        where = pl.col("namespace").is_null() if namespace == "(none)" else pl.col("namespace") == namespace
        got = unmounted.filter((pl.col("hour") == hour(small, row["hour"])) & where)
        assert got.height == 1, row
        for doc_column, column in {"PV $": "pv_cost", "LB $": "load_balancer_cost", "total $": "total_cost"}.items():
            close(got.item(0, column), row[doc_column], f"unmounted {row} {doc_column}")


def test_namespaces(truth: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    totals = dict(
        truth[0].filter(pl.col("kind") == "workload").group_by("namespace").agg(pl.col("total_cost").sum()).iter_rows()
    )
    expected = TABLES["namespace"]
    assert set(totals) == {row["namespace"] for row in expected}
    for row in expected:
        close(totals[row["namespace"]], row["workload total $"], f"namespace {row['namespace']}")


def test_assets(small: Simulation, truth: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    assets = truth[1]
    expected = TABLES["asset type"]
    assert assets.height == 3 * len(expected)
    for row in expected:
        rows = assets.filter((pl.col("type") == row["asset type"]) & (pl.col("name") == row["asset name"]))
        for label in ("00:00", "01:00", "02:00"):
            got = rows.filter(pl.col("hour") == hour(small, label))
            assert got.height == 1, (row, label)
            close(got.item(0, "total_cost"), row[label], f"asset {row['asset name']} {label}")
        close(float(rows["total_cost"].sum()), row["total $"], f"asset {row['asset name']} total")

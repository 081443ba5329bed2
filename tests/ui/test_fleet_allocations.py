"""The Allocations page served from a fleet (``serve --fleet``), in headless Chromium: by cluster and across them."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page

from kubetally.ledger import Ledger
from kubetally.query import AllocationQuery, run_allocation
from tests.ui.conftest import ConsoleLog, api_set, ready

IDLE = "__idle__"


def money(value: float) -> str:
    return f"${value:,.2f}"


def shown(page: Page) -> dict[str, str]:
    """The table's rows: name → the Total cell, as displayed."""
    rows: list[list[str]] = page.eval_on_selector(
        "#table tbody", "body => [...body.rows].map(row => [row.cells[0].textContent, row.lastChild.textContent])"
    )
    return {name: total for name, total in rows}


def test_the_fleet_allocations_page_shows_each_cluster_and_sums_namespaces_over_clusters(
    page: Page, fleet_server: str, demo_ledger: Path, console: ConsoleLog
) -> None:
    # A whole day two days back: inside the demo ledger's 7 days and closed, so published, whenever this runs.
    day = (datetime.now(UTC) - timedelta(days=2)).date()
    window = f"{day}T00:00:00Z,{day + timedelta(days=1)}T00:00:00Z"
    params = {"window": window, "idle": "separate", "accumulate": "true"}
    by_cluster = api_set(fleet_server, "/allocation", {**params, "aggregate": "cluster"})
    with Ledger.open(demo_ledger, read_only=True) as ledger:
        own = run_allocation(ledger, AllocationQuery.from_params({**params, "aggregate": "cluster"}, datetime.now(UTC)))
    clusters = sorted(name for name in own[0] if name != IDLE)
    assert len(clusters) == 2 and sorted(by_cluster) == sorted(own[0])
    for name, row in own[0].items():
        assert by_cluster[name]["totalCost"] == pytest.approx(row["totalCost"], abs=1e-6), name

    page.goto(f"{fleet_server}/?window=custom&from={day}&to={day}&aggregate=cluster")
    ready(page)
    assert shown(page) == {name: money(float(str(row["totalCost"]))) for name, row in by_cluster.items()}

    page.select_option("#aggregate", "namespace")
    ready(page)
    assert console == []
    pairs = api_set(fleet_server, "/allocation", {**params, "aggregate": "cluster,namespace"})
    across: dict[str, float] = defaultdict(float)
    for name, row in pairs.items():
        namespace = IDLE if name == IDLE else name.split("/", 1)[1]
        across[namespace] += float(str(row["totalCost"]))
    assert {name.split("/", 1)[0] for name in pairs if name != IDLE} == set(clusters)
    assert any(sum(name.endswith("/" + namespace) for name in pairs) == 2 for namespace in across), (
        "a namespace runs on both clusters"
    )
    assert shown(page) == {name: money(total) for name, total in across.items()}
    everything = sum(float(str(row["totalCost"])) for row in by_cluster.values())
    assert page.locator("#table tfoot td").last.inner_text() == money(everything)

"""The Cloud costs page: charts and a table from ingested FOCUS rows, its empty state without any, no console errors.

The expected figures come from the bill frame (Polars), not from the API the page reads.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from kubetally.ledger import Ledger
from tests.cloud.bill import bill, ledger_frame
from tests.runner import serving
from tests.ui.conftest import SCREENSHOTS, ConsoleLog, ready

DAYS = 4


@pytest.fixture(scope="module")
def billed(demo_ledger: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """A copy of the demo ledger with a daily bill over its last full days; two nodes and a disk are billed."""
    path = tmp_path_factory.mktemp("cloud-ui") / "billed.duckdb"
    shutil.copyfile(demo_ledger, path)
    with Ledger.open(path) as ledger:
        assets = ledger.fetch(
            "SELECT type, min(provider_id) AS first, max(provider_id) AS last FROM assets "
            "WHERE type IN ('Node', 'Disk') GROUP BY type"
        )
        bounds = ledger.bounds()
        assert bounds is not None
        ids = {row["type"]: (row["first"], row["last"]) for row in assets.iter_rows(named=True)}
        keys = {"node-a": ids["Node"][0], "node-b": ids["Node"][1], "pv-db": ids["Disk"][0]}
        last_day = bounds[1].astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        frame = bill(
            {name: value.rsplit("/", 1)[-1] for name, value in keys.items()},
            start=last_day - timedelta(days=DAYS),
            periods=DAYS,
            period=timedelta(days=1),
        )
        ledger.upsert_cloud_costs(ledger_frame(frame))
    return path, frame


@pytest.fixture(scope="module")
def cloud_server(billed: tuple[Path, pl.DataFrame]) -> Iterator[str]:
    path = billed[0]
    with serving(["--db", str(path)], path.with_name("serve.log")) as url:
        yield url


def test_charts_and_table_show_the_bill(
    page: Page, cloud_server: str, billed: tuple[Path, pl.DataFrame], console: ConsoleLog
) -> None:
    frame = billed[1]
    page.goto(cloud_server + "/ui/cloud?window=30d&aggregate=service")
    ready(page)
    assert console == []
    expect(page.locator("#cloud-empty")).to_be_hidden()
    by_service = dict(frame.group_by("ServiceName").agg(pl.col("EffectiveCost").sum()).iter_rows())
    names = page.locator("#table tbody tr td:first-child").all_inner_texts()
    assert sorted(names) == sorted(by_service)
    costs = page.locator("#table tbody tr td:last-child").all_inner_texts()
    assert dict(zip(names, costs, strict=True)) == {name: f"${cost:,.2f}" for name, cost in by_service.items()}
    total = float(frame["EffectiveCost"].sum())
    assert page.locator("#cards [data-card='total'] .value").inner_text() == f"${total:,.2f}"
    kubernetes = float(frame.filter(pl.col("kubernetes"))["EffectiveCost"].sum())
    share = page.locator("#cards [data-card='kubernetes'] .value").inner_text()
    assert share == f"{kubernetes / total * 100:.1f}%"
    expect(page.locator("#chart-time .main-svg").first).to_be_visible()
    assert page.locator("#chart-time g.trace.bars").count() == len(by_service)
    expect(page.locator("#chart-breakdown .pielayer")).to_have_count(1)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "cloud.png"), full_page=True)


def test_a_filter_matching_nothing_says_so(page: Page, cloud_server: str, console: ConsoleLog) -> None:
    page.goto(cloud_server + '/ui/cloud?window=30d&filter=service:"Nothing+Here"')
    ready(page)
    assert console == []
    expect(page.locator("#status")).to_contain_text("No cloud bill rows match")
    expect(page.locator("#table tbody tr")).to_have_count(0)


def test_empty_state_without_bill_rows(page: Page, server: str, console: ConsoleLog) -> None:
    page.goto(server + "/ui/cloud")
    ready(page)
    expect(page.locator("#cloud-empty")).to_be_visible()
    expect(page.locator("#cloud-empty h2")).to_have_text("No cloud bill connected yet")
    expect(page.locator("#cloud-content")).to_be_hidden()
    assert console == []

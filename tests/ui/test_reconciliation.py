"""The Cloud costs page's "Estimate vs bill" section: a chart and a table matching ``/reconciliation`` on a billed
demo ledger, its empty state on an unbilled one, no console errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.runner import demo_ledger_at, serving
from tests.ui.conftest import SCREENSHOTS, ConsoleLog, ready

WINDOW = "30d"


@pytest.fixture(scope="module")
def billed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``kubetally serve`` on the demo ledger with its simulated bill ingested and reconciled."""
    path = demo_ledger_at(tmp_path_factory.mktemp("reconciliation-ui") / "billed.duckdb", bill=True)
    with serving(["--db", str(path)], path.with_name("serve.log")) as url:
        yield url


def report(base: str) -> dict[str, Any]:
    response = httpx.get(f"{base}/reconciliation", params={"window": WINDOW}, timeout=30)
    response.raise_for_status()
    data: dict[str, Any] = response.json()["data"]
    return data


def money(value: float) -> str:
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def test_chart_and_table_match_the_api(page: Page, billed_server: str, console: ConsoleLog) -> None:
    page.goto(f"{billed_server}/ui/cloud?window={WINDOW}")
    ready(page)
    assert console == []
    data = report(billed_server)
    assets, totals = data["assets"], data["totals"]
    assert assets, "the demo bill reconciles no node or disk"
    expect(page.locator("#recon h2")).to_have_text("Estimate vs bill — nodes and disks")
    expect(page.locator("#recon-empty")).to_be_hidden()
    expect(page.locator("#recon-table tbody tr")).to_have_count(len(assets))
    footer = page.locator("#recon-table tfoot td").all_inner_texts()
    assert footer[0] == "Total"
    assert footer[3] == str(sum(row["hours"] for row in assets))
    assert footer[4:7] == [money(totals["estimate"]), money(totals["bill"]), money(totals["difference"])]
    assert footer[7] == f"{totals['difference'] / totals['estimate'] * 100:.1f}%"
    names = page.locator("#recon-table tbody tr td:nth-child(3)").all_inner_texts()
    assert sorted(names) == sorted(row["name"] for row in assets)
    expect(page.locator("#recon-chart .main-svg").first).to_be_visible()
    expect(page.locator("#recon-chart g.trace.bars")).to_have_count(1)
    expect(page.locator("#recon-chart g.trace.bars g.point")).to_have_count(min(12, len(assets)))
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#recon").screenshot(path=str(SCREENSHOTS / "cloud-reconciliation.png"))


def test_sorting_the_table_keeps_its_rows_and_url_state(page: Page, billed_server: str, console: ConsoleLog) -> None:
    page.goto(f"{billed_server}/ui/cloud?window={WINDOW}")
    ready(page)
    page.locator("#recon-table thead button[data-key='name']").click()
    assert "rsort=name" in page.url
    names = page.locator("#recon-table tbody tr td:nth-child(3)").all_inner_texts()
    assert names == sorted(names, reverse=True)
    assert len(names) == len(report(billed_server)["assets"])
    assert console == []


def test_empty_state_on_an_unbilled_ledger(page: Page, server: str, console: ConsoleLog) -> None:
    page.goto(f"{server}/ui/cloud?window={WINDOW}")
    ready(page)
    assert report(server)["assets"] == []
    expect(page.locator("#recon")).to_be_visible()
    expect(page.locator("#recon-empty")).to_be_visible()
    expect(page.locator("#recon-empty")).to_contain_text("No node or disk is billed in this window")
    expect(page.locator("#recon-body")).to_be_hidden()
    expect(page.locator("#recon-table tbody tr")).to_have_count(0)
    assert console == []

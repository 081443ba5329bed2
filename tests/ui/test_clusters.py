"""The Clusters page over a published fleet: one row per cluster, totals and publication times from /clusters."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.ui.conftest import ConsoleLog, ready


def test_clusters_page_lists_every_published_cluster_with_its_cost(
    page: Page, fleet_server: str, console: ConsoleLog
) -> None:
    answer = httpx.get(f"{fleet_server}/clusters", params={"window": "7d"}, timeout=30).json()["data"]
    assert len(answer) == 2 and all(row["lastPublished"] for row in answer)
    page.goto(fleet_server + "/ui/clusters")
    ready(page)
    assert console == []
    shown = page.locator("#table-clusters tbody tr td:first-child").all_inner_texts()
    assert sorted(shown) == sorted(row["cluster"] for row in answer)
    total = sum(row["totalCost"] for row in answer)
    assert page.locator("#cards [data-card='total'] .value").inner_text() == f"${total:,.2f}"
    expect(page.locator("#chart .main-svg").first).to_be_visible(timeout=30_000)

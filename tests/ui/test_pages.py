"""The Assets and Cloud costs pages, and signing in when authentication is on."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, Request, expect

from tests.ui.conftest import PASSWORD, SCREENSHOTS, USER, ConsoleLog, api_set, ready


def test_assets_lists_every_node_and_is_saved_as_a_screenshot(page: Page, server: str, console: ConsoleLog) -> None:
    page.goto(server + "/ui/assets")
    ready(page)
    assert console == []
    assets = api_set(server, "/assets", {"window": "7d", "accumulate": "true"})
    nodes = {str(row["properties"]["name"]) for row in assets.values() if row["type"] == "Node"}  # type: ignore[index]
    shown = set(page.locator("#table-node tbody tr td:first-child").all_inner_texts())
    assert shown == nodes
    total = sum(float(str(row["totalCost"])) for row in assets.values())
    assert page.locator("#cards [data-card='total'] .value").inner_text() == f"${total:,.2f}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "assets.png"), full_page=True)


def test_assets_aggregate_by_type(page: Page, server: str) -> None:
    page.goto(server + "/ui/assets?aggregate=type")
    ready(page)
    types = api_set(server, "/assets", {"window": "7d", "accumulate": "true", "aggregate": "type"})
    assert set(page.locator("#table-aggregate tbody tr td:first-child").all_inner_texts()) == set(types)


def test_cloud_costs_explains_its_empty_state(page: Page, server: str, console: ConsoleLog) -> None:
    page.goto(server + "/ui/cloud")
    expect(page.locator("#cloud-empty h2")).to_have_text("No cloud bill connected yet")
    assert console == []


def test_login_is_required_when_auth_is_on(page: Page, auth_server: str) -> None:
    assert httpx.get(f"{auth_server}/allocation", params={"window": "1d"}).status_code == 401
    sent: list[str | None] = []

    def record(request: Request) -> None:
        if "/allocation" in request.url:
            sent.append(request.headers.get("authorization"))

    page.on("request", record)
    page.goto(auth_server + "/")
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#table tbody tr")).to_have_count(0)
    page.fill("#login-user", USER)
    page.fill("#login-password", "wrong")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    page.fill("#login-user", USER)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    ready(page)
    expect(page.locator("#login")).to_be_hidden()
    expect(page.locator("#who")).to_have_text(f"Signed in as {USER}")
    answer = api_set(
        auth_server,
        "/allocation",
        {"window": "7d", "aggregate": "namespace", "accumulate": "true"},
        auth=(USER, PASSWORD),
    )
    assert sorted(page.locator("#table tbody tr td:first-child").all_inner_texts()) == sorted(answer)
    assert sent and all(header is None for header in sent), "API calls ride on the session cookie, not Basic"
    assert [cookie["name"] for cookie in page.context.cookies()] == ["kubetally_session"]

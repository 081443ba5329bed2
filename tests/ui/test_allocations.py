"""The Allocations page against a real ``kubetally serve`` on the demo ledger, in headless Chromium."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import Page, expect

from tests.ui.conftest import SCREENSHOTS, ConsoleLog, api_set, ready

WINDOW = "7d"


def money(value: float) -> str:
    return f"${value:,.2f}"


def table_names(page: Page) -> list[str]:
    return page.locator("#table tbody tr td:first-child").all_inner_texts()


def test_page_loads_without_console_errors_and_is_saved_as_a_screenshot(
    page: Page, server: str, console: ConsoleLog
) -> None:
    page.goto(server + "/")
    ready(page)
    assert console == []
    expect(page.locator("#cards [data-card='total'] .value")).not_to_have_text("")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "allocations.png"), full_page=True)


def test_table_rows_and_totals_equal_the_api_for_the_same_query(page: Page, server: str) -> None:
    page.goto(server + "/?idle=share")
    ready(page)
    answer = api_set(
        server, "/allocation", {"window": WINDOW, "aggregate": "namespace", "idle": "share", "accumulate": "true"}
    )
    assert sorted(table_names(page)) == sorted(answer)
    total = sum(float(str(row["totalCost"])) for row in answer.values())
    footer = page.locator("#table tfoot td").all_inner_texts()
    assert footer[0] == "Total"
    assert footer[-1] == money(total)
    assert page.locator("#cards [data-card='total'] .value").inner_text() == money(total)


def test_switching_aggregation_changes_the_table(page: Page, server: str) -> None:
    page.goto(server + "/")
    ready(page)
    before = table_names(page)
    page.select_option("#aggregate", "cluster")
    ready(page)
    clusters = api_set(server, "/allocation", {"window": WINDOW, "aggregate": "cluster", "accumulate": "true"})
    after = table_names(page)
    assert sorted(after) == sorted(clusters)
    assert after != before
    assert "aggregate=cluster" in page.url


def test_a_label_aggregation_lists_the_label_values(page: Page, server: str) -> None:
    page.goto(server + "/")
    ready(page)
    page.select_option("#aggregate", "label:team")
    ready(page)
    pods = api_set(server, "/allocation", {"window": WINDOW, "accumulate": "true", "idle": "hide"})
    teams = {
        labels["team"]
        for row in pods.values()
        if isinstance(props := row["properties"], dict) and isinstance(labels := props.get("labels"), dict)
        if "team" in labels
    }
    assert teams
    assert teams <= set(table_names(page))


def test_drill_down_reaches_a_container_and_breadcrumbs_lead_back(page: Page, server: str) -> None:
    page.goto(server + "/")
    ready(page)
    for level in ("controller", "pod", "container"):
        page.locator("#table tbody tr.drill").first.click()
        ready(page)
        expect(page.locator("#aggregate")).to_have_value(level)
    crumbs = page.locator("#crumbs button").all_inner_texts()
    assert [crumb.split(":")[0] for crumb in crumbs[1:]] == ["namespace", "controller", "pod"]
    pod = crumbs[-1].split(": ", 1)[1]
    containers = api_set(
        server,
        "/allocation",
        {"window": WINDOW, "aggregate": "container", "accumulate": "true", "idle": "hide", "filter": f'pod:"{pod}"'},
    )
    assert set(containers) <= set(table_names(page))
    page.locator("#crumbs button").first.click()
    ready(page)
    expect(page.locator("#aggregate")).to_have_value("namespace")
    assert "drill" not in page.url


def test_the_csv_download_holds_exactly_the_table(page: Page, server: str) -> None:
    page.goto(server + "/?aggregate=controller&sort=name&dir=asc")
    ready(page)
    with page.expect_download() as info:
        page.click("#csv")
    rows = list(csv.reader(io.StringIO(info.value.path().read_text())))
    shown = page.eval_on_selector(
        "#table", "table => [...table.rows].map(row => [...row.cells].map(cell => cell.textContent))"
    )
    assert rows == shown
    assert rows[0][0] == "Name"
    assert rows[-1][0] == "Total"
    assert len(rows) == len(table_names(page)) + 2


def test_the_state_lives_in_the_url(page: Page, server: str) -> None:
    page.goto(server + "/?aggregate=cluster&idle=hide&sort=name&dir=asc")
    ready(page)
    expect(page.locator("#aggregate")).to_have_value("cluster")
    expect(page.locator("#idle")).to_have_value("hide")
    names = table_names(page)
    assert names == sorted(names)
    assert not any(name.endswith("__idle__") for name in names)


def test_a_filter_chip_narrows_the_table(page: Page, server: str) -> None:
    page.goto(server + "/?idle=hide")
    ready(page)
    namespace = table_names(page)[0]
    page.select_option("#chip-field", "namespace")
    page.fill("#chip-value", namespace)
    page.click("#chip-add")
    ready(page)
    assert table_names(page) == [namespace]
    expect(page.locator("#chips li")).to_have_count(1)
    assert "chips=" in page.url


def test_a_bad_filter_shows_the_api_error(page: Page, server: str) -> None:
    page.goto(server + "/")
    ready(page)
    page.fill("#filter", 'namespace:"unterminated')
    page.click("#apply")
    expect(page.locator("#status.error")).to_contain_text("filter")


def test_the_page_fits_a_390_px_screen(page: Page, server: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server + "/")
    ready(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_change_card_refuses_a_partly_ingested_previous_period(page: Page, server: str) -> None:
    # The demo ledger holds exactly the last 7 days: the 7 days before them are (almost) empty, so a percentage
    # change would be meaningless; one day inside the ledger has a fully covered previous day.
    page.goto(server + "/")
    ready(page)
    change = page.locator("#cards [data-card='change']")
    expect(change.locator(".value")).to_have_text("n/a")
    expect(change.locator(".note")).to_contain_text("only partly in the ledger")
    page.goto(server + "/?window=yesterday")
    ready(page)
    expect(change.locator(".value")).to_have_text(re.compile(r"^[+-]?\d+\.\d%$"))

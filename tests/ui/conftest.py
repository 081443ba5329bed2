"""Fixtures of the UI's end-to-end tests: a demo ledger, real ``kubetally serve`` processes and headless Chromium."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from kubetally.api.auth import hash_password
from kubetally.ledger import Ledger
from kubetally.ledger.publish import publish
from tests.runner import demo_ledger_at, serving

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("KUBETALLY_SCREENSHOTS") or Path(tempfile.gettempdir()) / "kubetally-screenshots")
"""Where the page tests save screenshots: a temporary folder, or ``docs/screenshots`` under ``make screenshots``."""
USER, PASSWORD = "alice", "correct horse battery"


@pytest.fixture(scope="session")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``demo`` scenario costed into a ledger, once per session."""
    return demo_ledger_at(tmp_path_factory.mktemp("ui") / "demo.duckdb")


@pytest.fixture(scope="session")
def server(demo_ledger: Path) -> Iterator[str]:
    """Base URL of ``kubetally serve`` on the demo ledger, authentication off."""
    with serving(["--db", str(demo_ledger)], demo_ledger.with_name("serve.log")) as url:
        yield url


@pytest.fixture(scope="session")
def auth_server(demo_ledger: Path) -> Iterator[str]:
    """Base URL of ``kubetally serve`` on the demo ledger with ``auth: on`` and one Basic user."""
    config = demo_ledger.with_name("auth.yaml")
    users = [{"name": USER, "password_hash": hash_password(PASSWORD, n=2**10)}]
    config.write_text(yaml.safe_dump({"auth": "on", "users": users}))
    with serving(["--db", str(demo_ledger), "--config", str(config)], demo_ledger.with_name("serve-auth.log")) as url:
        yield url


@pytest.fixture(scope="session")
def fleet_server(demo_ledger: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of ``kubetally serve --fleet`` over the demo ledger's closed hours, published as a fleet."""
    root = tmp_path_factory.mktemp("fleet-ui")
    with Ledger.open(demo_ledger, read_only=True) as ledger:
        publish(ledger, str(root / "fleet"), now=datetime.now(UTC), cluster="demo-account")
    with serving(["--fleet", str(root / "fleet")], root / "serve.log") as url:
        yield url


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync driver runs an asyncio loop in the main thread while it is open: it is closed when the UI
    tests end, so that tests run after them can start their own loops."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's headless Chromium (``apt-get install chromium``); the tests fail when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)")
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield launched
    launched.close()


class ConsoleLog(list[str]):
    """Console errors and uncaught exceptions of a page."""


@pytest.fixture
def console() -> ConsoleLog:
    return ConsoleLog()


@pytest.fixture
def page(browser: Browser, console: ConsoleLog) -> Iterator[Page]:
    """A fresh 1280 px wide page whose console errors are collected in ``console``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            console.append(message.text)

    opened.on("console", record)
    opened.on("pageerror", lambda error: console.append(str(error)))
    yield opened
    context.close()


def api_set(
    base: str, path: str, params: dict[str, str], auth: tuple[str, str] | None = None
) -> dict[str, dict[str, object]]:
    """The first set of a JSON API answer (the answer itself when it is one set), as the UI receives it."""
    response = httpx.get(f"{base}{path}", params=params, auth=auth, timeout=30)
    response.raise_for_status()
    data: list[dict[str, dict[str, object]]] | dict[str, dict[str, object]] = response.json()["data"]
    return data[0] if isinstance(data, list) else data


def ready(page: Page) -> None:
    """Wait until the page has drawn everything it loads; fail with its status line when it shows an error."""
    page.wait_for_selector("body[data-ready]:not([data-ready='false'])", state="attached", timeout=20_000)
    state = page.evaluate("document.body.dataset.ready")
    assert state == "true", page.inner_text("#status")

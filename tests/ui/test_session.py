"""Signing in to the UI keeps a short-lived session token in an HttpOnly cookie, never the Basic credentials:
nothing in the tab's storage or script-visible cookies holds the password, the token stops working when it
expires (the page then asks to sign in again), and signing out revokes it. Against a real ``kubetally serve``
with ``session_minutes`` of a few seconds, in headless Chromium."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from kubetally.api.auth import hash_password
from tests.runner import serving
from tests.ui.conftest import PASSWORD, USER, ready

SESSION_SECONDS = 20.0


@pytest.fixture(scope="module")
def short_sessions(demo_ledger: Path) -> Iterator[str]:
    """``kubetally serve`` with auth on and sessions lasting :data:`SESSION_SECONDS`."""
    config = demo_ledger.with_name("sessions.yaml")
    users = [{"name": USER, "password_hash": hash_password(PASSWORD, n=2**10)}]
    config.write_text(yaml.safe_dump({"auth": "on", "users": users, "session_minutes": SESSION_SECONDS / 60}))
    log = demo_ledger.with_name("serve-sessions.log")
    with serving(["--db", str(demo_ledger), "--config", str(config)], log) as url:
        yield url


def sign_in(page: Page, url: str) -> float:
    """Sign in through the login form; the time the session was issued (before the click)."""
    page.goto(url + "/")
    expect(page.locator("#login")).to_be_visible()
    page.fill("#login-user", USER)
    page.fill("#login-password", PASSWORD)
    issued = time.time()
    page.click("#login-form button[type=submit]")
    ready(page)
    expect(page.locator("#who")).to_have_text(f"Signed in as {USER}")
    return issued


def session_cookie(page: Page) -> dict[str, object]:
    cookies = page.context.cookies()
    assert [cookie["name"] for cookie in cookies] == ["kubetally_session"], cookies
    return dict(cookies[0])


def test_no_credentials_are_stored_in_the_browser_and_the_token_expires(page: Page, short_sessions: str) -> None:
    issued = sign_in(page, short_sessions)
    stored = page.evaluate(
        "() => JSON.stringify({session: {...sessionStorage}, local: {...localStorage}, cookie: document.cookie})"
    )
    cookie = session_cookie(page)
    encoded = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for text in (stored, str(cookie)):
        assert PASSWORD not in text and encoded not in text and "Basic" not in text
    assert '"cookie":""' in stored, "the session cookie must be invisible to scripts"
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    token = str(cookie["value"])
    assert len(token) >= 40
    assert 0 < float(str(cookie["expires"])) - issued <= SESSION_SECONDS + 2

    params = {"window": "1d"}
    assert (
        httpx.get(f"{short_sessions}/allocation", params=params, cookies={"kubetally_session": token}).status_code
        == 200
    )
    time.sleep(max(0.0, issued + SESSION_SECONDS + 0.5 - time.time()))
    expired = httpx.get(f"{short_sessions}/allocation", params=params, headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401
    # The browser dropped the expired cookie (Max-Age), so the page asks to sign in again.
    page.reload()
    expect(page.locator("#login")).to_be_visible()
    expect(page.locator("#login-error")).to_have_text("Your session expired: sign in again.")


def test_signing_out_revokes_the_session(page: Page, short_sessions: str) -> None:
    sign_in(page, short_sessions)
    token = str(session_cookie(page)["value"])
    page.click("#signout")
    expect(page.locator("#login")).to_be_visible()
    assert page.context.cookies() == []
    revoked = httpx.get(f"{short_sessions}/allocation", params={"window": "1d"}, cookies={"kubetally_session": token})
    assert revoked.status_code == 401

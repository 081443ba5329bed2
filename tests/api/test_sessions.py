"""``/session``: Basic credentials or an API token are traded for a short-lived opaque token, kept in an
HttpOnly SameSite=Strict cookie, accepted until it expires or is signed out, and unable to renew itself."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator
from kubetally.settings import Settings
from tests.api.conftest import NOW, WINDOW
from tests.api.test_auth import ADMIN_PASSWORD, ADMIN_TOKEN, SHOP_PASSWORD, basic, bearer, settings

MINUTES = 5.0


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(small_ledger: Path, clock: Clock) -> Iterator[TestClient]:
    auth = Authenticator.from_settings(settings().model_copy(update={"session_minutes": MINUTES}), clock)
    app = create_app(small_ledger, clock=lambda: NOW, auth=auth)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def allocation(client: TestClient, **kwargs: Any) -> Any:
    return client.get("/allocation", params={"window": WINDOW, "aggregate": "namespace"}, **kwargs)


def sign_in(client: TestClient, headers: dict[str, str]) -> tuple[str, Any]:
    response = client.post("/session", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]["token"], response


def test_signing_in_sets_an_httponly_strict_cookie_holding_no_credentials(client: TestClient, clock: Clock) -> None:
    token, response = sign_in(client, basic("admin", ADMIN_PASSWORD))
    data = response.json()["data"]
    assert data["name"] == "admin" and data["expiresAt"].endswith("Z")
    cookie = response.headers["set-cookie"]
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert cookie.startswith(f"kubetally_session={token};")
    assert {"httponly", "path"} <= attributes and "samesite=strict" in cookie.lower()
    assert f"max-age={int(MINUTES * 60)}" in cookie.lower()
    credentials = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    assert ADMIN_PASSWORD not in cookie and credentials not in cookie and len(token) >= 40
    assert response.headers["cache-control"] == "no-store"


def test_the_token_is_accepted_as_cookie_and_bearer_until_it_expires(client: TestClient, clock: Clock) -> None:
    token, _ = sign_in(client, basic("admin", ADMIN_PASSWORD))
    assert allocation(client).status_code == 200  # the cookie the client kept
    client.cookies.clear()
    assert allocation(client).status_code == 401
    assert allocation(client, headers=bearer(token)).status_code == 200
    assert allocation(client, cookies={"kubetally_session": token}).status_code == 200
    assert client.get("/session", headers=bearer(token)).json()["data"]["name"] == "admin"
    clock.now += MINUTES * 60 - 1
    assert allocation(client, headers=bearer(token)).status_code == 200
    clock.now += 1
    expired = allocation(client, cookies={"kubetally_session": token})
    assert expired.status_code == 401 and "expired" in expired.json()["message"]
    assert allocation(client, headers=bearer(token)).status_code == 401
    assert client.get("/session", headers=bearer(token)).status_code == 401


def test_a_session_cannot_renew_itself(client: TestClient, clock: Clock) -> None:
    token, _ = sign_in(client, bearer(ADMIN_TOKEN))
    client.cookies.clear()
    assert client.post("/session", headers=bearer(token)).status_code == 401
    assert client.post("/session", cookies={"kubetally_session": token}).status_code == 401


def test_signing_out_revokes_the_token_and_clears_the_cookie(client: TestClient) -> None:
    token, _ = sign_in(client, basic("admin", ADMIN_PASSWORD))
    out = client.delete("/session")
    assert out.status_code == 200 and out.json()["data"] == {"signedOut": True}
    assert 'kubetally_session=""' in out.headers["set-cookie"] or "max-age=0" in out.headers["set-cookie"].lower()
    assert allocation(client, headers=bearer(token)).status_code == 401
    assert allocation(client, cookies={"kubetally_session": token}).status_code == 401


def test_a_scoped_session_keeps_its_scope(client: TestClient) -> None:
    token, _ = sign_in(client, basic("shop", SHOP_PASSWORD))
    client.cookies.clear()
    body = allocation(client, headers=bearer(token)).json()["data"][0]
    assert set(body) == {"shop"}
    assert client.get("/metrics", headers=bearer(token)).status_code == 403


def test_wrong_credentials_are_401_and_throttled(client: TestClient) -> None:
    for _ in range(10):
        response = client.post("/session", headers=basic("admin", "wrong"))
        assert response.status_code == 401 and "set-cookie" not in response.headers
    assert client.post("/session", headers=basic("admin", ADMIN_PASSWORD)).status_code == 429


def test_without_credentials_signing_in_is_401(client: TestClient) -> None:
    response = client.post("/session")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_with_auth_off_there_are_no_sessions(small_ledger: Path) -> None:
    with TestClient(create_app(small_ledger, clock=lambda: NOW)) as plain:
        response = plain.post("/session", headers=basic("admin", ADMIN_PASSWORD))
        assert response.status_code == 404 and "authentication is off" in response.json()["message"]


def test_the_session_lifetime_is_a_setting() -> None:
    assert Settings().session_minutes == 30.0
    short = Authenticator.from_settings(Settings(session_minutes=2, users=settings().users))
    assert short.sessions.ttl_seconds == 120.0
    with pytest.raises(ValueError, match="session_minutes"):
        Settings(session_minutes=0)


def test_the_ui_is_challenged_without_basic_so_the_browser_does_not_prompt(client: TestClient) -> None:
    ui = {"X-Requested-With": "kubetally-ui"}
    assert allocation(client, headers=ui).headers["www-authenticate"] == 'Bearer realm="kubetally"'
    assert (
        client.post("/session", headers={**ui, **basic("admin", "x")}).headers["www-authenticate"].startswith("Bearer")
    )
    assert "Basic" in allocation(client).headers["www-authenticate"]

"""Authentication of the HTTP API: 401s, credentials, public routes, settings, ``serve``'s default and CORS."""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import CHALLENGE, Authenticator, PasswordHash, auth_enabled, hash_password, token_digest
from kubetally.errors import InvalidInput
from kubetally.settings import Settings, load_settings
from tests.api.conftest import NOW, WINDOW
from tests.runner import exit_code

ADMIN_PASSWORD = "admin-Pa55-word"
SHOP_PASSWORD = "shop-Pa55-word"
ADMIN_TOKEN = "tok-admin-8f1c2d7e9a0b4c6d"
SHOP_TOKEN = "tok-shop-3e5a7c9b1d2f4a6c"
CLUSTER_TOKEN = "tok-cluster-small-5b7d9f1a3c"
ELSEWHERE_TOKEN = "tok-cluster-elsewhere-2c4e6a8b"
SECRETS = (ADMIN_PASSWORD, SHOP_PASSWORD, ADMIN_TOKEN, SHOP_TOKEN, CLUSTER_TOKEN, ELSEWHERE_TOKEN)

PROTECTED = [
    *(
        prefix + path
        for prefix in ("", "/model")
        for path in ("/allocation", "/allocation/compute", "/allocation/summary", "/allocation/compute/summary")
    ),
    "/assets",
    "/model/assets",
    "/metrics",
]
LEGACY = {
    "/model/costDataModel": {"timeWindow": WINDOW},
    "/model/aggregatedCostModel": {"window": WINDOW, "aggregation": "namespace"},
}


def settings() -> Settings:
    """An unscoped user and token, a user and token scoped to namespace ``shop``, and cluster-scoped tokens."""
    return Settings(
        users=[
            {"name": "admin", "password_hash": hash_password(ADMIN_PASSWORD, n=2**10)},
            {"name": "shop", "password_hash": hash_password(SHOP_PASSWORD, n=2**10), "namespaces": ["shop"]},
        ],
        tokens=[
            {"name": "ops", "token_sha256": token_digest(ADMIN_TOKEN)},
            {"name": "shop-ci", "token_sha256": token_digest(SHOP_TOKEN), "namespaces": ["shop"]},
            {"name": "small-ops", "token_sha256": token_digest(CLUSTER_TOKEN), "clusters": ["small"]},
            {"name": "far-ops", "token_sha256": token_digest(ELSEWHERE_TOKEN), "clusters": ["elsewhere"]},
        ],
    )


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def secured(small_ledger: Path) -> Iterator[TestClient]:
    """The app over the small ledger with the identities of :func:`settings`; a fresh app (and so a fresh
    failed-login throttle) per test, since every TestClient request comes from one client address."""
    app = create_app(small_ledger, clock=lambda: NOW, auth=Authenticator.from_settings(settings()))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def assert_envelope(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == status and body["status"] == "error"
    assert body["error"]["code"] == code and body["error"]["message"] == body["message"]
    return body


def test_auth_is_off_on_loopback_and_on_elsewhere_by_default() -> None:
    assert [auth_enabled("auto", host) for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost")] == [
        False
    ] * 5
    assert [auth_enabled("auto", host) for host in ("0.0.0.0", "10.1.2.3", "::", "kubetally.internal")] == [True] * 4
    assert auth_enabled("on", "127.0.0.1") and not auth_enabled("off", "0.0.0.0")


def test_without_auth_every_route_answers_without_credentials(client: TestClient) -> None:
    for path in PROTECTED:
        params = {} if path == "/metrics" else {"window": WINDOW}
        assert client.get(path, params=params).status_code == 200, path
    for path, params in LEGACY.items():
        assert client.get(path, params=params).status_code == 200, path


@pytest.mark.parametrize("path", [*PROTECTED, *LEGACY])
def test_every_protected_route_is_401_without_credentials(secured: TestClient, path: str) -> None:
    params = LEGACY.get(path, {"window": WINDOW})
    response = secured.get(path, params=params)
    body = assert_envelope(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert "credentials" in body["message"]


def test_credentials_come_before_parameter_errors(secured: TestClient) -> None:
    assert_envelope(secured.get("/allocation", params={"window": "never"}), 401, "unauthorized")
    assert_envelope(secured.get("/allocation"), 401, "unauthorized")
    assert_envelope(
        secured.get("/allocation", params={"window": "never"}, headers=bearer(ADMIN_TOKEN)), 400, "invalid_window"
    )


def test_health_readiness_version_and_schema_stay_public(secured: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/version", "/openapi.json"):
        assert secured.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "headers",
    [
        basic("admin", "wrong-password"),
        basic("admin", SHOP_PASSWORD),
        basic("nobody", ADMIN_PASSWORD),
        basic("shop", ""),
        bearer("tok-not-a-token"),
        bearer(token_digest(ADMIN_TOKEN)),
        {"Authorization": "Basic !!!not-base64"},
        {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()},
        {"Authorization": f"Digest {ADMIN_TOKEN}"},
        {"Authorization": "Bearer "},
    ],
)
def test_bad_credentials_are_401_and_never_echoed(secured: TestClient, headers: dict[str, str]) -> None:
    response = secured.get("/allocation", params={"window": WINDOW}, headers=headers)
    assert_envelope(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    credential = headers["Authorization"].partition(" ")[2]
    for secret in (*SECRETS, credential):
        if secret:
            assert secret not in response.text


@pytest.mark.parametrize(
    "headers", [basic("admin", ADMIN_PASSWORD), basic("shop", SHOP_PASSWORD), bearer(ADMIN_TOKEN), bearer(SHOP_TOKEN)]
)
def test_good_credentials_are_let_in(secured: TestClient, headers: dict[str, str]) -> None:
    for _ in range(2):
        response = secured.get("/allocation", params={"window": WINDOW, "aggregate": "namespace"}, headers=headers)
        assert response.status_code == 200, response.text


def test_metrics_need_an_unscoped_identity(secured: TestClient) -> None:
    assert secured.get("/metrics", headers=bearer(ADMIN_TOKEN)).status_code == 200
    for headers in (bearer(SHOP_TOKEN), bearer(CLUSTER_TOKEN), basic("shop", SHOP_PASSWORD)):
        assert_envelope(secured.get("/metrics", headers=headers), 403, "forbidden")


def test_credentials_never_reach_the_logs(secured: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    attempts = [
        basic("admin", ADMIN_PASSWORD),
        basic("admin", SHOP_PASSWORD),
        basic("shop", SHOP_PASSWORD),
        bearer(ADMIN_TOKEN),
        bearer(SHOP_TOKEN + "x"),
        {},
    ]
    for headers in attempts:
        secured.get("/allocation/summary", params={"window": WINDOW}, headers=headers)
        secured.get("/assets", params={"window": WINDOW}, headers=headers)
    assert any("rejected" in record.getMessage() for record in caplog.records)
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    encoded = [headers["Authorization"].partition(" ")[2] for headers in attempts if headers]
    for secret in (*SECRETS, *encoded):
        assert secret not in logged


def test_password_hashes_are_salted_scrypt() -> None:
    first, second = hash_password("s3cret", n=2**10), hash_password("s3cret", n=2**10)
    assert first != second and first.startswith("scrypt$1024$8$1$")
    for encoded in (first, second):
        parsed = PasswordHash.parse(encoded, "alice")
        assert parsed.matches("s3cret") and not parsed.matches("s3cret ") and not parsed.matches("")


@pytest.mark.parametrize(
    "bad", ["s3cret", "bcrypt$1$2$3$YQ==$YQ==", "scrypt$1000$8$1$YQ==$YQ==", "scrypt$16$8$1$??$YQ=="]
)
def test_a_malformed_password_hash_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Authenticator.from_settings(Settings(users=[{"name": "alice", "password_hash": bad}]))
    assert "alice" in caught.value.message and bad not in caught.value.message


def test_a_malformed_token_digest_is_refused() -> None:
    with pytest.raises(InvalidInput, match="far-ops"):
        Authenticator.from_settings(Settings(tokens=[{"name": "far-ops", "token_sha256": "abc"}]))


def test_identities_come_from_the_config_file_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "kubetally.yaml"
    encoded = hash_password(SHOP_PASSWORD, n=2**10)
    config.write_text(
        "auth: on\n"
        f"users:\n  - name: shop\n    password_hash: '{encoded}'\n    namespaces: [shop]\n"
        "cors_origins: ['https://ui.example']\n"
    )
    loaded = load_settings(config)
    assert loaded.auth == "on" and loaded.cors_origins == ("https://ui.example",)
    authenticator = Authenticator.from_settings(loaded)
    identity = authenticator.authenticate(basic("shop", SHOP_PASSWORD)["Authorization"])
    assert identity.name == "shop" and identity.scope.namespaces == frozenset({"shop"})
    monkeypatch.setenv("KUBETALLY_TOKENS", f'[{{"name": "ci", "token_sha256": "{token_digest(SHOP_TOKEN)}"}}]')
    from_env = Authenticator.from_settings(load_settings(config))
    assert from_env.authenticate(f"Bearer {SHOP_TOKEN}").scope.unrestricted
    assert "password_hash" not in repr(loaded) or encoded not in repr(loaded)


def test_an_empty_scope_list_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "kubetally.yaml"
    config.write_text(f"tokens: [{{name: ci, token_sha256: '{token_digest('x')}', namespaces: []}}]\n")
    with pytest.raises(InvalidInput, match="namespaces"):
        load_settings(config)


def test_serve_decides_auth_from_the_host(
    monkeypatch: pytest.MonkeyPatch, small_ledger: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app.state.kubetally.auth))
    monkeypatch.delenv("KUBETALLY_USERS", raising=False)
    monkeypatch.delenv("KUBETALLY_TOKENS", raising=False)
    db = str(small_ledger)
    assert exit_code(monkeypatch, "serve", "--db", db) == 0
    assert served == [None]

    assert exit_code(monkeypatch, "serve", "--db", db, "--host", "0.0.0.0") == 2
    err = capsys.readouterr().err
    assert "no users or tokens" in err and len(err.strip().splitlines()) == 1
    assert len(served) == 1

    config = tmp_path / "kubetally.yaml"
    config.write_text(f"tokens: [{{name: ops, token_sha256: '{token_digest(ADMIN_TOKEN)}'}}]\n")
    assert exit_code(monkeypatch, "serve", "--db", db, "--host", "0.0.0.0", "--config", str(config)) == 0
    assert isinstance(served[-1], Authenticator)
    config.write_text(f"auth: off\ntokens: [{{name: ops, token_sha256: '{token_digest(ADMIN_TOKEN)}'}}]\n")
    assert exit_code(monkeypatch, "serve", "--db", db, "--host", "0.0.0.0", "--config", str(config)) == 0
    assert served[-1] is None
    config.write_text("auth: on\n")
    assert exit_code(monkeypatch, "serve", "--db", db, "--config", str(config)) == 2
    assert len(served) == 3


def test_cors_is_off_unless_origins_are_configured(small_ledger: Path) -> None:
    preflight = {"Origin": "https://ui.example", "Access-Control-Request-Method": "GET"}
    with TestClient(create_app(small_ledger, clock=lambda: NOW)) as plain:
        response = plain.get("/version", headers={"Origin": "https://ui.example"})
        assert "access-control-allow-origin" not in response.headers
    app = create_app(small_ledger, clock=lambda: NOW, cors_origins=["https://ui.example"])
    with TestClient(app) as allowed:
        response = allowed.options("/allocation", headers=preflight)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "https://ui.example"
        other = allowed.options("/allocation", headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers

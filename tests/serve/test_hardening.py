"""Hardening of a real ``kubetally serve`` over the demo ledger with authentication on: the query cache and the
size of one query are bounded (the server's peak RSS stays under the configured budget under a cache attack),
``Host`` and ``/mcp`` ``Origin`` are checked (DNS rebinding), and CORS ``*`` is refused at start-up."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from kubetally.api.auth import hash_password, token_digest
from tests.runner import KUBETALLY, demo_ledger_at, serving

ADMIN_TOKEN = "admin-" + "a" * 40
SHOP_PASSWORD = "checkout-secret"
POD_MIB = 512
"""The pod memory the default cache budget is sized for: the server's peak RSS must stay under it."""


def write_config(path: Path, **extra: object) -> Path:
    config = {
        "auth": "on",
        "tokens": [{"name": "admin", "token_sha256": token_digest(ADMIN_TOKEN)}],
        "users": [{"name": "shop", "namespaces": ["checkout"], "password_hash": hash_password(SHOP_PASSWORD, n=2**10)}],
        **extra,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SHOP = basic("shop", SHOP_PASSWORD)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_ledger_at(tmp_path_factory.mktemp("hardening") / "demo.duckdb")


@pytest.fixture(scope="module")
def server(demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("served")
    config = write_config(folder / "config.yaml")
    with serving(["--db", str(demo), "--config", str(config)], folder / "serve.log") as url:
        yield url


def server_pid(url: str) -> int:
    port = url.rsplit(":", 1)[1]
    found = subprocess.run(["fuser", f"{port}/tcp"], capture_output=True, text=True, check=False)
    pids = [int(word) for word in found.stdout.split()]
    assert len(pids) == 1, found
    return pids[0]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def last_hour(url: str) -> datetime:
    body = httpx.get(f"{url}/allocation", params={"window": "30d"}, headers=ADMIN, timeout=120).json()
    ends = [datetime.fromisoformat(row["end"].replace("Z", "+00:00")) for s in body["data"] for row in s.values()]
    return max(ends)


def window(end: datetime, hours: int) -> str:
    return (
        f"{(end - timedelta(hours=hours)).isoformat().replace('+00:00', 'Z')},{end.isoformat().replace('+00:00', 'Z')}"
    )


def test_the_cache_attack_stays_under_the_pod_budget(server: str) -> None:
    end = last_hour(server).astimezone(UTC)
    pid = server_pid(server)
    refused = 0
    with httpx.Client(base_url=server, timeout=300) as client:
        for index in range(8):
            for headers in (ADMIN, SHOP):
                params = {
                    "window": window(end - timedelta(hours=index), 30 * 24),
                    "step": "1h",
                    "idleByNode": "true",
                    "splitIdle": "true",
                }
                response = client.get("/allocation", params=params, headers=headers)
                assert response.status_code in (200, 400), response.text
                if response.status_code == 400:
                    refused += 1
                    message = response.json()["message"]
                    assert "larger step" in message and "shorter window" in message and "aggregate" in message
                # The same attack on queries small enough to be answered: they fill the cache.
                small = client.get(
                    "/allocation",
                    params={**params, "window": window(end - timedelta(hours=index), 40)},
                    headers=headers,
                )
                assert small.status_code == 200, small.text
                assert small.json()["data"]
    assert refused == 16
    assert peak_rss_mib(pid) < POD_MIB


def test_an_aggregated_hourly_month_is_answered(server: str) -> None:
    end = last_hour(server).astimezone(UTC)
    params = {"window": window(end, 30 * 24), "step": "1h", "aggregate": "namespace"}
    response = httpx.get(f"{server}/allocation", params=params, headers=ADMIN, timeout=300)
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == 30 * 24


def test_a_foreign_host_is_refused(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "localhost"):
        assert httpx.get(f"{server}/healthz", headers={"Host": host}).status_code == 200
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1.attacker.example:{port}"):
        response = httpx.get(f"{server}/allocation", params={"window": "1d"}, headers={"Host": host, **ADMIN})
        assert response.status_code == 403, host
        assert "allowed_hosts" in response.json()["message"]


def test_mcp_from_a_foreign_origin_is_refused(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {**ADMIN, "Accept": "application/json, text/event-stream"}
    refused = httpx.post(f"{server}/mcp", json=ping, headers={**headers, "Origin": "http://attacker.example"})
    assert refused.status_code == 403
    assert "cors_origins" in refused.json()["message"]
    own = httpx.post(f"{server}/mcp", json=ping, headers={**headers, "Origin": f"http://localhost:{port}"})
    assert own.status_code != 403


def test_signing_in_from_a_foreign_origin_is_refused(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    refused = httpx.post(f"{server}/session", headers={**SHOP, "Origin": "http://attacker.example"})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    own = httpx.post(f"{server}/session", headers={**SHOP, "Origin": f"http://127.0.0.1:{port}"})
    assert own.status_code == 200 and "kubetally_session=" in own.headers["set-cookie"]


def test_allowed_hosts_are_served(demo: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", allowed_hosts=["kubetally.internal"])
    with serving(["--db", str(demo), "--config", str(config)], tmp_path / "serve.log") as url:
        assert httpx.get(f"{url}/healthz", headers={"Host": "kubetally.internal:9003"}).status_code == 200
        assert httpx.get(f"{url}/healthz", headers={"Host": "other.internal"}).status_code == 403


def test_cors_wildcard_is_refused_at_start(demo: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml", cors_origins=["*"])
    done = subprocess.run(
        [str(KUBETALLY), "serve", "--db", str(demo), "--config", str(config), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "cors_origins" in done.stderr and "'*' is refused" in done.stderr
    assert "Traceback" not in done.stderr


def test_failed_logins_are_throttled_before_hashing(demo: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yaml")
    with serving(["--db", str(demo), "--config", str(config)], tmp_path / "serve.log") as url:
        assert httpx.get(f"{url}/allocation", params={"window": "1d"}, headers=SHOP).status_code == 200
        for _ in range(10):
            wrong = httpx.get(f"{url}/allocation", params={"window": "1d"}, headers=basic("shop", "guess"))
            assert wrong.status_code == 401
        throttled = httpx.get(f"{url}/allocation", params={"window": "1d"}, headers=basic("shop", "guess"))
        assert throttled.status_code == 429
        assert 1 <= int(throttled.headers["retry-after"]) <= 60
        assert throttled.json()["error"]["code"] == "too_many_requests"
        assert httpx.get(f"{url}/healthz").status_code == 200


def test_ui_pages_forbid_framing_and_foreign_scripts(server: str) -> None:
    for page in ("/", "/ui/assets", "/ui/cloud"):
        response = httpx.get(f"{server}{page}", follow_redirects=True)
        assert response.status_code == 200, page
        assert response.headers["x-frame-options"] == "DENY"
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy


def test_auth_off_on_a_public_address_warns(demo: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"auth": "off"}))
    log = tmp_path / "serve.log"
    with serving(["--db", str(demo), "--config", str(config), "--host", "0.0.0.0"], log):
        pass
    text = log.read_text()
    assert "WARNING: authentication is off" in text and "0.0.0.0" in text


def test_cost_data_model_gives_a_namespace_scoped_identity_no_node_prices(server: str) -> None:
    hidden = ("hourlyCost", "CPUHourlyCost", "RAMGBHourlyCost", "GPUHourlyCost", "instanceType", "providerID")
    params = {"timeWindow": "2d"}
    admin = httpx.get(f"{server}/model/costDataModel", params=params, headers=ADMIN, timeout=120).json()["data"]
    assert any(entry["node"].get("CPUHourlyCost") for entry in admin.values())
    shop = httpx.get(f"{server}/model/costDataModel", params=params, headers=SHOP, timeout=120).json()["data"]
    assert shop and all(entry["namespace"] == "checkout" for entry in shop.values())
    for entry in shop.values():
        assert not set((*hidden, "preemptible", "region")) & set(entry["node"]), entry["node"]
        assert entry["node"].get("CPU")


def test_a_scoped_identity_gets_idle_by_request_share_not_by_cost(server: str) -> None:
    end = last_hour(server).astimezone(UTC)
    span = window(end, 24)

    def data(headers: dict[str, str], **params: str) -> dict[str, dict[str, float]]:
        response = httpx.get(f"{server}/allocation", params={"window": span, **params}, headers=headers, timeout=120)
        assert response.status_code == 200, response.text
        return dict(response.json()["data"][0])

    def requested(row: dict[str, float], average: str) -> float:
        return row[average] * row["minutes"]

    idle = data(ADMIN, aggregate="cluster", splitIdle="true")
    own = data(ADMIN, aggregate="cluster,namespace", includeIdle="false")
    by_cost = data(ADMIN, aggregate="cluster,namespace", shareIdle="true")
    shop = data(SHOP, aggregate="cluster")
    assert set(shop) == {"prod-us", "prod-eu"}
    for cluster, row in shop.items():
        for resource, average in (("cpu", "cpuCoreRequestAverage"), ("ram", "ramByteRequestAverage")):
            total = sum(requested(r, average) for name, r in own.items() if name.startswith(f"{cluster}/"))
            mine = requested(own[f"{cluster}/checkout"], average)
            expected = idle[f"{cluster}/__idle__"][f"{resource}Cost"] * mine / total
            assert row[f"{resource}CostIdle"] == pytest.approx(expected, rel=1e-3, abs=1e-3), (cluster, resource)
            weighted = by_cost[f"{cluster}/checkout"][f"{resource}CostIdle"]
            assert row[f"{resource}CostIdle"] != pytest.approx(weighted, rel=1e-3), (cluster, resource)


def test_an_overflowing_share_cost_is_refused_and_the_bound_keeps_totals_numbers(server: str) -> None:
    end = last_hour(server).astimezone(UTC)
    params = {"window": window(end, 24), "aggregate": "namespace", "accumulate": "true"}
    refused = httpx.get(f"{server}/allocation", params={**params, "shareCost": "1e307"}, headers=ADMIN, timeout=60)
    assert refused.status_code == 400, refused.text
    assert "shareCost" in refused.json()["message"]
    bound = httpx.get(f"{server}/allocation", params={**params, "shareCost": "1e12"}, headers=ADMIN, timeout=60)
    assert bound.status_code == 200, bound.text
    totals = [row["totalCost"] for row in bound.json()["data"][0].values()]
    assert totals and all(isinstance(total, float) for total in totals)
    assert sum(totals) > 1e12 * 24 / 730 * 0.99  # the shared overhead is in the totals: 1e12 a month, for a day

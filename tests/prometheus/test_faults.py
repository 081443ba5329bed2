"""Faults: an unreachable Prometheus, retries with backoff on 503, a rejected query, bad configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from kubetally.errors import InvalidParameter, InvalidWindow, SourceUnavailable
from kubetally.sources.prometheus import PrometheusConfig, PrometheusSource
from kubetally.sources.prometheus.client import LONGEST_GET, PrometheusClient
from tests.prometheus.conftest import free_port

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, 3, tzinfo=UTC)
VECTOR = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {"node": "a"}, "value": [1, "2"]}]},
}


def _flaky(failures: int, status: int = 503) -> tuple[httpx.MockTransport, list[str]]:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.params["query"])
        if len(calls) <= failures:
            return httpx.Response(status, json={"status": "error", "error": "overloaded"})
        return httpx.Response(200, json=VECTOR)

    return httpx.MockTransport(handler), calls


def test_stopped_prometheus_is_source_unavailable_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    source = PrometheusSource(PrometheusConfig(url, retries=1, backoff_seconds=0.01))
    with pytest.raises(SourceUnavailable) as caught:
        source.fetch(START, END)
    assert url in caught.value.message
    assert "unreachable" in caught.value.message
    assert "\n" not in caught.value.message


def test_503_twice_then_success_after_backoff() -> None:
    transport, calls = _flaky(2)
    slept: list[float] = []
    client = PrometheusClient(PrometheusConfig("http://prometheus", backoff_seconds=0.5), transport, slept.append)
    series = client.query("up", START)
    assert len(calls) == 3
    assert slept == [0.5, 1.0]
    assert series[0].labels == {"node": "a"} and series[0].values == [2.0]


def test_503_beyond_the_retries_is_source_unavailable() -> None:
    transport, calls = _flaky(10)
    client = PrometheusClient(PrometheusConfig("http://prometheus", retries=2), transport, lambda _: None)
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        client.query("up", START)
    assert len(calls) == 3


def test_429_is_retried() -> None:
    transport, calls = _flaky(1, status=429)
    client = PrometheusClient(PrometheusConfig("http://prometheus"), transport, lambda _: None)
    assert client.query("up", START)[0].values == [2.0]
    assert len(calls) == 2


def test_rejected_query_names_the_query_and_is_not_retried() -> None:
    transport, calls = _flaky(10, status=400)
    client = PrometheusClient(PrometheusConfig("http://prometheus"), transport, lambda _: None)
    with pytest.raises(SourceUnavailable) as caught:
        client.query("sum(bad{", START)
    assert "sum(bad{" in caught.value.message and "HTTP 400" in caught.value.message
    assert len(calls) == 1


def test_auth_and_headers_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=VECTOR)

    config = PrometheusConfig("http://mimir/prometheus", bearer_token="t0k", headers={"X-Scope-OrgID": "team-a"})
    PrometheusClient(config, httpx.MockTransport(handler)).query("up", START)
    assert seen[0].headers["Authorization"] == "Bearer t0k"
    assert seen[0].headers["X-Scope-OrgID"] == "team-a"
    assert seen[0].url.path == "/prometheus/api/v1/query"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"url": "prometheus:9090"}, "prometheus_url"),
        ({"url": "http://p", "max_concurrency": 0}, "max_concurrency"),
        ({"url": "http://p", "basic_auth_user": "u"}, "basic_auth_user"),
        ({"url": "http://p", "scrape_interval_seconds": 0.5}, "scrape_interval_seconds"),
    ],
)
def test_bad_configuration_names_the_parameter(kwargs: dict[str, object], parameter: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        PrometheusConfig(**kwargs)  # type: ignore[arg-type]
    assert caught.value.parameter == parameter


def test_window_must_be_whole_hours() -> None:
    source = PrometheusSource(PrometheusConfig("http://p"))
    with pytest.raises(InvalidWindow):
        source.fetch(START.replace(minute=30), END)


def test_timeout_is_source_unavailable_after_retries() -> None:
    calls: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1.0)
        raise httpx.ReadTimeout("slow", request=request)

    config = PrometheusConfig("http://prometheus", timeout_seconds=2.5, retries=1)
    client = PrometheusClient(config, httpx.MockTransport(handler), lambda _: None)
    with pytest.raises(SourceUnavailable, match=r"timed out after 2\.5 s"):
        client.query("up", START)
    assert len(calls) == 2


def test_a_missing_ca_file_names_the_parameter(tmp_path: Path) -> None:
    config = PrometheusConfig("https://prometheus", ca_file=str(tmp_path / "absent.pem"))
    with pytest.raises(InvalidParameter) as caught:
        PrometheusClient(config)
    assert caught.value.parameter == "ca_file"


def test_a_long_query_is_sent_as_a_form_post_and_a_short_one_as_a_get() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=VECTOR)

    client = PrometheusClient(PrometheusConfig("http://prometheus"), httpx.MockTransport(handler))
    long = "up{uid=~`" + "|".join(f"uid-{k:05d}" for k in range(LONGEST_GET // 8)) + "`}"
    client.query("up", START)
    client.query(long, START)
    assert [r.method for r in seen] == ["GET", "POST"]
    assert seen[0].url.params["query"] == "up"
    form = parse_qs(seen[1].content.decode())
    assert form["query"] == [long] and form["time"] == [f"{START.timestamp():.3f}"]

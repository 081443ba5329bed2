"""A small client of the Prometheus HTTP query API: auth, TLS, timeouts, retries with backoff, typed results."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from kubetally.errors import InvalidParameter, SourceUnavailable
from kubetally.sources.prometheus.config import PrometheusConfig

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
LONGEST_GET = 4000
"""Queries longer than this (characters) are sent as a form POST: proxies in front of Prometheus, Thanos or Mimir
often cap URLs near 8 KiB, and the targeted per-sample queries list many label values."""


@dataclass(frozen=True)
class Series:
    """One series of a query result: its labels and its samples (unix seconds, value)."""

    labels: Mapping[str, str]
    times: list[float]
    values: list[float]


def _tls(config: PrometheusConfig) -> ssl.SSLContext | bool:
    """``False`` (no verification), ``True`` (system CAs) or a context with the configured CA and client cert."""
    if config.insecure_skip_verify:
        return False
    if config.ca_file is None and config.client_cert_file is None:
        return True
    try:
        context = ssl.create_default_context(cafile=config.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise InvalidParameter("ca_file", f"cannot load {config.ca_file}: {exc}") from exc
    if config.client_cert_file is not None:
        try:
            context.load_cert_chain(config.client_cert_file, config.client_key_file)
        except (OSError, ssl.SSLError) as exc:
            raise InvalidParameter("client_cert_file", f"cannot load {config.client_cert_file}: {exc}") from exc
    return context


def build_http_client(config: PrometheusConfig, transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """An httpx client with the configured auth, headers, TLS and timeout."""
    headers = dict(config.headers)
    if config.bearer_token is not None:
        headers["Authorization"] = f"Bearer {config.bearer_token}"
    auth = None
    if config.basic_auth_user is not None and config.basic_auth_password is not None:
        auth = httpx.BasicAuth(config.basic_auth_user, config.basic_auth_password)
    return httpx.Client(
        base_url=config.url.rstrip("/"),
        headers=headers,
        auth=auth,
        verify=_tls(config),
        timeout=config.timeout_seconds,
        transport=transport,
    )


class PrometheusClient:
    """Instant and range queries against ``config.url``; every failure becomes :class:`SourceUnavailable`."""

    def __init__(
        self,
        config: PrometheusConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._http = build_http_client(config, transport)
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def query(self, promql: str, at: datetime) -> list[Series]:
        """The instant vector of ``promql`` evaluated at ``at``."""
        data = self._get("/api/v1/query", {"query": promql, "time": f"{at.timestamp():.3f}"}, promql)
        return _decode(data, promql, "vector")

    def query_matrix(self, promql: str, at: datetime) -> list[Series]:
        """The raw samples of the range selector ``promql`` evaluated at ``at``."""
        data = self._get("/api/v1/query", {"query": promql, "time": f"{at.timestamp():.3f}"}, promql)
        return _decode(data, promql, "matrix")

    def query_range(self, promql: str, start: datetime, end: datetime, step_seconds: float) -> list[Series]:
        """The matrix of ``promql`` evaluated from ``start`` to ``end`` every ``step_seconds``."""
        params = {
            "query": promql,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step_seconds:g}",
        }
        return _decode(self._get("/api/v1/query_range", params, promql), promql, "matrix")

    def _get(self, path: str, params: Mapping[str, str], promql: str) -> Any:
        url = self.config.url
        delay = self.config.backoff_seconds
        for attempt in range(self.config.retries + 1):
            last = attempt == self.config.retries
            try:
                response = (
                    self._http.get(path, params=params)
                    if len(promql) <= LONGEST_GET
                    else self._http.post(path, data=dict(params))
                )
            except httpx.TimeoutException as exc:
                if last:
                    timeout = self.config.timeout_seconds
                    raise SourceUnavailable(f"Prometheus at {url} timed out after {timeout:g} s on {promql!r}") from exc
            except httpx.TransportError as exc:
                if last:
                    raise SourceUnavailable(f"Prometheus at {url} is unreachable: {exc}") from exc
            else:
                if response.status_code not in RETRIED_STATUSES:
                    return _payload(response, url, promql)
                if last:
                    raise SourceUnavailable(
                        f"Prometheus at {url} answered HTTP {response.status_code} {_error_text(response)} "
                        f"after {self.config.retries + 1} attempts on {promql!r}"
                    )
            self._sleep(delay)
            delay *= 2
        raise SourceUnavailable(f"Prometheus at {url} did not answer {promql!r}")  # pragma: no cover


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _payload(response: httpx.Response, url: str, promql: str) -> Any:
    if response.status_code >= 400:
        raise SourceUnavailable(
            f"Prometheus at {url} rejected {promql!r} with HTTP {response.status_code}: {_error_text(response)}"
        )
    try:
        body = response.json()
    except ValueError as exc:
        raise SourceUnavailable(f"Prometheus at {url} answered {promql!r} with a body that is not JSON") from exc
    if not isinstance(body, dict) or body.get("status") != "success" or not isinstance(body.get("data"), dict):
        raise SourceUnavailable(f"Prometheus at {url} answered {promql!r} without a successful result")
    return body["data"]


def _decode(data: Any, promql: str, expected: str) -> list[Series]:
    if data.get("resultType") != expected or not isinstance(data.get("result"), list):
        raise SourceUnavailable(f"query {promql!r} returned {data.get('resultType')!r}, expected {expected!r}")
    out: list[Series] = []
    try:
        for item in data["result"]:
            labels = {str(k): str(v) for k, v in item["metric"].items()}
            points = item["values"] if expected == "matrix" else [item["value"]]
            out.append(Series(labels, [float(t) for t, _ in points], [float(v) for _, v in points]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceUnavailable(f"query {promql!r} returned a malformed result: {exc!r}") from exc
    return out

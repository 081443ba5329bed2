"""How to reach a Prometheus-compatible query API (Prometheus, Thanos, Mimir, VictoriaMetrics)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kubetally.errors import InvalidParameter


@dataclass(frozen=True)
class PrometheusConfig:
    """Connection and interpretation settings of a Prometheus source.

    ``url`` is the base URL the ``/api/v1/...`` paths are appended to (for Mimir, e.g.
    ``https://mimir.example.com/prometheus``). ``cluster_label`` names the label that tells clusters apart; ``None``
    for a single-cluster Prometheus, whose series are then all attributed to ``cluster_name``.
    ``scrape_interval_seconds`` overrides the interval detected from the data. Retries use exponential backoff
    starting at ``backoff_seconds``.
    """

    url: str
    bearer_token: str | None = None
    basic_auth_user: str | None = None
    basic_auth_password: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    ca_file: str | None = None
    client_cert_file: str | None = None
    client_key_file: str | None = None
    insecure_skip_verify: bool = False
    timeout_seconds: float = 60.0
    max_concurrency: int = 4
    retries: int = 3
    backoff_seconds: float = 0.5
    cluster_label: str | None = "cluster"
    cluster_name: str = "default"
    scrape_interval_seconds: float | None = None

    def __post_init__(self) -> None:
        if not self.url.startswith(("http://", "https://")):
            raise InvalidParameter("prometheus_url", f"must start with http:// or https://, got {self.url!r}")
        if self.timeout_seconds <= 0:
            raise InvalidParameter("timeout_seconds", f"must be positive, got {self.timeout_seconds}")
        if self.max_concurrency < 1:
            raise InvalidParameter("max_concurrency", f"must be at least 1, got {self.max_concurrency}")
        if self.retries < 0:
            raise InvalidParameter("retries", f"must not be negative, got {self.retries}")
        if self.backoff_seconds < 0:
            raise InvalidParameter("backoff_seconds", f"must not be negative, got {self.backoff_seconds}")
        if (self.basic_auth_user is None) != (self.basic_auth_password is None):
            raise InvalidParameter("basic_auth_user", "basic auth needs both a user and a password")
        if self.bearer_token is not None and self.basic_auth_user is not None:
            raise InvalidParameter("bearer_token", "use either a bearer token or basic auth, not both")
        if self.client_key_file is not None and self.client_cert_file is None:
            raise InvalidParameter("client_key_file", "a client key needs client_cert_file")
        interval = self.scrape_interval_seconds
        if interval is not None and not 1 <= interval <= 3600:
            raise InvalidParameter("scrape_interval_seconds", f"must be between 1 and 3600, got {interval}")
        if self.cluster_label is not None and not self.cluster_label:
            raise InvalidParameter("cluster_label", "must be a label name or None")

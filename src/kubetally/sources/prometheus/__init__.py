"""The Prometheus source: a ClusterHistory from the metrics a cluster's Prometheus already has.

See docs/prometheus.md for the metric contract, the queries and what sampling loses.
"""

from __future__ import annotations

from kubetally.sources.prometheus.config import PrometheusConfig
from kubetally.sources.prometheus.source import PrometheusSource

__all__ = ["PrometheusConfig", "PrometheusSource"]

"""``/metrics``: OpenCost's cost metrics read from the ledger, plus kubetally's operational metrics.

The cost families are produced at scrape time by :class:`LedgerCollector` from
:func:`kubetally.query.exposition.read_exposition`; this module only names and emits them. The operational
metrics live in :class:`Telemetry`, one per app, on the app's own registry (no process-global state).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kubetally.domain.pricing import PriceBook
from kubetally.query.allocation import Reader
from kubetally.query.exposition import (
    CLUSTER_LABEL,
    EGRESS_FAMILIES,
    FAMILIES,
    Exposition,
    latest_end,
    read_exposition,
)

Clock = Callable[[], datetime]


class Telemetry:
    """kubetally's own metrics: ingest progress and errors, and the time ``/metrics`` spends reading the ledger."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.hours_written = Counter(
            "kubetally_hours_written", "Closed hours written to the ledger as final.", registry=registry
        )
        self.ingest_errors = Counter(
            "kubetally_ingest_errors", "Follow steps or fetches that failed and will be retried.", registry=registry
        )
        self.query_duration = Histogram(
            "kubetally_query_duration_seconds",
            "Time to read the exposition values from the ledger, seconds.",
            registry=registry,
        )


class LedgerCollector(Collector):
    """Emits the OpenCost families of the ledger's latest complete hours, and the ingest lag, at each scrape."""

    def __init__(
        self, reader: Callable[[], Reader], prices: PriceBook | None, telemetry: Telemetry, clock: Clock
    ) -> None:
        self._reader = reader
        self._prices = prices
        self._telemetry = telemetry
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        began = time.perf_counter()
        exposition = read_exposition(self._reader(), self._prices)
        self._telemetry.query_duration.observe(time.perf_counter() - began)
        yield from cost_families(exposition)
        lag = GaugeMetricFamily(
            "kubetally_ingest_lag_seconds",
            "Seconds from the end of the latest complete hour in the ledger to now.",
        )
        end = latest_end(exposition)
        if end is not None:
            lag.add_metric([], (self._clock() - end).total_seconds())
        yield lag


def cost_families(exposition: Exposition) -> Iterator[GaugeMetricFamily]:
    """Every OpenCost family of :data:`FAMILIES` and the egress prices, labelled by cluster."""
    for family in FAMILIES:
        labels = [CLUSTER_LABEL, *family.labels]
        gauge = GaugeMetricFamily(family.name, family.help, labels=labels)
        frame = exposition.frames[family.query].select(*labels, family.name)
        for *values, value in frame.iter_rows():
            gauge.add_metric([str(v) for v in values], float(value))
        yield gauge
    for name, _attribute in EGRESS_FAMILIES:
        gauge = GaugeMetricFamily(name, "Egress price, $/GiB.", labels=[CLUSTER_LABEL])
        if name in exposition.egress.columns:
            for cluster, value in exposition.egress.select(CLUSTER_LABEL, name).iter_rows():
                gauge.add_metric([cluster], float(value))
        yield gauge

"""PrometheusSource: a HistorySource over any Prometheus-compatible query API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import polars as pl

from kubetally.errors import InvalidWindow
from kubetally.history import ClusterHistory
from kubetally.sources.prometheus import activity, objects, prices, sampled
from kubetally.sources.prometheus import intervals as iv
from kubetally.sources.prometheus.client import PrometheusClient, Series
from kubetally.sources.prometheus.config import PrometheusConfig
from kubetally.sources.prometheus.frames import canonical_order, to_frame
from kubetally.sources.prometheus.queries import (
    COUNTERS,
    PRESENCE,
    QUERIES,
    SAMPLED,
    SCRAPE_INTERVAL,
    Query,
    Sampled,
    Shape,
)
from kubetally.sources.prometheus.unhosted import unhosted_warning

HOUR = timedelta(hours=1)
CPU_SECONDS = "cpu_core_seconds"
DEFAULT_INTERVAL_SECONDS = 60.0
Results = Mapping[str, pl.DataFrame]


@dataclass(frozen=True)
class Frame:
    """The window ``[start, end)`` and the scrape interval (seconds) the results were taken at."""

    interval: float
    start: datetime
    end: datetime


class PrometheusSource:
    """Reads ``[start, end)`` of one or more clusters from Prometheus as a ClusterHistory.

    ``warnings`` lists, once each, the optional inputs that were missing in the last fetch, and the pods that ran
    where no node was reported (:mod:`unhosted`). ``transport`` is a test seam (an ``httpx.MockTransport``);
    ``sleep`` is the backoff clock.
    """

    def __init__(
        self,
        config: PrometheusConfig,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.config = config
        self._transport = transport
        self._sleep = sleep
        self.warnings: list[str] = []
        self.scrape_interval_seconds: float | None = None

    @property
    def name(self) -> str:
        return f"prometheus:{self.config.url}"

    def fetch(self, start: datetime, end: datetime) -> ClusterHistory:
        """Run every query of the table for ``[start, end)`` and assemble the history."""
        _check_window(start, end)
        client = (
            PrometheusClient(self.config, self._transport)
            if self._sleep is None
            else PrometheusClient(self.config, self._transport, self._sleep)
        )
        try:
            self.warnings = []
            interval = self._interval(client, start, end)
            self.scrape_interval_seconds = interval
            results = self._run(client, QUERIES, interval, start, end)
            results.update(self._sampled(client, results, Frame(interval, start, end)))
        finally:
            client.close()
        self.warnings.extend(q.optional for q in QUERIES if q.optional and _absent(q, results[q.name]))
        history = assemble(results, interval, start, end)
        unhosted = unhosted_warning(history)
        if unhosted is not None:
            self.warnings.append(unhosted)
        return history

    def _interval(self, client: PrometheusClient, start: datetime, end: datetime) -> float:
        if self.config.scrape_interval_seconds is not None:
            return self.config.scrape_interval_seconds
        frame = self._run(client, (SCRAPE_INTERVAL,), DEFAULT_INTERVAL_SECONDS, start, end)[SCRAPE_INTERVAL.name]
        most = frame.get_column("value").max()
        if not isinstance(most, float) or most <= 0:
            self.warnings.append(
                f"no kube_node_info samples between {start.isoformat()} and {end.isoformat()}: "
                f"scrape interval assumed {DEFAULT_INTERVAL_SECONDS:g} s"
            )
            return DEFAULT_INTERVAL_SECONDS
        return float(round(3600.0 / most))

    def _run(
        self, client: PrometheusClient, queries: tuple[Query, ...], interval: float, start: datetime, end: datetime
    ) -> dict[str, pl.DataFrame]:
        window = int((end - start).total_seconds())
        label, cluster = self.config.cluster_label, self.config.cluster_name

        def one(query: Query) -> pl.DataFrame:
            promql = query.render(interval, window, label)
            if query.shape is Shape.BUCKETS:
                series = client.query_range(promql, start + HOUR, end, HOUR.total_seconds())
            else:
                series = client.query(promql, end)
            return to_frame(series, query, label, cluster)

        with ThreadPoolExecutor(max_workers=self.config.max_concurrency) as pool:
            frames = list(pool.map(one, queries))
        return {query.name: frame for query, frame in zip(queries, frames, strict=True)}

    def _sampled(self, client: PrometheusClient, r: Results, frame: Frame) -> dict[str, pl.DataFrame]:
        """The presence and counter results, with the buckets plain range functions cannot answer exactly
        read per sample (see :mod:`sampled`): counter buckets with a reset, and the CPU counter of every container
        that started, stopped or restarted in a bucket (its running presence is partial there, or its start time
        falls in it), whose samples' timestamps (:data:`activity.CPU_SPANS`) give the time its increase covers."""
        label, cluster = self.config.cluster_label, self.config.cluster_name
        partial = {spec.name: sampled.partial_presence(r, spec, frame.interval) for spec in PRESENCE}
        resets = {spec.name: sampled.reset_buckets(r, spec) for spec in COUNTERS}
        cpu_resets = resets[CPU_SECONDS]
        started = activity.started_in_bucket([r["started_min"], r["started_max"]])
        changed = pl.concat([partial["container_running"].select(started.columns), started]).unique()
        resets[CPU_SECONDS] = pl.concat([cpu_resets, activity.container_buckets(changed, r["pod_info"])]).unique()
        hours = [frame.start + HOUR * k for k in range(int((frame.end - frame.start) / HOUR))]
        jobs = [
            (spec, request)
            for specs, wanted, window in (
                (PRESENCE, partial, sampled.PRESENCE_RANGE),
                (COUNTERS, resets, sampled.COUNTER_RANGE),
            )
            for spec in specs
            for request in sampled.requests(spec, wanted[spec.name], window, hours)
        ]

        def one(job: tuple[Sampled, tuple[str, datetime]]) -> list[Series]:
            promql, at = job[1]
            return client.query_matrix(promql, at)

        with ThreadPoolExecutor(max_workers=self.config.max_concurrency) as pool:
            answers = list(pool.map(one, jobs))
        parts: dict[str, list[tuple[datetime, list[Series]]]] = {name: [] for name in SAMPLED}
        for (spec, (_, at)), answer in zip(jobs, answers, strict=True):
            parts[spec.name].append((at, answer))
        samples = {name: sampled.to_samples(SAMPLED[name], part, label, cluster) for name, part in parts.items()}
        out: dict[str, pl.DataFrame] = {}
        for spec in PRESENCE:
            exact = sampled.sampled_presence(samples[spec.name], spec, partial[spec.name])
            full = sampled.full_presence(r, spec, frame.interval, partial[spec.name])
            out.update(sampled.as_results(spec, pl.concat([full, exact.select(full.columns)])))
        for spec in COUNTERS:
            wanted = resets[spec.name]
            exact = sampled.counter_sums(samples[spec.name], spec, wanted, frame.interval)
            out[spec.name] = sampled.replace_buckets(r[spec.name], exact, wanted, "value")
        peaks = sampled.counter_sums(samples[CPU_SECONDS], SAMPLED[CPU_SECONDS], cpu_resets, frame.interval)
        out["cpu_cores_max"] = sampled.replace_buckets(r["cpu_cores_max"], peaks, cpu_resets, "peak")
        out[activity.CPU_SPANS] = sampled.counter_spans(samples[CPU_SECONDS], SAMPLED[CPU_SECONDS], resets[CPU_SECONDS])
        return out


def _check_window(start: datetime, end: datetime) -> None:
    for name, moment in (("start", start), ("end", end)):
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
        if moment.tzinfo is None or (utc.minute, utc.second, utc.microsecond) != (0, 0, 0):
            raise InvalidWindow(f"must be a timezone-aware whole UTC hour, got {moment.isoformat()}", name)
    if start >= end:
        raise InvalidWindow(f"start {start.isoformat()} is not before end {end.isoformat()}", "start")


def _absent(query: Query, frame: pl.DataFrame) -> bool:
    if query.name in prices.PRICE_QUERIES:
        return frame.is_empty()
    return frame.is_empty() or not (frame.get_column("value") > 0).any()


def _presence(r: Results, name: str, keys: list[str]) -> pl.DataFrame:
    return iv.presence(r[f"{name}_n"], r[f"{name}_first"], r[f"{name}_last"], keys)


def _exact(frames: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    return pl.concat([f.select(*keys, pl.col("value").alias("at")) for f in frames]).filter(pl.col("at") > 0).unique()


def _intervals(r: Results, name: str, keys: list[str], frame: Frame) -> pl.DataFrame:
    merged = iv.merge(iv.pieces(_presence(r, name, keys), keys, frame.interval), keys)
    return iv.to_times(merged, frame.start, frame.end)


def _pod_intervals(r: Results, frame: Frame) -> pl.DataFrame:
    interval = frame.interval
    keys = ["cluster", "uid"]
    merged = iv.merge(iv.pieces(_presence(r, "pod_running", keys), keys, interval), keys)
    merged = iv.snap(merged, _exact([r["pod_start"]], keys), keys, "start", interval)
    merged = iv.snap(merged, _exact([r["pod_completion"]], keys), keys, "end", interval)
    return iv.to_times(merged, frame.start, frame.end).rename({"uid": "pod_uid"})


def _container_intervals(r: Results, frame: Frame) -> pl.DataFrame:
    """Running intervals (split at exact restarts, edges snapped to exact times) and waiting intervals."""
    keys, interval = ["cluster", "uid", "container"], frame.interval
    splits = (
        r["terminated_max"]
        .select(*keys, "hour", pl.col("value").alias("terminated"))
        .join(r["started_max"].select(*keys, "hour", pl.col("value").alias("restarted")), on=[*keys, "hour"])
    )
    running = iv.merge(iv.pieces(_presence(r, "container_running", keys), keys, interval, splits), keys)
    containers = r["containers"].select(keys)
    pod_times = [
        containers.join(r[name].select("cluster", "uid", "value"), on=["cluster", "uid"])
        for name in ("pod_start", "pod_completion")
    ]
    starts = _exact([r["started_min"], r["started_max"], pod_times[0]], keys)
    ends = _exact([r["terminated_min"], r["terminated_max"], pod_times[1]], keys)
    running = iv.snap(iv.snap(running, starts, keys, "start", interval), ends, keys, "end", interval)
    waiting = iv.merge(iv.pieces(_presence(r, "container_waiting", keys), keys, interval), keys)
    frames = [
        iv.to_times(part, frame.start, frame.end).with_columns(pl.lit(state).alias("state"))
        for state, part in (("running", running), ("waiting", waiting))
    ]
    return pl.concat(frames).rename({"uid": "pod_uid"})


def assemble(r: Results, interval: float, start: datetime, end: datetime) -> ClusterHistory:
    """The ClusterHistory of the query results ``r`` (by query name) at scrape interval ``interval``, every table in
    its canonical row order (two fetches of the same data give identical tables)."""
    history = _assemble(r, interval, start, end)
    tables = {name: canonical_order(frame) for name, frame in history.tables().items()}
    return ClusterHistory(start=start, end=end, **tables)


def _assemble(r: Results, interval: float, start: datetime, end: datetime) -> ClusterHistory:
    frame = Frame(interval, start, end)
    nodes = objects.node_table(r, _intervals(r, "node", ["cluster", "node"], frame))
    pods = objects.pod_table(r)
    containers = objects.container_table(r)
    container_intervals = _container_intervals(r, frame)
    present = pl.concat(
        [
            _presence(r, name, keys).select("cluster", pl.col("uid").alias("pod_uid"), "hour")
            for name, keys in (
                ("pod_running", ["cluster", "uid"]),
                ("container_running", ["cluster", "uid", "container"]),
            )
        ]
    )
    usage = activity.over_running_time(
        activity.usage_table(r, pods, containers, present),
        activity.Spans(r.get(activity.CPU_SPANS), pods, present),
        container_intervals.filter(pl.col("state") == "running"),
        start,
    )
    volume_keys = ["cluster", "persistentvolume"]
    volumes, mounts = objects.volume_tables(r, _intervals(r, "volume", volume_keys, frame))
    service_keys = ["cluster", "namespace", "service"]
    services, service_pods = objects.service_tables(r, _intervals(r, "service", service_keys, frame))
    return ClusterHistory.build(
        start,
        end,
        nodes=nodes,
        namespaces=objects.namespace_table(r),
        pods=pods,
        pod_intervals=_pod_intervals(r, frame),
        containers=containers,
        container_intervals=container_intervals,
        usage=usage,
        volumes=volumes,
        mounts=mounts,
        services=services,
        service_pods=service_pods,
        egress=activity.egress_table(r, pods, present),
        **prices.observed_tables(r),
    )

"""Per-sample reads of partial presence buckets and of counter buckets with a reset."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from kubetally.history import TIME
from kubetally.sources.prometheus import sampled
from kubetally.sources.prometheus.client import Series
from kubetally.sources.prometheus.queries import SAMPLED

HOUR = datetime(2026, 1, 1, 1, tzinfo=UTC)
H = HOUR.timestamp()
POD = SAMPLED["pod_running"]
CPU = SAMPLED["cpu_core_seconds"]


def _bucket(name: str, rows: list[tuple[str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"cluster": ["c"] * len(rows), "uid": [r[0] for r in rows], "value": [r[1] for r in rows]}
    ).with_columns(pl.lit(HOUR).cast(TIME).alias("hour"))


def test_full_buckets_come_from_the_plain_queries_and_partial_ones_are_read_per_sample() -> None:
    results = {
        "pod_running_n": _bucket("n", [("full", 60.0), ("part", 12.0), ("gone", 0.0)]),
        "pod_running_last": _bucket("last", [("full", H + 3590.0), ("part", H + 3590.0)]),
    }
    partial = sampled.partial_presence(results, POD, 60.0)
    assert partial.get_column("uid").to_list() == ["part"]
    full = sampled.full_presence(results, POD, 60.0, partial)
    assert full.select("uid", "n", "first", "last").rows() == [("full", 60.0, H + 50.0, H + 3590.0)]
    [(query, at), (nothing, _)] = sampled.requests(POD, partial, "1h", [HOUR, datetime(2026, 1, 1, 2, tzinfo=UTC)])
    assert "uid=~`/`" in nothing
    assert query == 'kube_pod_status_phase{phase="Running", uid=~`part`}[1h] offset 1ms'
    assert at == datetime(2026, 1, 1, 2, tzinfo=UTC)
    times = [H + 50.0 + 60.0 * k for k in range(60)]
    values = [1.0 if 10 <= k < 22 and k != 15 else 0.0 for k in range(60)]
    answer = [Series({"cluster": "c", "uid": "part", "phase": "Running"}, times, values)]
    samples = sampled.to_samples(POD, [(at, answer)], "cluster", "c")
    exact = sampled.sampled_presence(samples, POD, partial)
    assert exact.select("uid", "n", "first", "last").rows() == [("part", 11.0, times[10], times[21])]


def test_a_counter_bucket_with_a_reset_sums_its_increases_and_counts_from_zero_after_the_reset() -> None:
    labels = {"cluster": "c", "namespace": "n", "pod": "p", "container": "app"}
    before = [H - 240.0, H - 180.0]
    inside = [H + 60.0 * k for k in range(4)]
    series = Series(labels, [*before, *inside], [100.0, 110.0, 130.0, 5.0, 20.0, 50.0])
    wanted = pl.DataFrame({"cluster": ["c"], "namespace": ["n"], "pod": ["p"], "container": ["app"]}).with_columns(
        pl.lit(HOUR).cast(TIME).alias("hour")
    )
    [(query, at)] = sampled.requests(CPU, wanted, "3900s", [HOUR])
    assert "pod=~`p`" in query and query.endswith("[3900s] offset 1ms")
    samples = sampled.to_samples(CPU, [(at, [series])], "cluster", "c")
    sums = sampled.counter_sums(samples, CPU, wanted, 60.0)
    assert sums.select("value", "peak").rows() == [(20.0 + 5.0 + 15.0 + 30.0, 0.5)]
    plain = wanted.with_columns(pl.lit(999.0).alias("value")).select("cluster", "namespace", "pod", "container",
                                                                    "value", "hour")  # fmt: skip
    replaced = sampled.replace_buckets(plain, sums, wanted, "value")
    assert replaced.get_column("value").to_list() == [70.0]


def test_the_regex_escapes_values_and_matches_nothing_when_empty() -> None:
    assert sampled.regex(["pod-1.x", "a", "a"]) == r"a|pod\-1\.x"
    assert sampled.regex([]) == sampled.NOTHING

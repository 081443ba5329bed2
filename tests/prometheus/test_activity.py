"""CPU of the containers that start or stop in a bucket: the counter's rate over the time its samples cover.

Every case is a container using a steady number of cores, so the expected core-seconds are cores x running
seconds, whatever the scrape interval and wherever the samples fall.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from kubetally.history import TIME
from kubetally.sources.prometheus import sampled
from kubetally.sources.prometheus.activity import Spans, over_running_time, started_in_bucket
from kubetally.sources.prometheus.client import Series
from kubetally.sources.prometheus.queries import SAMPLED

START = datetime(2026, 1, 1, tzinfo=UTC)
HOUR = START + timedelta(hours=1)
H = HOUR.timestamp()
CPU = SAMPLED["cpu_core_seconds"]
LABELS = {"cluster": "c", "namespace": "n", "pod": "p", "container": "x"}
INTERVALS = (15, 30, 60)


def _usage(cpu: float) -> pl.DataFrame:
    return pl.DataFrame(
        {"cluster": ["c"], "pod_uid": ["u"], "container": ["x"], "hour": [HOUR], "cpu_core_seconds": [cpu]},
        schema_overrides={"hour": TIME},
    )


def _running(*spans: tuple[float, float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cluster": ["c"] * len(spans),
            "pod_uid": ["u"] * len(spans),
            "container": ["x"] * len(spans),
            "start": [HOUR + timedelta(seconds=s) for s, _ in spans],
            "end": [HOUR + timedelta(seconds=e) for _, e in spans],
        },
        schema_overrides={"start": TIME, "end": TIME},
    )


def _spans(*series: list[tuple[float, float]]) -> Spans:
    """Raw counter samples (seconds from the bucket start, value) of one or more series of the container."""
    answer = [Series(LABELS, [H + t for t, _ in points], [v for _, v in points]) for points in series]
    wanted = pl.DataFrame({k: [v] for k, v in LABELS.items()}).with_columns(pl.lit(HOUR).cast(TIME).alias("hour"))
    samples = sampled.to_samples(CPU, [(HOUR + timedelta(hours=1), answer)], "cluster", "c")
    pods = pl.DataFrame({"cluster": ["c"], "namespace": ["n"], "pod": ["p"], "pod_uid": ["u"]})
    present = pl.DataFrame({"cluster": ["c"], "pod_uid": ["u"]}).with_columns(pl.lit(HOUR).cast(TIME).alias("hour"))
    return Spans(sampled.counter_spans(samples, CPU, wanted), pods, present)


def _cpu(usage: pl.DataFrame, spans: Spans, running: pl.DataFrame) -> float:
    value = over_running_time(usage, spans, running, START).get_column("cpu_core_seconds").item()
    assert isinstance(value, float)
    return value


@pytest.mark.parametrize("interval", INTERVALS)
def test_a_short_job_sampled_from_its_start_to_its_end_uses_its_steady_rate(interval: int) -> None:
    # 2 cores from 600 s to 780 s; the counter is scraped at the start, every interval, and once at the end.
    points = [(float(t), 2.0 * (t - 600)) for t in range(600, 781, interval)]
    plain = points[-1][1]
    assert _cpu(_usage(plain), _spans(points), _running((600, 780))) == pytest.approx(2.0 * 180)


@pytest.mark.parametrize("interval", INTERVALS)
def test_a_counter_scraped_after_its_container_stopped_grows_no_more(interval: int) -> None:
    # 2 cores from 607 s to 787 s, scraped on the grid until 3 intervals after the end (the value stays put).
    times = range(interval * (607 // interval + 1), 787 + 3 * interval, interval)
    points = [(float(t), 2.0 * (min(t, 787) - 607)) for t in times]
    assert _cpu(_usage(points[-1][1]), _spans(points), _running((607, 787))) == pytest.approx(2.0 * 180)


@pytest.mark.parametrize("interval", INTERVALS)
def test_the_time_after_the_last_sample_is_charged_at_the_rate(interval: int) -> None:
    # 1 core from before the bucket until 1500 s; the last sample is the last grid point before the end.
    times = range(-interval, 1500, interval)
    points = [(float(t), 5000.0 + t) for t in times]
    delta = points[-1][1] - points[0][1]
    assert _cpu(_usage(delta), _spans(points), _running((-7200, 1500))) == pytest.approx(1500.0)


def test_a_restart_counts_each_series_from_its_own_start() -> None:
    # 3 cores over 0–1000 s (counter carried from before), then again over 1300–1900 s in a new series.
    first = [(float(t), 9000.0 + 3.0 * min(t, 1000)) for t in range(-60, 1061, 60)]
    second = [(float(t), 3.0 * (min(t, 1900) - 1300)) for t in range(1320, 1981, 60)]
    plain = (first[-1][1] - first[0][1]) + second[-1][1]
    running = _running((-7200, 1000), (1300, 1900))
    assert _cpu(_usage(plain), _spans(first, second), running) == pytest.approx(3.0 * 1600)


def test_buckets_not_read_raw_are_unchanged() -> None:
    empty = Spans(None, pl.DataFrame(), pl.DataFrame())
    assert _cpu(_usage(3600.0), empty, _running((-7200, 7200))) == 3600.0


def test_a_container_starting_on_the_first_scrape_of_a_bucket_is_read_raw() -> None:
    started = pl.DataFrame(
        {
            "cluster": ["c"] * 3,
            "uid": ["at-start", "inside", "before"],
            "container": ["x"] * 3,
            "hour": [HOUR] * 3,
            "value": [H, H + 1799.5, H - 0.5],
        },
        schema_overrides={"hour": TIME},
    )
    assert sorted(started_in_bucket([started]).get_column("uid").to_list()) == ["at-start", "inside"]


def test_a_counter_starting_with_its_bucket_is_divided_by_the_time_it_covers() -> None:
    # 0.5 core from the bucket start; every scrape of the hour is there, the last one at 3540 s.
    points = [(float(t), 0.5 * t) for t in range(0, 3600, 60)]
    assert _cpu(_usage(points[-1][1]), _spans(points), _running((0, 7200))) == pytest.approx(0.5 * 3600)

"""CPU of a container's last scrape interval is completed at the bucket's average rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from kubetally.history import TIME
from kubetally.sources.prometheus.activity import complete_last_interval

HOUR = datetime(2026, 1, 1, tzinfo=UTC)
END = HOUR + timedelta(hours=3)


def _usage(cpu: float) -> pl.DataFrame:
    return pl.DataFrame(
        {"cluster": ["c"], "pod_uid": ["u"], "container": ["x"], "hour": [HOUR], "cpu_core_seconds": [cpu]},
        schema_overrides={"hour": TIME},
    )


def _running(seconds: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cluster": ["c"],
            "pod_uid": ["u"],
            "container": ["x"],
            "start": [HOUR],
            "end": [HOUR + timedelta(seconds=seconds)],
        },
        schema_overrides={"start": TIME, "end": TIME},
    )


def _last(seconds: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"cluster": ["c"], "uid": ["u"], "container": ["x"], "hour": [HOUR], "value": [HOUR.timestamp() + seconds]},
        schema_overrides={"hour": TIME},
    )


def test_a_container_stopping_between_scrapes_gets_the_rest_of_its_cpu() -> None:
    # One core from 0 s; the last sample at 1440 s saw 1440 core-seconds; it stopped at 1500 s.
    completed = complete_last_interval(_usage(1440.0), _running(1500), _last(1440), 60.0, END)
    assert completed.get_column("cpu_core_seconds").to_list() == [1500.0]


def test_a_container_running_past_the_window_is_unchanged() -> None:
    running = _running(4 * 3600)
    completed = complete_last_interval(_usage(3600.0), running, _last(3540), 60.0, END)
    assert completed.get_column("cpu_core_seconds").to_list() == [3600.0]

"""Hostile scenarios and simulation parameters: each gives InvalidScenario or InvalidParameter, never a crash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kubetally.errors import InvalidParameter, InvalidScenario
from kubetally.sources.simulator import load_scenario, simulate
from kubetally.sources.simulator.scenario import MAX_CONTAINER_HOURS, MAX_HOURS, MAX_NODES, MAX_PODS
from tests.sources.conftest import NOW, START

TINY = """
name: tiny
hours: 2
clusters:
  - name: c1
    nodes: [{name: n1, instance_type: m5.large, zone: z1, cpu_cores: 2, ram_gib: 8}]
    workloads:
      - {name: web, namespace: shop, containers: [{name: app, cpu_request: 0.5}]}
"""


def write(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "scenario.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "expected a mapping at the top level, got NoneType"),
        (b"\xff\xfe\x00\x98 binary", "not a UTF-8 text file"),
        ("[" * 5000, "not valid YAML"),
        (TINY.replace("hours: 2", "hours: 100000"), "field hours"),
        (TINY.replace("ram_gib: 8}", f"ram_gib: 8, count: {MAX_NODES + 1}}}"), "nodes is more than the limit"),
        (
            TINY.replace("hours: 2", "hours: 100").replace("namespace: shop,", "namespace: shop, replicas: 500000,"),
            "container-hours is more than the limit",
        ),
        (TINY.replace("namespace: shop,", "namespace: shop, replicas: 2000000,"), "pods is more than the limit"),
        (
            TINY.replace("namespace: shop,", "namespace: shop, kind: CronJob, duration: 1s, every: 0.001,"),
            "every must be at least 1m",
        ),
    ],
)
def test_hostile_scenario_files(tmp_path: Path, content: str | bytes, fragment: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(InvalidScenario) as caught:
        load_scenario(path)
    assert path in caught.value.message
    assert fragment in caught.value.message


def test_a_directory_is_not_a_scenario(tmp_path: Path) -> None:
    with pytest.raises(InvalidScenario, match="not a readable file"):
        load_scenario(str(tmp_path))


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("large:pods=abc", "pods: expected a positive integer"),
        ("large:nodes=-1", "nodes: expected a positive integer"),
        ("large:days=100000", f"days: at most {MAX_HOURS // 24}"),
        ("large:pods=99999999999999999999", "pods: at most"),
        (f"large:nodes={MAX_NODES + 1}", "nodes: at most"),
        ("large:pods=800000,days=300", f"limit of {MAX_CONTAINER_HOURS:,} container-hours"),
        ("large:cronjobs=99999999999", "cronjobs: at most"),
        ("large:pods=1,days=300,cronjobs=30", f"cronjobs: .* limit of {MAX_PODS:,} pods"),
        ("large:pods=2700,days=300,cronjobs=10", f"limit of {MAX_CONTAINER_HOURS:,} container-hours"),
    ],
)
def test_large_parameters_are_bounded(name: str, fragment: str) -> None:
    with pytest.raises(InvalidScenario, match=fragment):
        load_scenario(name)


@pytest.fixture
def tiny(tmp_path: Path) -> str:
    return write(tmp_path, TINY)


@pytest.mark.parametrize(
    ("hours", "start", "fragment"),
    [
        (0, START, "hours: must be from 1"),
        (MAX_HOURS + 1, START, "hours: must be from 1"),
        (None, START + timedelta(minutes=30), "start: must be a whole hour"),
        (None, START.replace(tzinfo=None), "start: .* has no time zone"),
        (None, NOW.replace(minute=0) + timedelta(hours=1), "start: .* is in the future"),
    ],
)
def test_bad_simulation_parameters(tiny: str, hours: int | None, start: datetime, fragment: str) -> None:
    with pytest.raises(InvalidParameter, match=fragment):
        simulate(load_scenario(tiny), start=start, hours=hours, now=NOW)


def test_long_windows_are_bounded_by_container_hours(tmp_path: Path) -> None:
    wide = write(tmp_path, TINY.replace("namespace: shop,", "namespace: shop, replicas: 5000,"))
    with pytest.raises(InvalidParameter, match=r"hours: .* container-hours"):
        simulate(load_scenario(wide), hours=MAX_HOURS, now=NOW)


def test_long_windows_are_bounded_by_pods(tmp_path: Path) -> None:
    cron = "{name: job-%s, namespace: shop, kind: CronJob, duration: 30s, every: 1m, containers: [{name: app}]}"
    jobs = "\n".join(f"      - {cron % index}" for index in range(2))
    frequent = write(tmp_path, TINY + jobs + "\n")
    assert load_scenario(frequent).hours == 2
    with pytest.raises(InvalidParameter, match=r"hours: .* pods, more than the limit"):
        simulate(load_scenario(frequent), hours=MAX_HOURS, now=NOW)


def test_a_naive_now_is_rejected(tiny: str) -> None:
    with pytest.raises(InvalidParameter, match="now"):
        simulate(load_scenario(tiny), now=datetime(2026, 3, 1))


def test_a_window_ending_now_is_accepted(tiny: str) -> None:
    now = datetime(2026, 3, 1, 5, tzinfo=UTC)
    simulation = simulate(load_scenario(tiny), start=now - timedelta(hours=2), now=now)
    assert simulation.end == now

"""The OpenMetrics exposition: accepted by promtool, and its series agree with the history."""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest

from kubetally.sources.simulator import Simulation, load_scenario, simulate, to_history, write_openmetrics
from tests.sources.conftest import NOW, START

SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+) (\d+)$")


def promtool_accepts(path: Path, out: Path) -> None:
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    assert Path(promtool).exists(), "promtool is required (apt-get install prometheus)"
    result = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(path), str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert any(out.iterdir())


def parse(path: Path) -> dict[tuple[str, frozenset[tuple[str, str]]], list[tuple[int, float]]]:
    series: dict[tuple[str, frozenset[tuple[str, str]]], list[tuple[int, float]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = SAMPLE.match(line)
        if match:
            labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2)))
            series.setdefault((match.group(1), labels), []).append((int(match.group(4)), float(match.group(3))))
    return series


def test_small_is_accepted_by_promtool(small: Simulation, tmp_path: Path) -> None:
    path = tmp_path / "small.om"
    write_openmetrics(small, path, scrape_interval_seconds=30)
    assert path.read_text(encoding="utf-8").endswith("# EOF\n")
    promtool_accepts(path, tmp_path / "blocks")


def test_a_demo_slice_is_accepted_by_promtool(tmp_path: Path) -> None:
    sim = simulate(load_scenario("demo"), start=START, hours=2, now=NOW)
    path = tmp_path / "demo.om"
    write_openmetrics(sim, path, scrape_interval_seconds=60)
    promtool_accepts(path, tmp_path / "blocks")


def test_series_agree_with_the_history(small: Simulation, tmp_path: Path) -> None:
    path = tmp_path / "small.om"
    write_openmetrics(small, path, scrape_interval_seconds=60)
    series = parse(path)
    history = to_history(small)
    base = int(small.start.timestamp())
    pods = {labels for name, labels in series if name == "kube_pod_info"}
    assert len(pods) == history.pods.height
    names = {name for name, _ in series}
    for required in (
        "kube_node_info",
        "kube_node_labels",
        "kube_node_status_capacity",
        "kube_pod_owner",
        "kube_pod_labels",
        "kube_pod_container_status_running",
        "kube_pod_container_resource_requests",
        "kube_persistentvolume_info",
        "kube_persistentvolumeclaim_info",
        "kube_pod_spec_volumes_persistentvolumeclaims_info",
        "kube_service_spec_type",
        "kube_service_status_load_balancer_ingress",
        "container_cpu_usage_seconds_total",
        "container_memory_working_set_bytes",
        "kubecost_pod_network_egress_bytes_total",
        "kube_pod_container_status_last_terminated_timestamp",
        "kube_pod_container_status_waiting_reason",
    ):
        assert required in names, required
    uid = {row["pod"]: row["pod_uid"] for row in history.pods.iter_rows(named=True)}
    usage = history.usage.with_columns(((pl.col("hour").dt.epoch("s") - base) // 3600).alias("h"))
    for (name, labels), samples in series.items():
        times = [t for t, _ in samples]
        assert times == sorted(times)
        if name != "container_cpu_usage_seconds_total":
            continue
        label = dict(labels)
        expected = usage.filter(
            (pl.col("pod_uid") == uid[label["pod"]]) & (pl.col("container") == label["container"])
        ).sort("h")
        values = dict(samples)
        restarts = sum(1 for (_, x), (_, y) in itertools.pairwise(samples) if y < x)
        assert restarts == (1 if label["container"] == "app" else 0)
        if restarts == 0 and base in values and base + 3600 in values:
            first_hour = expected.filter(pl.col("h") == 0).item(0, "cpu_core_seconds")
            assert values[base + 3600] - values[base] == pytest.approx(first_hour)

"""Loading scenarios, determinism, the features of ``demo`` and the ``large`` generator."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.errors import InvalidScenario
from kubetally.sources.simulator import Simulation, load_scenario, simulate, to_history
from tests.sources.conftest import NOW, START

SMALL_YAML = """
name: tiny
hours: 2
clusters:
  - name: c1
    nodes: [{name: n1, instance_type: m5.large, zone: z1, cpu_cores: 2, ram_gib: 8}]
    workloads:
      - {name: web, namespace: shop, containers: [{name: app, cpu_request: 0.5}]}
"""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: [unclosed", "not valid YAML"),
        ("- a list", "expected a mapping"),
        (SMALL_YAML.replace("hours: 2", "hours: 2\ncolour: red"), "field colour"),
        (SMALL_YAML.replace("cpu_cores: 2", "cpu_cores: -2"), "field clusters.0.nodes.0.cpu_cores"),
        (
            SMALL_YAML.replace("cpu_request: 0.5", "cpu_request: 0.5, bogus: 1"),
            "clusters.0.workloads.0.containers.0.bogus",
        ),
        (SMALL_YAML.replace("namespace: shop,", "namespace: shop, start: soon,"), "clusters.0.workloads.0.start"),
        (SMALL_YAML.replace("namespace: shop,", "namespace: shop, kind: CronJob,"), "needs a duration"),
    ],
)
def test_bad_scenario_files_name_the_file_and_field(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidScenario) as caught:
        load_scenario(str(path))
    assert str(path) in caught.value.message
    assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("no-such-scenario", "not a built-in scenario"),
        ("large:nodes=0", "nodes: expected a positive integer"),
        ("large:colour=3", "expected one of nodes, pods, days, cronjobs"),
        ("large:cronjobs=-1", "cronjobs: expected a non-negative integer"),
        ("large:cronjobs=many", "cronjobs: expected a non-negative integer"),
    ],
)
def test_bad_scenario_names(name: str, fragment: str) -> None:
    with pytest.raises(InvalidScenario, match=fragment):
        load_scenario(name)


def test_a_yaml_file_loads_and_defaults_apply(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(SMALL_YAML, encoding="utf-8")
    scenario = load_scenario(str(path))
    assert scenario.name == "tiny"
    assert scenario.model_dump()["clusters"][0]["workloads"][0]["kind"] == "Deployment"
    history = to_history(simulate(scenario, now=NOW))
    assert history.end == NOW.replace(minute=0) and (history.end - history.start).total_seconds() == 2 * 3600


def test_same_seed_same_cluster_other_seed_other_usage() -> None:
    scenario = load_scenario("demo")
    first = to_history(simulate(scenario, seed=3, start=START, hours=24, now=NOW))
    again = to_history(simulate(scenario, seed=3, start=START, hours=24, now=NOW))
    other = to_history(simulate(scenario, seed=4, start=START, hours=24, now=NOW))
    for name, frame in first.tables().items():
        assert_frame_equal(frame, again.tables()[name], check_exact=True)
    assert not first.usage.get_column("cpu_core_seconds").equals(other.usage.get_column("cpu_core_seconds"))


def _pods_of(history: pl.DataFrame, controller: str) -> pl.DataFrame:
    return history.filter(pl.col("controller") == controller)


def test_demo_has_every_feature(demo: Simulation) -> None:
    h = to_history(demo)
    h.validate()
    assert sorted(h.clusters) == ["prod-eu", "prod-us"]
    assert 25 <= h.nodes.select("cluster", "node").n_unique() <= 35
    assert 250 <= h.pods.height <= 350
    assert h.nodes.filter(pl.col("gpu_count") > 0).height >= 1
    spot = h.nodes.explode("labels").filter(pl.col("labels").struct.field("value") == "SPOT")
    assert spot.height >= 1 and h.nodes.get_column("instance_type").n_unique() >= 4
    assert h.nodes.filter(pl.col("start") > h.start).height >= 1, "a node joins"
    assert h.nodes.filter(pl.col("end") < h.end).height >= 1, "a node leaves"
    kinds = set(h.pods.get_column("controller_kind").drop_nulls())
    assert kinds == {"deployment", "statefulset", "daemonset", "job"}
    assert h.pods.filter(pl.col("cronjob").is_not_null()).height >= 1, "a CronJob's jobs"
    assert h.pods.filter(pl.col("controller_kind").is_null()).height >= 1, "bare pods"
    containers = h.containers.join(
        h.usage.group_by("cluster", "pod_uid", "container").agg((pl.col("cpu_core_seconds").sum() / 1).alias("used")),
        on=["cluster", "pod_uid", "container"],
    )
    assert containers.filter(pl.col("cpu_request_cores") == 0).height >= 1, "usage without requests"
    cpu = h.usage.join(h.containers, on=["cluster", "pod_uid", "container"])
    assert cpu.filter(pl.col("cpu_cores_max") > pl.col("cpu_request_cores")).height > 0
    assert cpu.filter(pl.col("cpu_cores_max") < pl.col("cpu_request_cores")).height > 0
    running = h.container_intervals.filter(pl.col("state") == "running")
    per_container = running.group_by("cluster", "pod_uid", "container").len()
    assert per_container.filter(pl.col("len") > 1).height >= 1, "restarts"
    stateful = h.pod_intervals.join(h.pods, on=["cluster", "pod_uid"]).filter(
        pl.col("controller_kind") == "statefulset"
    )
    assert stateful.group_by("pod_uid").len().filter(pl.col("len") == 2).height >= 1, "stops and starts again"
    lengths = (
        running.join(h.pods, on=["cluster", "pod_uid"])
        .filter(pl.col("controller_kind") == "job")
        .select((pl.col("end") - pl.col("start")).dt.total_seconds().alias("s"))
    )
    assert lengths.filter(pl.col("s") < 60).height >= 1 and lengths.filter(pl.col("s").is_between(60, 299)).height >= 1
    assert h.pods.filter(pl.col("node").is_null()).height >= 1, "Pending"
    assert h.container_intervals.filter(pl.col("state") == "waiting").height >= 1, "ImagePullBackOff"
    mounts = h.mounts.group_by("cluster", "namespace", "claim").len()
    assert mounts.filter(pl.col("len") == 1).height >= 1 and mounts.filter(pl.col("len") == 2).height >= 1
    claimed = set(h.volumes.drop_nulls("claim").get_column("claim"))
    assert claimed - set(h.mounts.get_column("claim")), "a claim nobody mounts"
    assert h.volumes.filter(pl.col("claim").is_null()).height >= 1, "a PV with no claim"
    assert h.services.filter(pl.col("service_type") == "LoadBalancer").height >= 2
    egress = h.egress.select(pl.col("zone_bytes", "region_bytes", "internet_bytes").sum()).row(0)
    assert all(total > 0 for total in egress)
    labels = set(h.pods.explode("labels").get_column("labels").struct.field("key").drop_nulls())
    assert {"team", "app", "env"} <= labels
    assert h.pods.explode("annotations").get_column("annotations").drop_nulls().len() > 0
    assert {"checkout", "payments", "search", "data", "ml", "monitoring", "kube-system"} <= set(h.pods["namespace"])
    gpus = h.containers.filter(pl.col("gpu_request") > 0).get_column("gpu_request")
    assert (gpus < 1).any() and (gpus >= 1).any(), "shared and whole GPUs"


def test_large_is_parameterised() -> None:
    scenario = load_scenario("large:nodes=8,pods=300,days=2")
    history = to_history(simulate(scenario, start=START, now=NOW))
    assert history.nodes.height == 8 and history.pods.height == 300
    assert history.usage.height == 300 * 48
    assert (history.end - history.start).days == 2


def test_large_cronjobs_start_a_short_pod_every_ten_minutes() -> None:
    scenario = load_scenario("large:nodes=4,pods=20,days=1,cronjobs=4")
    history = to_history(simulate(scenario, start=START, now=NOW))
    jobs = history.pods.filter(pl.col("cronjob").is_not_null())
    # Starts staggered at 0, 150, 300 and 450 s, every 600 s: the last start of each (86,250 s at most) is
    # still inside the day, so each runs 6 x 24 = 144 times and no run is clipped away.
    assert jobs.height == 4 * 6 * 24
    assert history.pods.height == 20 + 4 * 6 * 24
    assert jobs.get_column("cronjob").n_unique() == 4
    assert jobs.get_column("namespace").n_unique() == 4, "spread over the namespaces"


def test_large_without_cronjobs_keeps_its_name() -> None:
    assert load_scenario("large:nodes=8,pods=300,days=2,cronjobs=0").name == "large:nodes=8,pods=300,days=2"
    assert load_scenario("large:nodes=8,pods=300,days=2,cronjobs=3").name.endswith(",cronjobs=3")

"""R1–R3: running time, minimum runtime, waiting time and billing modes, with hand-computed numbers.

Prices (FixedPrices): CPU 1.0 $/core-h, RAM 0.5 $/GiB-h, GPU 10 $/GPU-h. The node has 4 cores and 16 GiB, so
nothing here is over-committed.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubetally.costs import CostResult
from kubetally.domain.policy import BillingMode, BillingPolicy
from kubetally.engine import compute
from tests.engine.conftest import GIB, FixedPrices, at, history, node, one, select

POD = {"pod": "p1", "pod_uid": "u1"}


def run(
    intervals: list[dict[str, object]],
    policy: BillingPolicy | None = None,
    hours: int = 1,
    usage: list[dict[str, object]] | None = None,
    cpu: float = 1.0,
    ram: float = 2 * GIB,
) -> CostResult:
    h = history(
        hours,
        nodes=[node(end=60.0 * hours)],
        pods=[POD],
        containers=[{"pod_uid": "u1", "cpu_request_cores": cpu, "ram_request_bytes": ram}],
        container_intervals=[{"pod_uid": "u1", **i} for i in intervals],
        usage=[{"pod_uid": "u1", **u} for u in usage or []],
    )
    return compute(h, FixedPrices(), policy or BillingPolicy())


def workload(result: CostResult, hour: int = 0) -> dict[str, Any]:
    return one(result.allocations, kind="workload", container="app", hour=at(60 * hour))


def test_restarted_container_is_charged_its_running_intervals_only() -> None:
    result = run([{"start": at(0), "end": at(10)}, {"start": at(20), "end": at(50)}])
    row = workload(result)
    # running 10 + 30 = 40 minutes = 2/3 h; 1 core x 2/3 h x 1.0; 2 GiB x 2/3 h x 0.5
    assert row["running_minutes"] == pytest.approx(40.0)
    assert row["cpu_core_hours"] == pytest.approx(2 / 3)
    assert row["cpu_cost"] == pytest.approx(2 / 3)
    assert row["ram_byte_hours"] == pytest.approx(2 * GIB * 2 / 3)
    assert row["ram_cost"] == pytest.approx(2 * 2 / 3 * 0.5)
    assert row["total_cost"] == pytest.approx(2 / 3 + 2 / 3)
    assert row["namespace"] == "default" and row["pod"] == "p1" and row["node"] == "n1"


def test_interval_spanning_hours_is_cut_at_hour_boundaries() -> None:
    result = run([{"start": at(30), "end": at(150)}], hours=3)
    minutes = [workload(result, h)["running_minutes"] for h in range(3)]
    # [00:30, 02:30) -> 30, 60 and 30 minutes
    assert minutes == pytest.approx([30.0, 60.0, 30.0])


def test_minimum_runtime_bills_short_runs_the_minimum_and_averages_over_real_time() -> None:
    policy = BillingPolicy(minimum_runtime_seconds=300)
    usage = [{"hour": at(0), "cpu_core_seconds": 60.0}]
    result = run([{"start": at(0), "end": at(2)}], policy=policy, usage=usage, cpu=0.25)
    row = workload(result)
    # ran 120 s < 300 s -> billed 300 s = 5 min; usage 60 core-s / 120 s = 0.5 core > 0.25 request
    assert row["running_minutes"] == pytest.approx(5.0)
    assert row["cpu_core_usage_average"] == pytest.approx(0.5)
    assert row["cpu_core_request_average"] == pytest.approx(0.25)
    assert row["cpu_core_hours"] == pytest.approx(0.5 * 300 / 3600)


def test_minimum_runtime_leaves_longer_runs_alone() -> None:
    result = run([{"start": at(0), "end": at(10)}], policy=BillingPolicy(minimum_runtime_seconds=300))
    assert workload(result)["running_minutes"] == pytest.approx(10.0)


def test_without_minimum_runtime_a_40_second_run_is_charged_40_seconds() -> None:
    result = run([{"start": at(0), "end": at(40 / 60)}])
    row = workload(result)
    assert row["running_minutes"] == pytest.approx(40 / 60)
    assert row["cpu_core_hours"] == pytest.approx(40 / 3600)


@pytest.mark.parametrize("charged", [False, True])
def test_waiting_time_is_charged_at_request_only_when_the_policy_says_so(charged: bool) -> None:
    intervals = [
        {"state": "waiting", "start": at(0), "end": at(30)},
        {"state": "running", "start": at(30), "end": at(60)},
    ]
    usage = [{"hour": at(0), "cpu_core_seconds": 2.0 * 1800}]
    result = run(intervals, policy=BillingPolicy(charge_reserved_waiting=charged), usage=usage)
    row = workload(result)
    # running 30 min at max(1 request, 2 usage) = 2 cores -> 1.0 core-h; waiting 30 min at the 1-core request
    running_core_hours = 2.0 * 0.5
    waiting_core_hours = 1.0 * 0.5 if charged else 0.0
    assert row["running_minutes"] == pytest.approx(30.0 + (30.0 if charged else 0.0))
    assert row["cpu_core_hours"] == pytest.approx(running_core_hours + waiting_core_hours)
    assert row["ram_byte_hours"] == pytest.approx(2 * GIB * 0.5 + (2 * GIB * 0.5 if charged else 0.0))


def test_a_container_that_only_waited_has_no_row_unless_waiting_is_charged() -> None:
    intervals = [{"state": "waiting", "start": at(0), "end": at(60)}]
    assert select(run(intervals).allocations, kind="workload").height == 0
    row = workload(run(intervals, policy=BillingPolicy(charge_reserved_waiting=True)))
    assert row["running_minutes"] == pytest.approx(60.0)
    assert row["cpu_core_hours"] == pytest.approx(1.0)
    # the waiting container holds its request; it did not run, so its usage is 0
    assert row["cpu_core_request_average"] == pytest.approx(1.0)
    assert row["cpu_core_usage_average"] == 0.0


@pytest.mark.parametrize(
    ("mode", "cores", "ram_gib"),
    [
        (BillingMode.MAX_REQUEST_USAGE, 1.0, 6.0),
        (BillingMode.REQUEST, 1.0, 4.0),
        (BillingMode.USAGE, 0.5, 6.0),
    ],
)
def test_billing_modes(mode: BillingMode, cores: float, ram_gib: float) -> None:
    # request 1 core / 4 GiB; usage 1800 core-s over 3600 s = 0.5 core, 6 GiB average
    usage = [{"hour": at(0), "cpu_core_seconds": 1800.0, "ram_bytes_avg": 6 * GIB, "ram_bytes_max": 7 * GIB}]
    result = run([{"start": at(0), "end": at(60)}], policy=BillingPolicy(mode), usage=usage, ram=4 * GIB)
    row = workload(result)
    assert row["cpu_core_hours"] == pytest.approx(cores)
    assert row["ram_byte_hours"] == pytest.approx(ram_gib * GIB)
    assert row["cpu_cost"] == pytest.approx(cores * 1.0)
    assert row["ram_cost"] == pytest.approx(ram_gib * 0.5)
    assert row["cpu_core_usage_average"] == pytest.approx(0.5)
    assert row["ram_byte_usage_average"] == pytest.approx(6 * GIB)
    assert row["ram_byte_usage_max"] == pytest.approx(7 * GIB)
    assert row["ram_byte_request_average"] == pytest.approx(4 * GIB)

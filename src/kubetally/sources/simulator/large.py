"""The ``large`` scenario: a parameterised cluster for benchmarks (``large:nodes=100,pods=10000,days=30``).

Pods are replicas of deployments (20 each) and statefulsets spread over namespaces, with hourly usage jitter and
a daily cycle; the nodes are four instance types, a quarter of them spot. ``cronjobs=N`` (default 0) adds N
CronJobs that each start a one-pod job every 10 minutes running 3 minutes: a churning cluster.
"""

from __future__ import annotations

from typing import Any

from kubetally.errors import InvalidScenario
from kubetally.sources.simulator.scenario import (
    MAX_CONTAINER_HOURS,
    MAX_HOURS,
    MAX_NODES,
    MAX_PODS,
    Scenario,
    scenario_from,
)

DEFAULTS = {"nodes": 100, "pods": 10_000, "days": 30, "cronjobs": 0}
CRON_EVERY_SECONDS = 600
CRON_DURATION_SECONDS = 180
CRON_RUNS_PER_DAY = 86_400 // CRON_EVERY_SECONDS
CRON_BUCKETS_PER_RUN = 2
"""The hour buckets a 3-minute job pod can touch (it may start just before an hour ends)."""
MINIMUMS = {"nodes": 1, "pods": 1, "days": 1, "cronjobs": 0}
LIMITS = {
    "nodes": MAX_NODES,
    "pods": MAX_CONTAINER_HOURS // 24,
    "days": MAX_HOURS // 24,
    "cronjobs": MAX_PODS // CRON_RUNS_PER_DAY,
}
"""The largest value of each parameter; together they are also bounded by the pod and container-hours limits."""
_SHAPES = (
    ("m5.2xlarge", 8, 32),
    ("m5.4xlarge", 16, 64),
    ("r5.2xlarge", 8, 64),
    ("c5.4xlarge", 16, 32),
)
_NAMESPACES = ("checkout", "payments", "search", "catalog", "data", "ml", "web", "identity", "ads", "monitoring")
_REPLICAS = 20


def parse_large(text: str) -> dict[str, int]:
    """The parameters of ``large[:nodes=N,pods=N,days=N,cronjobs=N]``; InvalidScenario naming a bad one."""
    params = dict(DEFAULTS)
    _, _, spec = text.partition(":")
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in DEFAULTS:
            raise InvalidScenario(
                f"scenario {text!r}: parameter {item!r}: expected one of {', '.join(DEFAULTS)} as key=value"
            )
        if not value.isdigit() or int(value) < MINIMUMS[key]:
            kind = "a positive" if MINIMUMS[key] else "a non-negative"
            raise InvalidScenario(f"scenario {text!r}: parameter {key}: expected {kind} integer, got {value!r}")
        if len(value) > 9 or int(value) > LIMITS[key]:
            raise InvalidScenario(f"scenario {text!r}: parameter {key}: at most {LIMITS[key]:,}, got {value}")
        params[key] = int(value)
    job_pods = params["cronjobs"] * CRON_RUNS_PER_DAY * params["days"]
    if params["pods"] + job_pods > MAX_PODS:
        raise InvalidScenario(
            f"scenario {text!r}: parameter cronjobs: pods + cronjobs x {CRON_RUNS_PER_DAY} x days is more than "
            f"the limit of {MAX_PODS:,} pods"
        )
    if params["pods"] * params["days"] * 24 + job_pods * CRON_BUCKETS_PER_RUN > MAX_CONTAINER_HOURS:
        raise InvalidScenario(
            f"scenario {text!r}: pods x days x 24 + cronjobs x {CRON_RUNS_PER_DAY} x days x {CRON_BUCKETS_PER_RUN} "
            f"is more than the limit of {MAX_CONTAINER_HOURS:,} container-hours"
        )
    return params


def large_name(nodes: int, pods: int, days: int, cronjobs: int = 0) -> str:
    """The scenario name of these parameters; ``cronjobs`` is named only when there are some."""
    return f"large:nodes={nodes},pods={pods},days={days}" + (f",cronjobs={cronjobs}" if cronjobs else "")


def large_scenario(nodes: int, pods: int, days: int, cronjobs: int = 0) -> Scenario:
    """A scenario with ``nodes`` nodes and ``pods`` long-running pods over ``days`` days, plus ``cronjobs``
    CronJobs each starting a one-pod, 3-minute job every 10 minutes (start offsets staggered over the 10 minutes).
    """
    groups: list[dict[str, Any]] = []
    for index, (instance_type, cpu, ram) in enumerate(_SHAPES):
        count = nodes // len(_SHAPES) + (1 if index < nodes % len(_SHAPES) else 0)
        if count:
            groups.append(
                {
                    "name": f"pool-{instance_type.replace('.', '-')}",
                    "instance_type": instance_type,
                    "zone": f"us-east-1{'abc'[index % 3]}",
                    "capacity_type": "spot" if index == len(_SHAPES) - 1 else "on-demand",
                    "cpu_cores": cpu,
                    "ram_gib": ram,
                    "count": count,
                }
            )
    workloads: list[dict[str, Any]] = []
    remaining = pods
    while remaining > 0:
        index = len(workloads)
        replicas = min(_REPLICAS, remaining)
        remaining -= replicas
        size = 0.1 * (1 + index % 7)
        workloads.append(
            {
                "name": f"svc-{index}",
                "namespace": _NAMESPACES[index % len(_NAMESPACES)],
                "kind": "StatefulSet" if index % 10 == 9 else "Deployment",
                "replicas": replicas,
                "labels": {"app": f"svc-{index}", "team": f"team-{index % 12}", "env": "prod"},
                "jitter": 0.3,
                "diurnal": 0.4,
                "containers": [
                    {
                        "name": "app",
                        "cpu_request": round(size, 3),
                        "memory_request_gib": round(4 * size, 3),
                        "cpu_usage": round(size * (0.5 + (index % 5) * 0.25), 3),
                        "memory_usage_gib": round(4 * size * 0.8, 3),
                    }
                ],
                "egress": {"zone_gib_per_hour": 0.01, "internet_gib_per_hour": 0.002},
            }
        )
    workloads.extend(_cronjob(index, cronjobs) for index in range(cronjobs))
    name = large_name(nodes, pods, days, cronjobs)
    document = {
        "name": name,
        "description": "A parameterised cluster for benchmarks.",
        "seed": 42,
        "hours": days * 24,
        "clusters": [{"name": "large", "region": "us-east-1", "nodes": groups, "workloads": workloads}],
    }
    return scenario_from(document, f"built-in scenario {name}")


def _cronjob(index: int, count: int) -> dict[str, Any]:
    """The ``index``-th of ``count`` CronJobs: a small one-pod job whose start is staggered over the period."""
    size = 0.05 * (1 + index % 4)
    return {
        "name": f"cron-{index}",
        "namespace": _NAMESPACES[index % len(_NAMESPACES)],
        "kind": "CronJob",
        "start": float(CRON_EVERY_SECONDS * index // count),
        "every": float(CRON_EVERY_SECONDS),
        "duration": float(CRON_DURATION_SECONDS),
        "labels": {"app": f"cron-{index}", "team": f"team-{index % 12}", "env": "prod"},
        "jitter": 0.3,
        "containers": [
            {
                "name": "job",
                "cpu_request": round(size, 3),
                "memory_request_gib": round(4 * size, 3),
                "cpu_usage": round(size * 0.8, 3),
                "memory_usage_gib": round(4 * size * 0.6, 3),
            }
        ],
    }

"""The ``large`` scenario: a parameterised cluster for benchmarks (``large:nodes=100,pods=10000,days=30``).

Pods are replicas of deployments (20 each) and statefulsets spread over namespaces, with hourly usage jitter and
a daily cycle; the nodes are four instance types, a quarter of them spot.
"""

from __future__ import annotations

from typing import Any

from kubetally.errors import InvalidScenario
from kubetally.sources.simulator.scenario import MAX_CONTAINER_HOURS, MAX_HOURS, MAX_NODES, Scenario, scenario_from

DEFAULTS = {"nodes": 100, "pods": 10_000, "days": 30}
LIMITS = {"nodes": MAX_NODES, "pods": MAX_CONTAINER_HOURS // 24, "days": MAX_HOURS // 24}
"""The largest value of each parameter; together they are also bounded by the container-hours limit."""
_SHAPES = (
    ("m5.2xlarge", 8, 32),
    ("m5.4xlarge", 16, 64),
    ("r5.2xlarge", 8, 64),
    ("c5.4xlarge", 16, 32),
)
_NAMESPACES = ("checkout", "payments", "search", "catalog", "data", "ml", "web", "identity", "ads", "monitoring")
_REPLICAS = 20


def parse_large(text: str) -> dict[str, int]:
    """The parameters of ``large[:nodes=N,pods=N,days=N]``; InvalidScenario naming a bad one."""
    params = dict(DEFAULTS)
    _, _, spec = text.partition(":")
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = item.partition("=")
        if not sep or key not in DEFAULTS:
            raise InvalidScenario(
                f"scenario {text!r}: parameter {item!r}: expected one of {', '.join(DEFAULTS)} as key=value"
            )
        if not value.isdigit() or int(value) < 1:
            raise InvalidScenario(f"scenario {text!r}: parameter {key}: expected a positive integer, got {value!r}")
        if len(value) > 9 or int(value) > LIMITS[key]:
            raise InvalidScenario(f"scenario {text!r}: parameter {key}: at most {LIMITS[key]:,}, got {value}")
        params[key] = int(value)
    if params["pods"] * params["days"] * 24 > MAX_CONTAINER_HOURS:
        raise InvalidScenario(
            f"scenario {text!r}: pods x days x 24 is more than the limit of {MAX_CONTAINER_HOURS:,} container-hours"
        )
    return params


def large_scenario(nodes: int, pods: int, days: int) -> Scenario:
    """A scenario with ``nodes`` nodes and ``pods`` long-running pods over ``days`` days."""
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
    document = {
        "name": f"large:nodes={nodes},pods={pods},days={days}",
        "description": "A parameterised cluster for benchmarks.",
        "seed": 42,
        "hours": days * 24,
        "clusters": [{"name": "large", "region": "us-east-1", "nodes": groups, "workloads": workloads}],
    }
    return scenario_from(document, f"built-in scenario large:nodes={nodes},pods={pods},days={days}")

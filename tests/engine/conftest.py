"""Fixtures for engine tests: a fixed-price PriceBook and small builders for ClusterHistory tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from kubetally.domain.pricing import PriceBook
from kubetally.history import SCHEMAS, ClusterHistory

GIB = 1024.0**3
T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
CLUSTER = "c1"


def at(minutes: float) -> datetime:
    """``T0`` plus ``minutes``."""
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class FixedPrices(PriceBook):
    """A PriceBook with the same prices everywhere, so the engine is tested in isolation from pricing."""

    cpu: float = 1.0
    ram_gib: float = 0.5
    gpu: float = 10.0
    storage_gib: float = 0.1
    lb: float = 3.6
    management: float = 0.0
    zone: float = 0.01
    region: float = 0.02
    internet: float = 0.12
    unclassified: float = 0.0
    source: str = "default"

    def node_prices(self, nodes: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        return (
            nodes.select("cluster", "node")
            .unique()
            .with_columns(
                pl.lit(self.cpu).alias("cpu_price_per_core_hour"),
                pl.lit(self.ram_gib).alias("ram_price_per_gib_hour"),
                pl.lit(self.gpu).alias("gpu_price_per_gpu_hour"),
                pl.lit(False).alias("preemptible"),
                pl.lit(0.0).alias("discount"),
                pl.lit(self.source).alias("price_source"),
            )
        )

    def volume_prices(self, volumes: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        return (
            volumes.select("cluster", "pv")
            .unique()
            .with_columns(pl.lit(self.storage_gib).alias("price_per_gib_hour"), pl.lit("default").alias("price_source"))
        )

    def lb_prices(self, services: pl.DataFrame, observed: pl.DataFrame) -> pl.DataFrame:
        return (
            services.filter(pl.col("service_type") == "LoadBalancer")
            .select("cluster", "namespace", "service")
            .unique()
            .with_columns(pl.lit(self.lb).alias("price_per_hour"))
        )

    def cluster_prices(self, clusters: list[str], observed: pl.DataFrame) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "cluster": clusters,
                "management_price_per_hour": [self.management] * len(clusters),
                "zone_egress_price_per_gib": [self.zone] * len(clusters),
                "region_egress_price_per_gib": [self.region] * len(clusters),
                "internet_egress_price_per_gib": [self.internet] * len(clusters),
                "unclassified_egress_price_per_gib": [self.unclassified] * len(clusters),
            },
            schema={
                "cluster": pl.String,
                **{
                    c: pl.Float64
                    for c in (
                        "management_price_per_hour",
                        "zone_egress_price_per_gib",
                        "region_egress_price_per_gib",
                        "internet_egress_price_per_gib",
                        "unclassified_egress_price_per_gib",
                    )
                },
            },
        )


DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "nodes": {
        "cluster": CLUSTER,
        "provider_id": None,
        "instance_type": "m5.xlarge",
        "region": "r1",
        "zone": "z1",
        "arch": "amd64",
        "labels": [],
        "cpu_cores": 4.0,
        "ram_bytes": 16 * GIB,
        "gpu_count": 0.0,
        "start": at(0),
    },
    "namespaces": {"cluster": CLUSTER, "labels": [], "annotations": []},
    "pods": {
        "cluster": CLUSTER,
        "namespace": "default",
        "node": "n1",
        "controller_kind": None,
        "controller": None,
        "labels": [],
        "annotations": [],
    },
    "pod_intervals": {"cluster": CLUSTER},
    "containers": {
        "cluster": CLUSTER,
        "container": "app",
        "cpu_request_cores": 0.0,
        "ram_request_bytes": 0.0,
        "gpu_request": 0.0,
    },
    "container_intervals": {"cluster": CLUSTER, "container": "app", "state": "running"},
    "usage": {
        "cluster": CLUSTER,
        "container": "app",
        "cpu_core_seconds": 0.0,
        "cpu_cores_max": 0.0,
        "ram_bytes_avg": 0.0,
        "ram_bytes_max": 0.0,
        "gpu_usage_avg": 0.0,
    },
    "volumes": {
        "cluster": CLUSTER,
        "storage_class": "gp3",
        "provider_id": None,
        "claim_namespace": None,
        "claim": None,
    },
    "mounts": {"cluster": CLUSTER, "namespace": "default"},
    "services": {
        "cluster": CLUSTER,
        "namespace": "default",
        "service_type": "LoadBalancer",
        "ip": "10.0.0.1",
        "private": False,
    },
    "service_pods": {"cluster": CLUSTER, "namespace": "default"},
    "egress": {
        "cluster": CLUSTER,
        "zone_bytes": 0.0,
        "region_bytes": 0.0,
        "internet_bytes": 0.0,
        "unclassified_bytes": 0.0,
        "receive_bytes": 0.0,
    },
}


def table(name: str, rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """A ClusterHistory table from partial rows completed with :data:`DEFAULTS`."""
    schema = SCHEMAS[name]
    full = [{**DEFAULTS.get(name, {}), **row} for row in rows]
    return pl.DataFrame(full, schema=schema)


def history(hours: int = 1, **tables: Iterable[Mapping[str, Any]]) -> ClusterHistory:
    """A history over ``[T0, T0 + hours)`` from partial rows per table."""
    return ClusterHistory.build(
        T0, T0 + timedelta(hours=hours), **{name: table(name, rows) for name, rows in tables.items()}
    )


def node(name: str = "n1", end: float = 60.0, **fields: Any) -> dict[str, Any]:
    """A node row existing until minute ``end``."""
    return {"node": name, "end": at(end), **fields}


@pytest.fixture
def prices() -> FixedPrices:
    return FixedPrices()


def select(frame: pl.DataFrame, **equal: Any) -> pl.DataFrame:
    """Rows of ``frame`` whose columns equal the given values (``None`` matches null)."""
    for column, value in equal.items():
        frame = frame.filter(pl.col(column).is_null() if value is None else pl.col(column) == value)
    return frame


def one(frame: pl.DataFrame, **equal: Any) -> dict[str, Any]:
    """The single row of ``frame`` matching ``equal``, as a dict; fails when there is not exactly one."""
    found = select(frame, **equal)
    assert found.height == 1, f"expected one row matching {equal}, found {found.height}:\n{found}"
    return found.row(0, named=True)


def total(frame: pl.DataFrame, column: str = "total_cost", **equal: Any) -> float:
    """Σ ``column`` over the rows matching ``equal``."""
    return float(select(frame, **equal).get_column(column).sum())

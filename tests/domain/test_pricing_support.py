"""Builders shared by the pricing tests (no tests of its own)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from kubetally.domain.pricing import GIB, CustomPricing, NodeSpec, PriceBook, PriceSheet, parse_custom_pricing
from kubetally.history import SCHEMAS, conform

T0 = datetime(2026, 11, 1, tzinfo=UTC)
T1 = datetime(2026, 11, 1, 6, tzinfo=UTC)


def m5_large(labels: Mapping[str, str] | None = None, node: str = "n1", cluster: str = "c1") -> NodeSpec:
    """An m5.large (2 vCPU, 8 GiB) in us-east-1."""
    return NodeSpec(cluster, node, "m5.large", "us-east-1", labels or {}, 2.0, 8 * GIB, 0.0)


def book(
    document: Mapping[str, object] | None = None, sheet: dict[tuple[str, str, str], float] | None = None
) -> PriceBook:
    custom = parse_custom_pricing(dict(document)) if document is not None else CustomPricing()
    return PriceBook(custom, PriceSheet(sheet or {}))


def write_json(tmp_path: Path, document: object, name: str = "pricing.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def nodes_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """A ``nodes`` table; each row gives cluster, node, instance_type, labels (a dict) and optionally times."""
    full = [
        {
            "cluster": row.get("cluster", "c1"),
            "node": row["node"],
            "provider_id": None,
            "instance_type": row.get("instance_type", "m5.large"),
            "region": row.get("region", "us-east-1"),
            "zone": None,
            "arch": "amd64",
            "labels": [{"key": k, "value": v} for k, v in _labels(row).items()],
            "cpu_cores": row.get("cpu_cores", 2.0),
            "ram_bytes": row.get("ram_bytes", 8 * GIB),
            "gpu_count": row.get("gpu_count", 0.0),
            "start": row.get("start", T0),
            "end": row.get("end", T1),
        }
        for row in rows
    ]
    return conform("nodes", pl.DataFrame(full))


def table(name: str, rows: list[dict[str, object]]) -> pl.DataFrame:
    return conform(name, pl.DataFrame(rows, schema=SCHEMAS[name]))


def _labels(row: Mapping[str, object]) -> dict[str, str]:
    labels = row.get("labels", {})
    assert isinstance(labels, dict)
    return {str(key): str(value) for key, value in labels.items()}

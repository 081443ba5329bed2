from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from kubetally.ledger import Ledger
from kubetally.ledger.schema import CLOUD_COSTS
from tests.runner import demo_ledger_at

NODE_MARKUP = 1.07
"""The test bill charges every node 7 % more than its list price."""
DISK_MARKDOWN = 0.9
"""... and the billed disks 10 % less."""
BILLED_DISKS = ("pv-legacy-archive", "pv-shared-models", "pvc-8439dc77-d122-27f6-a372-a122fb76e92f")
"""An unmounted volume, a shared one, and one both mounted and unmounted."""


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_ledger_at(tmp_path_factory.mktemp("demo") / "demo.duckdb")


@pytest.fixture
def ledger_path(demo_template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "ledger.duckdb"
    shutil.copyfile(demo_template, path)
    return path


def hourly_prices(ledger: Ledger) -> pl.DataFrame:
    """Every Node and Disk asset hour of the ledger with its list price (cost) for that hour."""
    return ledger.fetch(
        "SELECT cluster, hour, type, name, provider_id, total_cost - adjustment AS price FROM assets "
        "WHERE type IN ('Node', 'Disk')"
    )


def demo_bill(ledger: Ledger) -> pl.DataFrame:
    """A FOCUS bill of the ledger's nodes and some disks, built from their hourly prices: one row per resource and
    UTC day, nodes named by EC2 ARN (``ResourceId``), disks by volume ID."""
    prices = hourly_prices(ledger).filter((pl.col("type") == "Node") | pl.col("name").is_in(BILLED_DISKS))
    node = pl.col("type") == "Node"
    instance = pl.col("provider_id").str.split("/").list.last()
    daily = (
        prices.with_columns(
            day=pl.col("hour").dt.truncate("1d"),
            cost=pl.when(node).then(pl.col("price") * NODE_MARKUP).otherwise(pl.col("price") * DISK_MARKDOWN),
        )
        .group_by("type", "provider_id", "day")
        .agg(pl.col("cost").sum())
    )
    return daily.select(
        ResourceId=pl.when(node)
        .then(pl.concat_str(pl.lit("arn:aws:ec2:us-east-1:123456789012:instance/"), instance))
        .otherwise(pl.concat_str(pl.lit("arn:aws:ec2:us-east-1:123456789012:volume/"), instance)),
        ServiceCategory=pl.when(node).then(pl.lit("Compute")).otherwise(pl.lit("Storage")),
        ChargePeriodStart="day",
        ChargePeriodEnd=pl.col("day") + pl.duration(days=1),
        EffectiveCost="cost",
        BilledCost=pl.col("cost") * 2.0,
    )


def focus_rows(partial: pl.DataFrame) -> pl.DataFrame:
    """``partial`` completed to the ``cloud_costs`` columns (the others null, ``ChargeCategory`` Usage)."""
    columns = {
        name: partial.get_column(name).cast(dtype)
        if name in partial.columns
        else pl.Series(name, [None] * partial.height, dtype=dtype)
        for name, dtype in CLOUD_COSTS.items()
    }
    frame = pl.DataFrame(columns)
    return frame.with_columns(
        ChargeCategory=pl.lit("Usage"),
        source=pl.lit("test-bill"),
        Tags=pl.lit([], dtype=CLOUD_COSTS["Tags"]),
    )

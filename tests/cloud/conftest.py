"""Fixtures of the cloud cost tests: the ``small`` ledger plus the FOCUS bill of :mod:`tests.cloud.bill`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.ledger import Ledger
from tests.api.conftest import NOW, write_small
from tests.cloud.bill import bill, ledger_frame

INGESTED = NOW - timedelta(minutes=5)
"""When the bill is written into the ledger (the ledger's clock during the upsert)."""


def provider_keys(ledger_path: Path) -> dict[str, str]:
    """Asset name → the last segment of its provider ID, for the ledger's nodes and disks."""
    with Ledger.open(ledger_path, read_only=True) as ledger:
        assets = ledger.fetch("SELECT DISTINCT name, provider_id FROM assets WHERE type IN ('Node', 'Disk')")
    return {row["name"]: row["provider_id"].rsplit("/", 1)[-1] for row in assets.iter_rows(named=True)}


@pytest.fixture(scope="session")
def billed_ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """The small ledger with the bill written to ``cloud_costs``, and the bill frame (with the oracle column)."""
    path = write_small(tmp_path_factory.mktemp("cloud") / "billed.duckdb")
    frame = bill(provider_keys(path))
    with Ledger.open(path, clock=lambda: INGESTED) as ledger:
        ledger.upsert_cloud_costs(ledger_frame(frame))
    return path, frame


@pytest.fixture(scope="session")
def bill_frame(billed_ledger: tuple[Path, pl.DataFrame]) -> pl.DataFrame:
    return billed_ledger[1]


@pytest.fixture(scope="session")
def client(billed_ledger: tuple[Path, pl.DataFrame]) -> Iterator[TestClient]:
    """The app over the billed ledger, its clock frozen at ``NOW``."""
    with TestClient(create_app(billed_ledger[0], clock=lambda: NOW), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def plain_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small ledger without any bill rows."""
    return write_small(tmp_path_factory.mktemp("cloud") / "plain.duckdb")

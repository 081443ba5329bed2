"""Helpers for the FOCUS ingest tests: the third-party samples, small hand-written bills, and ledger snapshots."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import polars as pl
import pytest

from kubetally.ledger import Ledger
from kubetally.ledger.schema import TABLES
from tests.runner import Run, kubetally

SAMPLES = Path(__file__).parent.parent / "data" / "focus"
SAMPLE_FILES = {
    "aws-1.2": SAMPLES / "focus-1.2-aws-sample.csv",
    "azure-1.2": SAMPLES / "focus-1.2-azure-sample.csv",
    "gcp-1.3": SAMPLES / "focus-1.3-gcp-sample.csv",
}
"""The public FOCUS sample slices (see tests/data/focus/README.md), by provider and version."""

KEY = (
    "ResourceId",
    "ResourceName",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "SkuPriceId",
)
"""Krateo's cost-row key, written out here rather than imported from the code under test."""

BASE_ROW: dict[str, str] = {
    "BilledCost": "1.5",
    "BillingAccountId": "acct-1",
    "BillingAccountName": "Account one",
    "BillingCurrency": "USD",
    "BillingPeriodStart": "2026-05-01T00:00:00Z",
    "BillingPeriodEnd": "2026-06-01T00:00:00Z",
    "ChargeCategory": "Usage",
    "ChargeClass": "",
    "ChargeDescription": "a VM hour",
    "ChargePeriodStart": "2026-05-01T00:00:00Z",
    "ChargePeriodEnd": "2026-05-01T01:00:00Z",
    "ContractedCost": "1.5",
    "EffectiveCost": "1.25",
    "InvoiceIssuerName": "Example Cloud",
    "ListCost": "2.0",
    "PricingQuantity": "1",
    "PricingUnit": "Hours",
    "ProviderName": "Example Cloud",
    "PublisherName": "Example Cloud",
    "ServiceCategory": "Compute",
    "ServiceName": "Virtual Machines",
    "ResourceId": "vm-1",
    "ResourceName": "vm one",
    "SkuPriceId": "price-1",
    "Tags": '{"team":"payments"}',
    "x_Cluster": "prod",
}
"""A valid FOCUS 1.0 row: the 21 mandatory columns, the key columns, Tags and a custom column."""


def bill(rows: Sequence[Mapping[str, str]], *, drop: Sequence[str] = ()) -> bytes:
    """A FOCUS CSV of ``BASE_ROW`` updated by each of ``rows``, without the ``drop`` columns."""
    columns = [c for c in BASE_ROW if c not in drop]
    for row in rows:
        columns.extend(c for c in row if c not in columns and c not in drop)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**BASE_ROW, **row})
    return out.getvalue().encode()


def csv_rows(path: Path) -> list[dict[str, str]]:
    """The data rows of a CSV file, read with the csv module."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def csv_total(rows: Sequence[Mapping[str, str]], column: str) -> float:
    """Σ ``column`` over ``rows`` (empty cells count as nothing)."""
    return sum(float(row[column]) for row in rows if row[column])


def distinct_keys(rows: Sequence[Mapping[str, str]]) -> int:
    """How many distinct Krateo keys ``rows`` hold (a missing or empty cell is NULL)."""
    return len({tuple(row.get(column) or None for column in KEY) for row in rows})


def ingest(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, db: Path, *sources: str | Path) -> Run:
    """``kubetally focus ingest --db DB SOURCES...``, run in process, output captured."""
    return kubetally(capsys, monkeypatch, "focus", "ingest", "--db", str(db), *map(str, sources))


def snapshot(db: Path) -> dict[str, pl.DataFrame]:
    """Every row of every ledger table, in a total order."""
    with Ledger.open(db, read_only=True) as ledger:
        return {table: ledger.fetch(f"SELECT * FROM {table} ORDER BY ALL") for table in TABLES}


def cloud_rows(db: Path) -> pl.DataFrame:
    """The ``cloud_costs`` table, ordered."""
    with Ledger.open(db, read_only=True) as ledger:
        return ledger.fetch("SELECT * FROM cloud_costs ORDER BY ALL")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    """A new, empty ledger file."""
    path = tmp_path / "ledger.duckdb"
    Ledger.open(path).close()
    yield path

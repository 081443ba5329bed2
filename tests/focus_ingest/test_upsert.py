"""Bill lines are kept apart by their whole line key within a file and replaced across files by it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest

from kubetally.errors import FocusFileError, InvalidParameter, LedgerError
from kubetally.focus import read_focus
from kubetally.ledger import CloudWrite, Ledger
from kubetally.ledger.schema import CLOUD_COSTS
from tests.focus_ingest.conftest import bill, cloud_rows, ingest


def test_distinct_lines_sharing_krateos_key_are_kept_apart() -> None:
    rows = [
        {"BilledCost": "1.25", "EffectiveCost": "1", "PricingQuantity": "2", "ChargeDescription": "first"},
        {"ResourceId": "vm-2", "BilledCost": "10"},
        {"BilledCost": "0.5", "EffectiveCost": "0.25", "PricingQuantity": "", "ChargeDescription": "second"},
        {"ResourceId": "", "ResourceName": "", "SkuPriceId": "", "ChargeCategory": "Tax", "BilledCost": "0.1"},
        {"ResourceId": "", "ResourceName": "", "SkuPriceId": "", "ChargeCategory": "Credit", "BilledCost": "-0.2"},
    ]
    batch = read_focus(bill(rows), "lines.csv")
    assert (batch.rows, batch.merged, batch.frame.height) == (5, 0, 5)
    assert batch.frame.get_column("BilledCost").to_list() == [1.25, 10.0, 0.5, 0.1, -0.2]


def test_rows_differing_only_in_columns_the_ledger_does_not_keep_are_summed_into_one() -> None:
    rows = [
        {"BilledCost": "1.25", "EffectiveCost": "1", "PricingQuantity": "2", "x_Cluster": "a"},
        {"BilledCost": "0.5", "EffectiveCost": "0.25", "PricingQuantity": "", "x_Cluster": "b"},
    ]
    batch = read_focus(bill(rows), "fold.csv")
    assert (batch.rows, batch.merged, batch.frame.height) == (2, 1, 1)
    first = batch.frame.row(0, named=True)
    assert first["BilledCost"] == pytest.approx(1.75)
    assert first["EffectiveCost"] == pytest.approx(1.25)
    assert first["PricingQuantity"] == pytest.approx(2.0)


def test_a_line_repeated_with_other_amounts_is_refused_with_both_rows() -> None:
    rows = [{"ResourceId": "vm-1"}, {"ResourceId": "vm-2"}, {"ResourceId": "vm-1", "BilledCost": "99"}]
    with pytest.raises(FocusFileError) as error:
        read_focus(bill(rows), "twice.csv")
    assert error.value.problems == [(3, "the same bill line as row 1 (every column but the amounts is equal)")]


def test_a_contract_commitment_dataset_is_refused_by_name() -> None:
    header = "BillingCurrency,ContractCommitmentId,ContractCommitmentCost,ContractId,ContractCommitmentPeriodStart\n"
    data = (header + "USD,cc-1,100,c-1,2026-05-01T00:00:00Z\n").encode()
    with pytest.raises(FocusFileError) as error:
        read_focus(data, "commitments.csv")
    assert "a FOCUS 1.3 Contract Commitment dataset; only the Cost and Usage dataset is loaded" in error.value.message


def test_a_later_file_replaces_the_rows_whose_key_it_repeats(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    may = tmp_path / "may.csv"
    may.write_bytes(bill([{"ResourceId": "vm-1", "BilledCost": "1"}, {"ResourceId": "vm-2", "BilledCost": "2"}]))
    corrected = tmp_path / "may-corrected.csv"
    corrected.write_bytes(bill([{"ResourceId": "vm-2", "BilledCost": "5"}, {"ResourceId": "vm-3", "BilledCost": "3"}]))
    assert ingest(capsys, monkeypatch, db, may).code == 0
    run = ingest(capsys, monkeypatch, db, corrected)
    assert run.code == 0, run.err
    stored = cloud_rows(db).sort("ResourceId")
    assert stored.select("ResourceId", "BilledCost", "source").rows() == [
        ("vm-1", 1.0, str(may)),
        ("vm-2", 5.0, str(corrected)),
        ("vm-3", 3.0, str(corrected)),
    ]


def test_upsert_reports_inserted_and_updated_and_treats_null_keys_as_equal(tmp_path: Path) -> None:
    first = read_focus(bill([{"ResourceId": "", "SkuPriceId": "", "BilledCost": "1"}, {"ResourceId": "vm-9"}]), "a")
    second = read_focus(bill([{"ResourceId": "", "SkuPriceId": "", "BilledCost": "7"}, {"ResourceId": "vm-8"}]), "b")
    with Ledger.open(tmp_path / "l.duckdb") as ledger:
        generation = ledger.generation
        one = ledger.upsert_cloud_costs(first.frame)
        two = ledger.upsert_cloud_costs(second.frame)
        stored = ledger.fetch('SELECT "ResourceId", "BilledCost" FROM cloud_costs ORDER BY ALL')
        assert ledger.generation == generation + 2
    assert (one.inserted, one.updated, two.inserted, two.updated) == (2, 0, 1, 1)
    assert stored.rows() == [("vm-8", 1.5), ("vm-9", 1.5), (None, 7.0)]


def test_upsert_refuses_a_frame_without_the_table_columns(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.duckdb") as ledger, pytest.raises(InvalidParameter, match="missing columns"):
        ledger.upsert_cloud_costs(pl.DataFrame({"ResourceId": ["x"]}))


def test_cloud_usage_upserts_by_resource_metric_and_timestamp_and_read_only_readers_see_it(tmp_path: Path) -> None:
    path = tmp_path / "l.duckdb"
    hour = datetime(2026, 5, 1, tzinfo=UTC)
    usage = pl.DataFrame(
        {
            "ResourceId": ["vm-1", "vm-1"],
            "metricName": ["Percentage CPU", "Percentage CPU"],
            "timestamp": [hour, hour.replace(hour=1)],
            "average": [10.0, 20.0],
            "unit": ["Percent", "Percent"],
            "source": ["http://metrics", "http://metrics"],
        }
    )
    with Ledger.open(path) as ledger:
        assert ledger.upsert_cloud_usage(usage).inserted == 2
        again = ledger.upsert_cloud_usage(usage.head(1).with_columns(average=pl.lit(15.0)))
        assert (again.inserted, again.updated) == (0, 1)
    with Ledger.open(path, read_only=True) as reader:
        assert reader.fetch("SELECT average FROM cloud_usage ORDER BY timestamp").get_column("average").to_list() == [
            15.0,
            20.0,
        ]
        assert reader.fetch("SELECT * FROM cloud_costs").columns == CLOUD_COSTS.names()
        with pytest.raises(LedgerError, match="read-only"):
            reader.upsert_cloud_usage(usage)


def test_rows_in_different_currencies_are_different_lines() -> None:
    rows = [{"BillingCurrency": "USD"}, {"ResourceId": "vm-2"}, {"BillingCurrency": "EUR"}]
    batch = read_focus(bill(rows), "currencies.csv")
    assert batch.frame.get_column("BillingCurrency").to_list() == ["USD", "USD", "EUR"]


def test_a_file_with_only_a_header_is_an_empty_batch(tmp_path: Path) -> None:
    batch = read_focus(bill([]), "header-only.csv")
    assert (batch.rows, batch.merged, batch.frame.height) == (0, 0, 0)
    assert batch.frame.schema == CLOUD_COSTS
    with Ledger.open(tmp_path / "l.duckdb") as ledger:
        assert ledger.upsert_cloud_costs(batch.frame) == CloudWrite(0, 0)

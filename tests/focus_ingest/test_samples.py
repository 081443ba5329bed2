"""Third-party FOCUS bills (public samples from other producers) load round-trip through ``kubetally focus ingest``."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from polars.testing import assert_frame_equal

from kubetally.focus import read_focus_source
from kubetally.focus.columns import INTRODUCED
from kubetally.ledger import Ledger
from kubetally.ledger.schema import CLOUD_COSTS
from tests.focus_ingest.conftest import (
    SAMPLE_FILES,
    cloud_rows,
    csv_rows,
    csv_total,
    distinct_keys,
    ingest,
)


def ledger_totals(db: Path, source: str) -> tuple[float, float, int]:
    """Σ BilledCost, Σ EffectiveCost and the row count of one source's rows in the ledger."""
    with Ledger.open(db, read_only=True) as ledger:
        billed, effective, count = ledger.fetch(
            'SELECT sum("BilledCost"), sum("EffectiveCost"), count(*) FROM cloud_costs WHERE source = ?', [source]
        ).row(0)
    return float(billed), float(effective), int(count)


@pytest.mark.parametrize("sample", sorted(SAMPLE_FILES))
def test_a_sample_bill_round_trips_through_the_cli(
    sample: str, db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = SAMPLE_FILES[sample]
    rows = csv_rows(path)
    run = ingest(capsys, monkeypatch, db, path)
    assert run.code == 0, run.err
    billed, effective, count = ledger_totals(db, str(path))
    assert billed == pytest.approx(csv_total(rows, "BilledCost"), abs=1e-6)
    assert effective == pytest.approx(csv_total(rows, "EffectiveCost"), abs=1e-6)
    assert count == distinct_keys(rows)
    assert f"{csv_total(rows, 'BilledCost'):,.6f}" in run.out
    assert sample.split("-")[1] in run.out


def test_versions_are_detected_from_the_columns() -> None:
    versions = {sample: read_focus_source(str(path)).version for sample, path in SAMPLE_FILES.items()}
    assert versions == {"aws-1.2": "1.2", "azure-1.2": "1.2", "gcp-1.3": "1.3"}


def test_a_1_3_bill_without_provider_name_takes_it_from_service_provider_name(tmp_path: Path) -> None:
    rows = csv_rows(SAMPLE_FILES["gcp-1.3"])
    header = [c for c in rows[0] if c not in ("ProviderName", "PublisherName")]
    path = tmp_path / "no-provider.csv"
    lines = [",".join(header)] + [",".join(_quote(row[c]) for c in header) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    batch = read_focus_source(str(path))
    assert batch.version == "1.3"
    assert batch.frame.get_column("ProviderName").to_list() == [row["ServiceProviderName"] for row in rows]
    assert batch.frame.get_column("PublisherName").null_count() == batch.frame.height


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(ch in value for ch in ',"\n') else value


def test_gzip_and_parquet_copies_load_the_same_rows_and_totals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = SAMPLE_FILES["aws-1.2"]
    zipped = tmp_path / "bill.csv.gz"
    zipped.write_bytes(gzip.compress(original.read_bytes()))
    table = pacsv.read_csv(original)
    parquet = tmp_path / "bill.parquet"
    pq.write_table(table, parquet)
    expected_billed = pc.sum(table.column("BilledCost")).as_py()
    expected_effective = pc.sum(table.column("EffectiveCost")).as_py()

    frames = {}
    for variant in (original, zipped, parquet):
        db = tmp_path / f"{variant.name}.duckdb"
        run = ingest(capsys, monkeypatch, db, variant)
        assert run.code == 0, run.err
        billed, effective, count = ledger_totals(db, str(variant))
        assert billed == pytest.approx(expected_billed, abs=1e-6)
        assert effective == pytest.approx(expected_effective, abs=1e-6)
        assert count == table.num_rows
        frames[variant] = cloud_rows(db).drop("source")
    assert_frame_equal(frames[zipped], frames[original])
    assert_frame_equal(frames[parquet], frames[original])


def test_re_ingesting_a_bill_changes_nothing(
    db: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = SAMPLE_FILES["azure-1.2"]
    assert ingest(capsys, monkeypatch, db, path).code == 0
    before = cloud_rows(db)
    with Ledger.open(db) as ledger:
        write = ledger.upsert_cloud_costs(read_focus_source(str(path)).frame)
    assert (write.inserted, write.updated) == (0, before.height)
    assert_frame_equal(cloud_rows(db), before)
    run = ingest(capsys, monkeypatch, db, path)
    assert run.code == 0, run.err
    assert_frame_equal(cloud_rows(db), before)


def test_tags_become_a_map_and_custom_columns_are_ignored() -> None:
    batch = read_focus_source(str(SAMPLE_FILES["gcp-1.3"]))
    first = csv_rows(SAMPLE_FILES["gcp-1.3"])[0]
    assert "x_" not in "".join(batch.frame.columns)
    tags = {entry["key"]: entry["value"] for entry in batch.frame.get_column("Tags")[0]}
    assert tags == {"environment": "dev", "cost-center": "cc-1042", "owner": "team-payments"}
    assert batch.frame.get_column("ResourceId")[0] == first["ResourceId"]


def test_the_documentation_names_every_stored_column_and_every_version_marker() -> None:
    doc = (Path(__file__).parent.parent.parent / "docs" / "focus-ingest.md").read_text(encoding="utf-8")
    for column in CLOUD_COSTS.names():
        assert f"`{column}`" in doc, column
    for markers in INTRODUCED.values():
        for column in markers:
            assert f"`{column}`" in doc, column

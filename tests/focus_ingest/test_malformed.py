"""Bad FOCUS files are rejected whole, with their row numbers and reasons, and leave the ledger as it was."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.errors import FocusFileError, InvalidInput
from kubetally.focus import read_focus
from tests.focus_ingest.conftest import BASE_ROW, SAMPLE_FILES, bill, ingest, snapshot


def _with_row(row: int, change: dict[str, str], rows: int = 9) -> bytes:
    """A bill of ``rows`` distinct valid rows whose data row ``row`` (1-based) carries ``change``."""
    return bill([{"ResourceId": f"vm-{i}", **(change if i == row else {})} for i in range(1, rows + 1)])


def _tagless(rows: int = 9) -> bytes:
    """A bill of ``rows`` distinct valid rows without any quote (empty Tags are written bare)."""
    data = bill([{"ResourceId": f"vm-{i}", "Tags": ""} for i in range(1, rows + 1)])
    assert b'"' not in data
    return data


STRAY = "holds a double quote inside a value that does not start with one"
"""The reason given for a quote in an unquoted value (field 22 is ResourceId, field 25 Tags, counted by hand)."""

CASES: dict[str, tuple[bytes, list[str]]] = {
    "bad number on row 7": (_with_row(7, {"BilledCost": "12,50"}), ["row 7", "BilledCost '12,50' is not a number"]),
    "bad date": (_with_row(3, {"ChargePeriodStart": "2026-05-32T00:00:00Z"}), ["row 3", "ChargePeriodStart"]),
    "non-UTC offset": (_with_row(2, {"ChargePeriodEnd": "2026-05-01T03:00:00+02:00"}), ["row 2", "is not UTC"]),
    "date without zone": (_with_row(4, {"BillingPeriodEnd": "2026-06-01T00:00:00"}), ["row 4", "BillingPeriodEnd"]),
    "missing mandatory column": (bill([{}], drop=["BillingCurrency"]), ["missing mandatory", "BillingCurrency"]),
    "not a CSV": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", ["neither UTF-8 CSV nor Parquet"]),
    "truncated gzip": (gzip.compress(_with_row(0, {}))[:-12], ["gzip data is truncated"]),
    "damaged Parquet": (b"PAR1" + b"\x00" * 64 + b"PAR1", ["Parquet but cannot be read"]),
    "unknown ChargeCategory": (_with_row(5, {"ChargeCategory": "Refund"}), ["row 5", "ChargeCategory 'Refund'"]),
    "period end before start": (
        _with_row(6, {"ChargePeriodEnd": "2026-04-30T00:00:00Z"}),
        ["row 6", "ChargePeriodStart", "not before ChargePeriodEnd"],
    ),
    "tags that are not an object": (_with_row(8, {"Tags": '["a"]'}), ["row 8", "is not a JSON object"]),
    "empty BilledCost": (_with_row(1, {"BilledCost": ""}), ["row 1", "BilledCost is empty"]),
    "duplicated header column": (
        _with_row(0, {}).replace(b"ListCost,", b"ListCost,ListCost,", 1).replace(b"2.0,", b"2.0,0.0,"),
        ["column 'ListCost' appears twice in the header"],
    ),
    "NUL byte in a field": (_with_row(4, {"ResourceName": "vm\x00four"}), ["row 4", "NUL byte"]),
    "too many fields": (_with_row(0, {}).replace(b"vm-6,", b"vm-6,surplus,"), ["row 6", "too many fields"]),
    "unbalanced quote": (_with_row(0, {}).replace(b"vm-3,", b'"vm-3,'), ["row 3", "not valid CSV"]),
    "unclosed quote at the end": (_with_row(0, {}).replace(b"vm-9,", b'"vm-9,'), ["row 9", "not valid CSV"]),
    "quote inside a value": (_with_row(0, {}).replace(b"vm-4,", b'vm"4,'), ["row 4", f"field 22 (line 5) {STRAY}"]),
    "quote ending a value": (_with_row(0, {}).replace(b"vm-5,", b'vm-5",'), ["row 5", f"field 22 (line 6) {STRAY}"]),
    "doubled quote inside a bare value": (
        _with_row(0, {}).replace(b"vm-2,", b'vm""2,'),
        ["row 2", f"field 22 (line 3) {STRAY}", "'vm\"\"2'"],
    ),
    "JSON tags without quotes": (
        _with_row(6, {"Tags": '{"team":"six"}'}).replace(b'"{""team"":""six""}"', b'{"team":"six"}'),
        ["row 6", f"field 25 (line 7) {STRAY}", '\'{"team":"six"}\''],
    ),
    "two stray quotes pairing over lines": (
        _with_row(0, {}).replace(b"vm-2,", b'vm"2,').replace(b"vm-3,", b'vm"3,'),
        ["row 2: field 22 (line 3)", "row 3: field 22 (line 4)", STRAY],
    ),
    "a stray quote in the header": (
        _with_row(0, {}).replace(b"x_Cluster", b'x_"Cluster', 1),
        [f"in the header, field 26 (line 1) {STRAY}"],
    ),
    "a quote opening a value swallows lines": (
        _tagless().replace(b"vm-3,", b'"vm-3,').replace(b"vm-5,", b'vm-5",'),
        ["row 3: field 22 is a quoted value from line 4 to line 6 holding 50 commas, as many as 2 whole rows"],
    ),
    "a swallowing quote that shifts the fields": (
        _tagless().replace(b"Virtual Machines,vm-3,", b'"Virtual Machines,vm-3,').replace(b"vm-5,", b'vm-5",'),
        [
            "row 3: too few fields: 25, the header has 26 (the row runs over lines 4-6: the quoted value of field 21,",
            "row 3: field 21 is a quoted value from line 4 to line 6 holding 51 commas",
        ],
    ),
    "gzip with a stray quote": (
        gzip.compress(_with_row(0, {}).replace(b"vm-7,", b'v"m-7,')),
        ["row 7", f"field 22 (line 8) {STRAY}"],
    ),
    "gzip with too many fields": (
        gzip.compress(_with_row(0, {}).replace(b"vm-5,", b"vm-5,surplus,")),
        ["row 5", "too many fields"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_file_is_rejected_and_the_ledger_is_unchanged(
    case: str, db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data, needles = CASES[case]
    assert ingest(capsys, monkeypatch, db, SAMPLE_FILES["aws-1.2"]).code == 0
    before = snapshot(db)
    bad = tmp_path / "bad-bill"
    bad.write_bytes(data)
    run = ingest(capsys, monkeypatch, db, SAMPLE_FILES["azure-1.2"], bad)
    assert run.code == 2
    assert "Traceback" not in run.err
    message = " ".join(run.err.split())
    assert str(bad) in message
    for needle in needles:
        assert needle in message, message
    after = snapshot(db)
    assert after.keys() == before.keys()
    for table, frame in before.items():
        assert_frame_equal(after[table], frame, check_exact=True)


def test_quoted_values_with_commas_quotes_json_and_line_ends_are_read_as_written() -> None:
    values = {
        "ResourceName": 'web, "blue" pool',
        "ChargeDescription": "first line\nsecond, line\r\nthird",
        "Tags": '{"team":"a, b","note":"say \\"hi\\""}',
        "x_Cluster": "",
    }
    data = bill([{"ResourceId": "vm-1", **values}, {"ResourceId": "vm-2"}])
    assert b'"web, ""blue"" pool"' in data
    row = read_focus(data, "quoted.csv").frame.row(0, named=True)
    assert row["ResourceName"] == values["ResourceName"]
    assert row["ChargeDescription"] == values["ChargeDescription"]
    assert {t["key"]: t["value"] for t in row["Tags"]} == {"team": "a, b", "note": 'say "hi"'}


def test_a_bad_row_after_a_value_over_several_lines_is_named_by_row_and_line() -> None:
    data = bill([{"ResourceId": "vm-1", "ChargeDescription": "one\ntwo\nthree"}, {"ResourceId": 'vm"2'}])
    with pytest.raises(FocusFileError) as raised:
        read_focus(data.replace(b'"vm""2"', b'vm"2'), "lines.csv")
    advice = "quote the whole value and double the quotes inside it"
    assert raised.value.problems == [(2, f"field 22 (line 5) {STRAY} ('vm\"2'): {advice}")]


def test_a_csv_polars_cannot_read_after_the_scan_is_refused_with_the_position_polars_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("kubetally.focus.decode.scan_csv", lambda *_, **__: None)
    with pytest.raises(FocusFileError) as raised:
        read_focus(_with_row(0, {}).replace(b"vm-4,", b'vm"4,'), "unscanned.csv")
    ((row, reason),) = raised.value.problems
    assert row == 0
    assert reason.startswith("the file is not valid CSV, it is malformed (")
    assert "row_offset" in reason
    assert "infer_schema_length" not in reason
    assert raised.value.message.startswith("FOCUS file unscanned.csv rejected")


def test_every_problem_is_collected_and_the_message_shows_the_first_ten() -> None:
    rows = [{"ResourceId": f"vm-{i}", "EffectiveCost": f"cost-{i}"} for i in range(1, 15)]
    rows[2]["ChargePeriodStart"] = "yesterday"
    with pytest.raises(FocusFileError) as raised:
        read_focus(bill(rows), "many.csv")
    problems = raised.value.problems
    assert [row for row, _ in problems] == sorted([*range(1, 15), 3])
    assert (3, "ChargePeriodStart 'yesterday' is not a UTC date-time YYYY-MM-DDTHH:mm:ssZ") in problems
    assert (14, "EffectiveCost 'cost-14' is not a number") in problems
    message = raised.value.message
    assert message.startswith("FOCUS file many.csv rejected (15 problems)")
    assert "row 9:" in message
    assert "row 10:" not in message
    assert message.endswith("and 5 more")
    assert isinstance(raised.value, InvalidInput)


def test_a_value_that_failed_to_parse_is_not_also_reported_as_empty() -> None:
    with pytest.raises(FocusFileError) as raised:
        read_focus(_with_row(2, {"BilledCost": "n/a"}), "one.csv")
    assert raised.value.problems == [(2, "BilledCost 'n/a' is not a number")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T00:00:00Z", "2026-05-01T00:00:00+00:00"),
        ("2026-05-01T00:00:00.250Z", "2026-05-01T00:00:00.250000+00:00"),
        ("2026-05-01T00:00:00+00:00", "2026-05-01T00:00:00+00:00"),
        ("2026-05-01 00:00:00Z", "2026-05-01T00:00:00+00:00"),
    ],
)
def test_utc_date_times_are_accepted_in_their_lenient_forms(text: str, expected: str) -> None:
    batch = read_focus(bill([{"ChargePeriodStart": text}]), "ok.csv")
    assert batch.frame.get_column("ChargePeriodStart")[0].isoformat() == expected


@pytest.mark.parametrize(
    "text", ["2026-05-01T00:00:00-05:00", "2026-05-01", "01/05/2026 00:00", "2026-05-01T24:00:00Z"]
)
def test_other_date_times_are_problems(text: str) -> None:
    with pytest.raises(FocusFileError) as raised:
        read_focus(bill([{"ChargePeriodStart": text}]), "dates.csv")
    assert raised.value.problems[0][0] == 1
    assert "ChargePeriodStart" in raised.value.problems[0][1]


def test_empty_strings_are_null_and_tag_values_are_text() -> None:
    tags = '{"team":"a","size":3,"on":true,"none":null,"nested":{"k":[1,2]}}'
    batch = read_focus(bill([{"ResourceName": "", "ChargeClass": "", "Tags": tags}]), "tags.csv")
    row = batch.frame.row(0, named=True)
    assert row["ResourceName"] is None
    assert row["ChargeClass"] is None
    assert {t["key"]: t["value"] for t in row["Tags"]} == {
        "team": "a",
        "size": "3",
        "on": "true",
        "none": None,
        "nested": '{"k":[1,2]}',
    }


def test_a_parquet_column_of_the_wrong_type_is_a_file_problem() -> None:
    frame = pl.read_csv(io.BytesIO(bill([{}])), infer_schema=False).with_columns(pl.lit(True).alias("BilledCost"))
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    with pytest.raises(FocusFileError) as raised:
        read_focus(buffer.getvalue(), "typed.parquet")
    assert raised.value.problems == [(0, "column BilledCost is stored as Boolean, not as a number")]


def test_the_base_row_is_valid() -> None:
    batch = read_focus(bill([{}]), "base.csv")
    assert batch.version == "1.0"
    assert batch.frame.get_column("BilledCost").to_list() == [float(BASE_ROW["BilledCost"])]

"""The CLI end to end, in process: exit codes, one-line errors, outputs that agree with each other."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import polars as pl
import pytest

from kubetally.cli.app import main
from tests.runner import kubetally

START = "2026-11-02T00:00:00Z"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger holding the ``small`` scenario, ingested through the CLI."""
    db = tmp_path_factory.mktemp("cli") / "small.duckdb"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(
            sys, "argv", ["kubetally", "ingest", "--db", str(db), "--simulator", "small", "--start", START]
        )
        with pytest.raises(SystemExit) as exited:
            main()
    assert exited.value.code == 0
    return db


def test_help_lists_commands_and_each_command_has_examples(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = kubetally(capsys, monkeypatch, "--help")
    assert run.code == 0
    for command in ("simulate", "ingest", "allocation", "assets", "demo"):
        assert command in run.out
        help_run = kubetally(capsys, monkeypatch, command, "--help")
        assert help_run.code == 0
        assert "Example" in help_run.out, command


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["allocation", "--window", "7 parsecs"], "window"),
        (["allocation", "--window", "7d", "--filter", 'namespace:"a'], "filter"),
        (["allocation", "--window", "7d", "--aggregate", "colour"], "aggregate"),
        (["allocation", "--window", "7d", "--step", "fortnightly"], "step"),
        (["assets", "--window", "yesterday", "--filter", "nosuchfield:x"], "filter"),
        (["allocation", "--window", "0d"], "window"),
        (["allocation", "--window", "2026-13-01T00:00:00Z,2026-01-01T00:00:00Z"], "window"),
        (["allocation", "--window", "2026-11-02T00:00:00Z,2026-11-01T00:00:00Z"], "window"),
        (["allocation", "--window", "1000000000d"], "window"),
        (["allocation", "--window", "7d", "--aggregate", "label:"], "aggregate"),
        (["allocation", "--window", "7d", "--aggregate", "annotation:"], "aggregate"),
        (["allocation", "--window", "7d", "--share-split", "metric:foo"], "shareSplit"),
        (["allocation", "--window", "7d", "--step", "0h"], "step"),
        (["allocation", "--window", "100000d", "--step", "1h"], "step"),
        (["allocation", "--window", "7d", "--idle", "bogus"], "--idle"),
        (["allocation", "--aggregate", "namespace"], "--window"),
        (["allocation", "--window", "7d", "--db", "/"], "db: "),
        (["allocation", "--window", "7d", "--db", "/etc/passwd"], "db: "),
        (["assets", "--window", "7d", "--db", "/nonexistent/ledger.duckdb"], "db: "),
        (["assets", "--window", "7d", "--aggregate", "nosuch"], "aggregate"),
        (["assets", "--window", "7d", "--step", "0h"], "step"),
        (["ingest", "--simulator", "no-such-scenario"], "no-such-scenario"),
        (["ingest", "--simulator", "small", "--start", "last tuesday"], "--start"),
        (["ingest", "--simulator", "small", "--pricing", "/nonexistent/pricing.json"], "/nonexistent/pricing.json"),
        (["simulate", "--scenario", "small", "--scrape-interval", "0s", "--out", "x"], "--scrape-interval"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    ledger: Path,
    tmp_path: Path,
    args: list[str],
    needle: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    db = [] if args[0] == "simulate" else ["--db", str(ledger)]
    run = kubetally(capsys, monkeypatch, args[0], *db, *args[1:])
    assert run.code == 2, run
    assert "Traceback" not in run.err
    lines = [line for line in run.err.splitlines() if line.strip()]
    assert len(lines) == 1, run.err
    assert lines[0].startswith("error:")
    assert needle in lines[0]


def test_unknown_flag_and_missing_ledger_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert kubetally(capsys, monkeypatch, "allocation", "--colour", "red").code == 2
    missing = tmp_path / "missing.duckdb"
    run = kubetally(capsys, monkeypatch, "allocation", "--db", str(missing), "--window", "7d")
    assert run.code == 2
    assert str(missing) in run.err
    assert "Traceback" not in run.err


def test_json_csv_and_assets_agree(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, ledger: Path
) -> None:
    window = f"{START},2026-11-02T03:00:00Z"
    base = ["allocation", "--db", str(ledger), "--window", window, "--aggregate", "namespace", "--accumulate"]
    as_json = kubetally(capsys, monkeypatch, *base, "--output", "json")
    assert as_json.code == 0, as_json.err
    sets = json.loads(as_json.out)
    assert isinstance(sets, list)
    assert len(sets) == 1
    names = set(sets[0])
    assert "__idle__" in names
    json_total = sum(item["totalCost"] for item in sets[0].values())

    as_csv = kubetally(capsys, monkeypatch, *base, "--output", "csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.out)))
    assert {row["name"] for row in rows} == names
    assert sum(float(row["totalCost"]) for row in rows) == pytest.approx(json_total, abs=1e-4)

    assets = kubetally(
        capsys, monkeypatch, "assets", "--db", str(ledger), "--window", window, "--accumulate", "-o", "json"
    )
    asset_sets = json.loads(assets.out)
    assert {item["type"] for item in asset_sets[0].values()} >= {"Node", "Disk"}
    overhead = sum(item["totalCost"] for item in asset_sets[0].values() if item["type"] == "ClusterManagement")
    asset_total = sum(item["totalCost"] for item in asset_sets[0].values())
    # Every dollar adds up through the CLI too (rounding to 5 decimals per row is the only slack).
    assert json_total + overhead == pytest.approx(asset_total, abs=1e-4 * (len(names) + len(asset_sets[0])))

    table = kubetally(capsys, monkeypatch, *base)
    assert table.code == 0
    for name in names:
        assert name in table.out


def test_step_gives_one_set_per_step(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, ledger: Path
) -> None:
    window = f"{START},2026-11-02T03:00:00Z"
    run = kubetally(
        capsys, monkeypatch, "allocation", "--db", str(ledger), "--window", window, "--step", "1h", "-o", "json"
    )
    assert run.code == 0, run.err
    assert len(json.loads(run.out)) == 3


def test_reingest_changes_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, ledger: Path
) -> None:
    window = f"{START},2026-11-02T03:00:00Z"
    query = ["allocation", "--db", str(ledger), "--window", window, "--aggregate", "pod", "--accumulate", "-o", "json"]
    before = kubetally(capsys, monkeypatch, *query).out
    again = kubetally(capsys, monkeypatch, "ingest", "--db", str(ledger), "--simulator", "small", "--start", START)
    assert again.code == 0, again.err
    assert kubetally(capsys, monkeypatch, *query).out == before


def test_simulate_writes_exposition_truth_and_scenario(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    run = kubetally(capsys, monkeypatch, "simulate", "--scenario", "small", "--start", START, "--out", str(tmp_path))
    assert run.code == 0, run.err
    exposition = (tmp_path / "metrics.om").read_text()
    assert exposition.rstrip().endswith("# EOF")
    assert "kube_pod_container_resource_requests" in exposition
    truth = pl.read_parquet(tmp_path / "truth.parquet")
    assert set(truth.get_column("kind").unique()) >= {"workload", "idle"}
    assert (tmp_path / "scenario.yaml").read_text().strip()

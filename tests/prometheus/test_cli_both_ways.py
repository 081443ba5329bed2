"""The same scenario costed directly (``ingest --simulator``) and through Prometheus (``ingest --prometheus-url``).

Both go through the CLI into real ledgers; the allocation totals by namespace must agree to the tolerances the
Prometheus source promises (docs/prometheus.md): total within 0.5 %, every namespace above 1 % within 2 %.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from kubetally.cli.app import main
from kubetally.sources.simulator import load_scenario
from tests.prometheus.conftest import Backfilled
from tests.runner import succeed

START, END = "2026-02-01T00:00:00Z", "2026-02-01T06:00:00Z"


def kubetally(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    return succeed(capsys, monkeypatch, *args).out


def by_namespace(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db: Path) -> dict[str, float]:
    out = kubetally(
        monkeypatch, capsys, "allocation", "--db", str(db), "--window", f"{START},{END}",
        "--aggregate", "namespace", "--accumulate", "--idle", "hide", "-o", "json",
    )  # fmt: skip
    (allocation_set,) = json.loads(out)
    return {name: item["totalCost"] for name, item in allocation_set.items()}


def test_direct_and_prometheus_ingest_agree(
    prometheus_30: Backfilled, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    direct, through = tmp_path / "direct.duckdb", tmp_path / "prometheus.duckdb"
    pricing = tmp_path / "pricing.json"  # the scenario's own prices, given to both paths
    pricing.write_text(json.dumps(load_scenario("demo").pricing), encoding="utf-8")
    kubetally(monkeypatch, capsys, "ingest", "--db", str(direct), "--simulator", "demo", "--seed", "7",
              "--start", START, "--hours", "6", "--pricing", str(pricing))  # fmt: skip
    report = kubetally(monkeypatch, capsys, "ingest", "--db", str(through), "--prometheus-url", prometheus_30.url,
                       "--start", START, "--end", END, "--pricing", str(pricing))  # fmt: skip
    assert "hours written" in report
    expected, actual = by_namespace(monkeypatch, capsys, direct), by_namespace(monkeypatch, capsys, through)
    total = sum(expected.values())
    assert total > 0
    assert abs(sum(actual.values()) - total) / total < 0.005
    for namespace, cost in expected.items():
        if cost > 0.01 * total:
            assert abs(actual.get(namespace, 0.0) - cost) / cost < 0.02, namespace


def test_prometheus_ingest_flags_are_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        (["--prometheus-url", "http://127.0.0.1:9", "--start", START], "--end"),
        (["--prometheus-url", "http://127.0.0.1:9", "--start", START, "--end", "2026-02-01T05:30:00Z"], "whole hour"),
        (["--prometheus-url", "http://127.0.0.1:9", "--start", END, "--end", START], "after"),
        (["--prometheus-url", "http://127.0.0.1:9", "--start", START, "--end", "2999-01-01T00:00:00Z"], "future"),
        (["--prometheus-url", "ftp://x", "--start", START, "--end", END], "http"),
        (["--simulator", "small", "--prometheus-url", "http://127.0.0.1:9"], "exactly one"),
        (["--prometheus-url", "http://127.0.0.1:9", "--start", START, "--end", END], "127.0.0.1:9"),
    ]
    for flags, needle in cases:
        monkeypatch.setattr(sys, "argv", ["kubetally", "ingest", "--db", str(tmp_path / "x.duckdb"), *flags])
        with pytest.raises(SystemExit) as exited:
            main()
        err = capsys.readouterr().err
        assert exited.value.code == 2, (flags, err)
        assert needle in err, (flags, err)
        assert "Traceback" not in err

"""A window holding a provisional (still open) hour says so on stderr; stdout stays clean JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubetally.domain.pricing import PriceBook
from kubetally.history import ClusterHistory
from tests.runner import succeed
from tests.serve.conftest import at, write_hours


def _run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[str, str]:
    run = succeed(capsys, monkeypatch, *args)
    return run.out, run.err


def test_provisional_hour_is_marked(
    tmp_path: Path,
    history: ClusterHistory,
    prices: PriceBook,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = write_hours(tmp_path / "ledger.duckdb", history, prices, 2, provisional=(2,))
    window = f"{at(0).isoformat()},{at(3).isoformat()}".replace("+00:00", "Z")
    for command in ("allocation", "assets"):
        out, err = _run(capsys, monkeypatch, command, "--db", str(db), "--window", window, "-o", "json")
        assert json.loads(out)
        assert "provisional" in err
        assert at(2).isoformat().replace("+00:00", "Z") in err
    closed = f"{at(0).isoformat()},{at(2).isoformat()}".replace("+00:00", "Z")
    _, err = _run(capsys, monkeypatch, "allocation", "--db", str(db), "--window", closed, "-o", "json")
    assert "provisional" not in err

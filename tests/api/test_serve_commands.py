"""``kubetally serve`` and ``kubetally demo`` hand the ledger, address and limits to the server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubetally.cli import demo, serve
from kubetally.settings import Settings
from tests.runner import exit_code


def record(calls: list[dict[str, Any]]) -> Any:
    def fake_server(db: Path, follower: object, prices: object, host: str, port: int, *_: object, **kw: Any) -> None:
        calls.append({"db": db, "follower": follower, "host": host, "port": port, **kw})

    return fake_server


def test_demo_prints_the_url_and_serves_until_stopped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(demo, "run_server", record(calls))
    db = tmp_path / "demo.duckdb"
    assert exit_code(monkeypatch, "demo", "--db", str(db), "--seed", "3") == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:9003" in out
    assert calls == [{"db": db, "follower": None, "host": "127.0.0.1", "port": 9003}]

    assert exit_code(monkeypatch, "demo", "--db", str(db), "--seed", "3", "--no-serve") == 0
    assert "http://127.0.0.1:9003" not in capsys.readouterr().out
    assert len(calls) == 1


def test_serve_passes_host_port_and_maximum_window(
    monkeypatch: pytest.MonkeyPatch, small_ledger: Path, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(serve, "run_server", record(calls))
    args = ("serve", "--db", str(small_ledger), "--host", "0.0.0.0", "--port", "9100", "--max-window-days", "31")
    assert exit_code(monkeypatch, *args, "--mcp-port", "9101") == 0
    expected = {"db": small_ledger, "follower": None, "host": "0.0.0.0", "port": 9100}
    limits = calls[0].pop("limits")
    assert calls == [{**expected, "max_window_days": 31.0, "mcp_port": 9101}]
    assert isinstance(limits, Settings) and limits.max_window_days == 31.0 and limits.db == small_ledger
    assert exit_code(monkeypatch, "serve", "--db", str(tmp_path / "absent.duckdb")) == 2
    assert len(calls) == 1

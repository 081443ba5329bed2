"""check_invariant over the ledger: the fixture adds up; a ledger with a missing dollar does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetally.domain.window import parse_window
from kubetally.ledger import Ledger
from kubetally.query import check_invariant
from tests.query.fixture import NOW, WINDOW, build_ledger


def test_fixture_adds_up(ledger: Ledger) -> None:
    report = check_invariant(ledger, parse_window(WINDOW, NOW))
    assert report.holds
    assert (report.assets, report.allocations, report.idle, report.overhead) == pytest.approx((41.2, 27.0, 14.0, 0.2))
    assert report.relative_error < 1e-12


def test_one_hour_of_the_fixture(ledger: Ledger) -> None:
    report = check_invariant(ledger, parse_window("2026-11-01T01:00:00Z,2026-11-01T02:00:00Z", NOW))
    assert (report.assets, report.allocations, report.idle, report.overhead) == pytest.approx((17.1, 11.0, 6.0, 0.1))
    assert report.holds


def test_missing_dollar_breaks_it(tmp_path: Path) -> None:
    path = build_ledger(tmp_path / "broken.duckdb", node_cost_error=1.0)
    with Ledger.open(path, read_only=True) as ledger:
        report = check_invariant(ledger, parse_window(WINDOW, NOW))
    assert not report.holds
    assert report.assets == pytest.approx(42.2)
    assert report.relative_error == pytest.approx(1.0 / 42.2)

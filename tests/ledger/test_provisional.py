"""Provisional hours: written with the PROVISIONAL marker, final once rewritten without it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubetally.ledger import PROVISIONAL, Ledger, RunInfo
from tests.ledger.builders import make_result

START = datetime(2026, 3, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_provisional_hours_until_rewritten(ledger_path: Path) -> None:
    with Ledger.open(ledger_path) as ledger:
        ledger.write(make_result(["a", "b"], START, 3, 2), clusters=["a", "b"], start=START, end=START + 3 * HOUR,
                     run=RunInfo("test"))  # fmt: skip
        open_hour = START + 3 * HOUR
        ledger.write(make_result(["a"], open_hour, 1, 2), clusters=["a"], start=open_hour, end=open_hour + HOUR,
                     run=RunInfo("test", ("a warning", PROVISIONAL)))  # fmt: skip
        assert ledger.provisional_hours().rows() == [("a", open_hour)]
        assert ledger.provisional_hours(START, open_hour).is_empty()
        assert ledger.provisional_hours(open_hour, open_hour + HOUR).height == 1

        ledger.write(make_result(["a"], open_hour, 1, 2, seed=1), clusters=["a"], start=open_hour,
                     end=open_hour + HOUR, run=RunInfo("test", ("a warning",)))  # fmt: skip
        assert ledger.provisional_hours().is_empty()

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubetally.ledger import Ledger
from tests.query.fixture import build_ledger


@pytest.fixture(scope="module")
def ledger_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_ledger(tmp_path_factory.mktemp("query") / "fixture.duckdb")


@pytest.fixture
def ledger(ledger_path: Path) -> Iterator[Ledger]:
    with Ledger.open(ledger_path, read_only=True) as opened:
        yield opened

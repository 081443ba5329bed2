"""Schemathesis fuzzes the cloud cost operations over a ledger holding a bill: no input may give a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import schemathesis

from kubetally.api.app import create_app
from tests.api.conftest import NOW
from tests.api.test_fuzz import assert_no_server_error

OPERATIONS = [
    prefix + path
    for prefix in ("", "/model")
    for path in (
        "/cloudCost",
        "/cloudCost/view/graph",
        "/cloudCost/view/totals",
        "/cloudCost/view/table",
        "/cloudCost/status",
    )
]


@pytest.fixture(scope="module")
def api_schema(billed_ledger: tuple[Path, pl.DataFrame]) -> Iterator[Any]:
    yield schemathesis.openapi.from_asgi("/openapi.json", create_app(billed_ledger[0], clock=lambda: NOW))


@pytest.mark.parametrize("path", OPERATIONS)
def test_no_input_gives_a_server_error(api_schema: Any, path: str) -> None:
    assert_no_server_error(api_schema[path]["GET"], max_examples=12)

"""Schemathesis fuzzes the cloud cost operations of the OpenAPI schema: no input may give a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from kubetally.api.app import create_app
from tests.api.conftest import NOW

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


def test_the_schema_lists_the_cloud_operations(api_schema: Any) -> None:
    listed = {result.ok().path for result in api_schema.get_all_operations()}
    assert set(OPERATIONS) <= listed


@pytest.mark.parametrize("path", OPERATIONS)
def test_no_input_gives_a_server_error(api_schema: Any, path: str) -> None:
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    def check(case: Any) -> None:
        response = case.call()
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            body = response.json()
            assert body["status"] == "error" and body["code"] == response.status_code
            assert body["message"] and "Traceback" not in response.text

    check()

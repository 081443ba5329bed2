"""Flattening Azure-Monitor-style usage JSON into cloud_usage rows."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from kubetally.errors import InvalidInput
from kubetally.focus.usage import json_path, read_usage
from kubetally.ledger.schema import CLOUD_USAGE
from tests.focus_pipeline.conftest import DATA, VM_ID


def response(*metrics: dict[str, object]) -> bytes:
    return json.dumps({"value": list(metrics)}).encode()


def test_sample_response_becomes_one_row_per_point_with_an_average() -> None:
    frame = read_usage((DATA / "usage.json").read_bytes(), name="usage", resource_id=VM_ID, source="vm")
    assert frame.schema == CLOUD_USAGE
    rows = sorted(frame.select("metricName", "timestamp", "average", "unit").iter_rows())
    quarter = [datetime(2026, 11, 1, 0, minute, tzinfo=UTC) for minute in (0, 15, 30)]
    assert rows == [
        ("Available Memory Bytes", quarter[0], 8589934592.0, "Bytes"),
        ("Available Memory Bytes", quarter[1], 7516192768.0, "Bytes"),
        ("Percentage CPU", quarter[0], 21.5, "Percent"),
        ("Percentage CPU", quarter[1], 35.0, "Percent"),
        ("Percentage CPU", quarter[2], 28.5, "Percent"),
    ]
    assert set(frame["ResourceId"]) == {VM_ID} and set(frame["source"]) == {"vm"}


def test_split_timeseries_sharing_a_timestamp_are_averaged() -> None:
    point = "2026-11-01T01:00:00+00:00"
    data = response(
        {
            "name": {"value": "Disk Read Bytes"},
            "unit": "Bytes",
            "timeseries": [
                {"data": [{"timeStamp": point, "average": 10.0}]},
                {"data": [{"timeStamp": point, "average": 30.0}]},
            ],
        }
    )
    frame = read_usage(data, name="u", resource_id="r", source="s")
    assert frame.height == 1 and frame["average"][0] == 20.0


def test_metric_without_timeseries_gives_no_rows() -> None:
    frame = read_usage(
        response({"name": {"value": "cpu"}, "unit": "Percent", "timeseries": []}), name="u", resource_id="r", source="s"
    )
    assert frame.is_empty() and frame.schema == CLOUD_USAGE


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (
            response({"name": {"value": "cpu"}, "timeseries": [{"data": [{"timeStamp": "soon", "average": 1}]}]}),
            "$.value[0].timeseries[0].data[0].timeStamp",
        ),
        (
            response(
                {
                    "name": {"value": "cpu"},
                    "timeseries": [{"data": [{"timeStamp": "2026-11-01T00:00:00Z", "average": "x"}]}],
                }
            ),
            "$.value[0].timeseries[0].data[0].average",
        ),
        (response({"timeseries": []}), "$.value[0].name"),
        (b'{"values": []}', "$.value"),
    ],
)
def test_malformed_response_names_the_json_path(body: bytes, path: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(path)):
        read_usage(body, name="http://api/usage", resource_id="r", source="s")


def test_invalid_json_is_rejected() -> None:
    with pytest.raises(InvalidInput, match="usage metrics from http://api/usage rejected: Invalid JSON"):
        read_usage(b"<html>oops</html>", name="http://api/usage", resource_id="r", source="s")


def test_json_path() -> None:
    assert json_path(("value", 0, "timeseries", 2, "data")) == "$.value[0].timeseries[2].data"
    assert json_path(()) == "$"

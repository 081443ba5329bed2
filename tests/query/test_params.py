"""AllocationQuery / AssetQuery parameter decoding, and the error each bad parameter raises."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kubetally.errors import InvalidAggregate, InvalidFilter, InvalidParameter, InvalidWindow
from kubetally.query import MAX_SETS, AllocationQuery, AssetQuery, IdleMode, ShareSplit, SplitMethod
from tests.query.fixture import NOW, WINDOW


def query(**params: str) -> AllocationQuery:
    return AllocationQuery.from_params({"window": WINDOW, **params}, NOW)


def test_defaults() -> None:
    q = query()
    assert (q.idle, q.idle_by_node, q.split_idle, q.aggregate, q.filter) == (IdleMode.SEPARATE, False, False, (), None)
    assert q.share_split == ShareSplit(SplitMethod.WEIGHTED)
    assert len(q.sets) == 1 and q.sets[0] == q.window
    assert q.window.start == datetime(2026, 11, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("params", "mode"),
    [
        ({"includeIdle": "false"}, IdleMode.HIDE),
        ({"includeIdle": "true", "shareIdle": "true"}, IdleMode.SHARE),
        ({"idle": "false"}, IdleMode.HIDE),
        ({"idle": "share"}, IdleMode.SHARE),
        ({"idle": "separate"}, IdleMode.SEPARATE),
        ({"idle": "hide"}, IdleMode.HIDE),
        ({"includeIdle": "false", "shareIdle": "true"}, IdleMode.SHARE),
    ],
)
def test_idle_modes(params: dict[str, str], mode: IdleMode) -> None:
    assert query(**params).idle is mode


def test_sharing_params() -> None:
    q = query(
        shareNamespaces="kube-system, monitoring",
        shareLabels="team:platform,app:proxy",
        shareSplit="metric:network",
        shareCost="100.5",
        shareTenancyCosts="true",
        shareFilter='namespace:"x"',
    )
    assert q.share_namespaces == ("kube-system", "monitoring")
    assert q.share_labels == (("team", "platform"), ("app", "proxy"))
    assert q.share_split == ShareSplit(SplitMethod.METRIC, "network_transfer_bytes")
    assert (q.share_cost_per_month, q.share_tenancy_costs, q.shares_anything) == (100.5, True, True)


def test_sets_from_step_and_accumulate() -> None:
    assert len(query(step="1h").sets) == 2
    assert len(query(step="1h", accumulate="true").sets) == 1
    assert len(query(accumulateBy="hour").sets) == 2


@pytest.mark.parametrize(
    ("params", "error", "parameter"),
    [
        ({"window": ""}, InvalidParameter, "window"),
        ({"window": "nonsense"}, InvalidWindow, "window"),
        ({"aggregate": "bogus"}, InvalidAggregate, "aggregate"),
        ({"filter": 'namespace="x"'}, InvalidFilter, "filter"),
        ({"shareFilter": 'namespace:"x'}, InvalidFilter, "shareFilter"),
        ({"shareSplit": "random"}, InvalidParameter, "shareSplit"),
        ({"shareSplit": "metric:disk"}, InvalidParameter, "shareSplit"),
        ({"idleByNode": "maybe"}, InvalidParameter, "idleByNode"),
        ({"shareIdle": "x"}, InvalidParameter, "shareIdle"),
        ({"idle": "sometimes"}, InvalidParameter, "idle"),
        ({"splitIdle": "2"}, InvalidParameter, "splitIdle"),
        ({"shareLabels": "novalue"}, InvalidParameter, "shareLabels"),
        ({"shareCost": "-1"}, InvalidParameter, "shareCost"),
        ({"shareCost": "abc"}, InvalidParameter, "shareCost"),
        ({"shareTenancyCosts": "nope"}, InvalidParameter, "shareTenancyCosts"),
        ({"step": "5m"}, InvalidWindow, "step"),
        ({"accumulate": "sometimes"}, InvalidWindow, "accumulate"),
    ],
)
def test_bad_allocation_params(params: dict[str, str], error: type[InvalidParameter], parameter: str) -> None:
    with pytest.raises(error) as raised:
        AllocationQuery.from_params({"window": WINDOW, **params}, NOW)
    assert raised.value.parameter == parameter
    assert str(raised.value).startswith(f"{parameter}: ")


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"window": "2000-01-01T00:00:00Z,2026-01-01T00:00:00Z", "step": "1h"}, "step"),
        ({"window": "2000-01-01T00:00:00Z,2026-01-01T00:00:00Z", "accumulateBy": "hour"}, "accumulateBy"),
        ({"window": "0001-01-01T00:00:00Z,9999-01-01T00:00:00Z", "step": "month"}, "step"),
    ],
)
def test_too_many_sets_is_refused_before_splitting(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidParameter, match=rf"^{parameter}: .* at most {MAX_SETS} ") as raised:
        AllocationQuery.from_params(params, NOW)
    assert raised.value.parameter == parameter


def test_a_window_past_the_end_of_the_calendar_is_refused() -> None:
    params = {"window": "9999-12-31T23:30:00Z,9999-12-31T23:45:00Z"}
    for query_type in (AllocationQuery, AssetQuery):
        with pytest.raises(InvalidParameter, match="supported range of dates") as raised:
            query_type.from_params(params, NOW)
        assert raised.value.parameter == "window"


@pytest.mark.parametrize(
    "params",
    [
        {"window": "9999-11-01T00:00:00Z,9999-12-31T00:00:00Z", "step": "month"},
        {"window": "9999-11-01T00:00:00Z,9999-12-31T00:00:00Z", "step": "quarter"},
        {"window": "9999-12-01T00:00:00Z,9999-12-31T00:00:00Z", "step": "1w"},
        {"window": "9999-12-01T00:00:00Z,9999-12-31T00:00:00Z", "accumulateBy": "month"},
    ],
)
def test_steps_at_the_end_of_the_calendar_stop_at_the_window_end(params: dict[str, str]) -> None:
    for query_type in (AllocationQuery, AssetQuery):
        query = query_type.from_params(params, NOW)
        assert query.sets[-1].end == query.window.end == datetime(9999, 12, 31, tzinfo=UTC)
        assert all(a.end == b.start for a, b in zip(query.sets, query.sets[1:], strict=False))


def test_set_count_limit_is_inclusive() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=MAX_SETS)
    window = f"{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"
    assert len(AllocationQuery.from_params({"window": window, "step": "1h"}, NOW).sets) == MAX_SETS
    longer = f"{start:%Y-%m-%dT%H:%M:%SZ},{end + timedelta(hours=1):%Y-%m-%dT%H:%M:%SZ}"
    with pytest.raises(InvalidParameter, match=r"^step: "):
        AssetQuery.from_params({"window": longer, "step": "1h"}, NOW)


def test_missing_window() -> None:
    with pytest.raises(InvalidParameter, match=r"^window: missing"):
        AllocationQuery.from_params({}, NOW)


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"aggregate": "namespace"}, "aggregate"),
        ({"aggregate": "label:"}, "aggregate"),
        ({"filter": 'namespace:"a"'}, "filter"),
        ({"step": "x"}, "step"),
    ],
)
def test_bad_asset_params(params: dict[str, str], parameter: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        AssetQuery.from_params({"window": WINDOW, **params}, NOW)
    assert raised.value.parameter == parameter


def test_asset_aggregate_keys() -> None:
    q = AssetQuery.from_params({"window": WINDOW, "aggregate": "type,label:team"}, NOW)
    assert [(k.column, k.label) for k in q.aggregate] == [("type", None), (None, "team")]

"""Shared costs: namespaces, labels, filters, fixed overhead, cluster management; even / weighted / metric.

Hand computations use the fixture totals (idle hidden unless said): a 14 (web-1 12, web-2 2), b 10,
kube-system 2, __unmounted__ 1; idle 14; overhead 0.2.
"""

from __future__ import annotations

import pytest

from kubetally.ledger import Ledger
from tests.query.helpers import allocation, totals

HIDE = {"aggregate": "namespace", "includeIdle": "false"}


def test_share_namespaces_weighted(ledger: Ledger) -> None:
    # kube-system's 2 goes to a, b, __unmounted__ in proportion to 14 : 10 : 1.
    result = totals(ledger, **HIDE, shareNamespaces="kube-system")
    assert result == pytest.approx(
        {"a": 14 + 2 * 14 / 25, "b": 10 + 2 * 10 / 25, "__unmounted__": 1 + 2 / 25}, abs=1e-5
    )
    (only,) = allocation(ledger, **HIDE, shareNamespaces="kube-system")
    assert only["a"]["sharedCost"] == pytest.approx(1.12)
    assert only["a"]["cpuCost"] == 9.0


def test_share_namespaces_even(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, shareNamespaces="kube-system", shareSplit="even")
    assert result == pytest.approx({"a": 14 + 2 / 3, "b": 10 + 2 / 3, "__unmounted__": 1 + 2 / 3}, abs=1e-5)


def test_share_namespaces_with_a_filter_keeps_the_unfiltered_weights(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, shareNamespaces="kube-system", filter='namespace:"a"')
    assert result == pytest.approx({"a": 14 + 2 * 14 / 25}, abs=1e-5)


def test_share_filter_equals_share_namespaces(ledger: Ledger) -> None:
    by_filter = totals(ledger, **HIDE, shareFilter='namespace:"kube-system"')
    assert by_filter == totals(ledger, **HIDE, shareNamespaces="kube-system")


def test_share_labels(ledger: Ledger) -> None:
    # the app=web pods (a: 14) are shared onto b 10, kube-system 2, __unmounted__ 1.
    result = totals(ledger, **HIDE, shareLabels="app:web")
    assert result == pytest.approx(
        {"b": 10 + 14 * 10 / 13, "kube-system": 2 + 14 * 2 / 13, "__unmounted__": 1 + 14 / 13}, abs=1e-5
    )


def test_share_split_by_cpu_metric(ledger: Ledger) -> None:
    # cpu core-hours: a 2+2+1 = 5, b 1+1 = 2, __unmounted__ 0.
    result = totals(ledger, **HIDE, shareNamespaces="kube-system", shareSplit="metric:cpu")
    assert result == pytest.approx({"a": 14 + 2 * 5 / 7, "b": 10 + 2 * 2 / 7, "__unmounted__": 1.0}, abs=1e-5)


def test_share_fixed_monthly_cost(ledger: Ledger) -> None:
    # $730/month is $1/hour: 2 dollars over the two-hour window, weighted 14 : 10 : 2 : 1.
    result = totals(ledger, **HIDE, shareCost="730")
    expected = {
        "a": 14 + 2 * 14 / 27,
        "b": 10 + 2 * 10 / 27,
        "kube-system": 2 + 2 * 2 / 27,
        "__unmounted__": 1 + 2 / 27,
    }
    assert result == pytest.approx(expected, abs=1e-5)


def test_share_tenancy_costs(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, shareTenancyCosts="true")
    assert result["b"] == pytest.approx(10 + 0.2 * 10 / 27)
    assert sum(result.values()) == pytest.approx(27.2)


def test_shared_namespace_passes_on_the_idle_it_received(ledger: Ledger) -> None:
    shared_idle = totals(ledger, aggregate="namespace", idle="share")
    result = totals(ledger, aggregate="namespace", idle="share", shareNamespaces="kube-system")
    pool = shared_idle["kube-system"]
    weights = shared_idle["a"] + shared_idle["b"] + shared_idle["__unmounted__"]
    assert result == pytest.approx(
        {name: shared_idle[name] * (1 + pool / weights) for name in ("a", "b", "__unmounted__")}, abs=1e-4
    )


def test_cost_nobody_can_receive_stays_shared(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, shareFilter='cluster:"c1","c2"')
    assert result == {"__shared__": 27.0}


@pytest.mark.parametrize(
    ("params", "expected_total"),
    [
        ({"shareNamespaces": "kube-system"}, 41.0),
        ({"shareNamespaces": "kube-system,b", "shareSplit": "even"}, 41.0),
        ({"shareLabels": "team:t1", "idle": "share"}, 41.0),
        ({"shareLabels": "team:t2", "idle": "share", "idleByNode": "true", "shareSplit": "even"}, 41.0),
        ({"shareFilter": 'pod<~:"api"', "idle": "share", "shareSplit": "metric:network"}, 41.0),
        ({"shareNamespaces": "a", "idle": "share", "step": "1h", "shareSplit": "metric:ram"}, 41.0),
        ({"shareNamespaces": "kube-system", "shareTenancyCosts": "true", "shareCost": "365"}, 41.0 + 0.2 + 1.0),
    ],
)
def test_sharing_never_creates_or_destroys_cost(ledger: Ledger, params: dict[str, str], expected_total: float) -> None:
    for aggregate in ("namespace", "cluster,label:team", ""):
        sets = allocation(ledger, aggregate=aggregate, **params)
        total = sum(item["totalCost"] for s in sets for item in s.values())
        assert total == pytest.approx(expected_total, abs=1e-3), aggregate

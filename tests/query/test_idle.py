"""Idle: hidden, separate (merged or split by cluster / node), shared weighted / even / by node.

Expected values are computed by hand from the fixture table (tests/query/fixture.py, docs/query.md).
"""

from __future__ import annotations

import pytest

from kubetally.ledger import Ledger
from tests.query.helpers import allocation, totals

BY_NAMESPACE = {"a": 14.0, "b": 10.0, "kube-system": 2.0, "__unmounted__": 1.0}


def test_idle_hidden(ledger: Ledger) -> None:
    assert totals(ledger, aggregate="namespace", includeIdle="false") == BY_NAMESPACE


def test_idle_separate_is_default(ledger: Ledger) -> None:
    assert totals(ledger, aggregate="namespace") == {**BY_NAMESPACE, "__idle__": 14.0}


def test_idle_separate_parts(ledger: Ledger) -> None:
    (only,) = allocation(ledger, aggregate="namespace", idle="separate")
    idle = only["__idle__"]
    assert (idle["cpuCost"], idle["ramCost"], idle["cpuEfficiency"], idle["totalEfficiency"]) == (10.0, 4.0, 0, 0)


def test_split_idle_per_cluster(ledger: Ledger) -> None:
    result = totals(ledger, aggregate="namespace", splitIdle="true")
    assert result == {**BY_NAMESPACE, "c1/__idle__": 12.0, "c2/__idle__": 2.0}


def test_split_idle_per_node(ledger: Ledger) -> None:
    result = totals(ledger, aggregate="namespace", splitIdle="true", idleByNode="true")
    assert result == {**BY_NAMESPACE, "c1/n1/__idle__": 8.0, "c1/n2/__idle__": 4.0, "c2/m1/__idle__": 2.0}
    (only,) = allocation(ledger, aggregate="namespace", splitIdle="true", idleByNode="true")
    assert only["c1/n2/__idle__"]["properties"] == {"cluster": "c1", "node": "n2"}


def test_idle_shared_weighted_per_cluster(ledger: Ledger) -> None:
    # Over the whole set, c1's idle is cpu 9 (3+2+2+2), ram 3 (1+0+2+0); c1's charged cpu: web-1 8, dns 1,
    # api 4 (13); ram: web-1 4, dns 1, api 4 (9). c2's idle (2) all goes to web-2.
    expected = {
        "a": 14 + 9 * 8 / 13 + 3 * 4 / 9 + 2,
        "b": 10 + 9 * 4 / 13 + 3 * 4 / 9,
        "kube-system": 2 + 9 * 1 / 13 + 3 * 1 / 9,
        "__unmounted__": 1.0,
    }
    result = totals(ledger, aggregate="namespace", shareIdle="true")
    assert result == pytest.approx(expected, abs=1e-5)
    assert sum(result.values()) == pytest.approx(41.0, abs=1e-4)
    (only,) = allocation(ledger, aggregate="namespace", idle="share")
    assert only["kube-system"]["cpuCostIdle"] == pytest.approx(9 / 13, abs=1e-5)
    assert only["kube-system"]["cpuCost"] == pytest.approx(1 + 9 / 13, abs=1e-5)


def test_idle_shared_per_step(ledger: Ledger) -> None:
    # step=1h: H0 c1 cpu idle 5 over web 4 / dns 1 / api 2, ram idle 1 over 2 / 1 / 2; c2 idle 2 to web-2.
    # H1 c1 cpu idle 4 over web 4 / api 2, ram idle 2 over 2 / 2.
    h0, h1 = allocation(ledger, aggregate="namespace", idle="share", step="1h")
    assert {n: i["totalCost"] for n, i in h0.items()} == pytest.approx(
        {
            "a": 8 + 5 * 4 / 7 + 2 / 5 + 2,
            "b": 5 + 5 * 2 / 7 + 2 / 5,
            "kube-system": 2 + 5 / 7 + 1 / 5,
            "__unmounted__": 1.0,
        },
        abs=1e-5,
    )
    assert {n: i["totalCost"] for n, i in h1.items()} == pytest.approx(
        {"a": 6 + 4 * 4 / 6 + 1, "b": 5 + 4 * 2 / 6 + 1}, abs=1e-5
    )


def test_idle_shared_by_node(ledger: Ledger) -> None:
    # n1: idle cpu 5, ram 3 over web-1 (cpu 8, ram 4) and dns (1, 1); n2's idle (cpu 4) all to api; m1 to web-2.
    expected = {
        "a": 14 + 5 * 8 / 9 + 3 * 4 / 5 + 2,
        "b": 10 + 4,
        "kube-system": 2 + 5 / 9 + 3 / 5,
        "__unmounted__": 1.0,
    }
    result = totals(ledger, aggregate="namespace", idle="share", idleByNode="true")
    assert result == pytest.approx(expected, abs=1e-5)


def test_idle_shared_even(ledger: Ledger) -> None:
    # even: each name present in a cluster gets an equal part of its idle: c1 (12) over a, kube-system, b and
    # __unmounted__; c2 (2) to a.
    expected = {"a": 14 + 3 + 2, "b": 10 + 3, "kube-system": 2 + 3, "__unmounted__": 1 + 3}
    result = totals(ledger, aggregate="namespace", idle="share", shareSplit="even")
    assert result == pytest.approx(expected, abs=1e-5)


def test_idle_with_filter_keeps_the_idle_of_matching_scopes(ledger: Ledger) -> None:
    # namespace b also holds the unmounted claim; b runs in c1 (idle 12), on node n2 (idle 4).
    expected = {"b": 10.0, "__unmounted__": 1.0}
    assert totals(ledger, aggregate="namespace", filter='namespace:"b"') == {**expected, "__idle__": 12.0}
    by_node = totals(ledger, aggregate="namespace", filter='namespace:"b"', idleByNode="true")
    assert by_node == {**expected, "__idle__": 4.0}


def test_shared_idle_does_not_depend_on_the_filter(ledger: Ledger) -> None:
    unfiltered = totals(ledger, aggregate="namespace", idle="share")
    filtered = totals(ledger, aggregate="namespace", idle="share", filter='namespace:"kube-system"')
    assert filtered == {"kube-system": unfiltered["kube-system"]}

"""Aggregation keys, unaggregated names and properties, steps and accumulation, rounding and NaN → null."""

from __future__ import annotations

import pytest

from kubetally.ledger import Ledger
from tests.query.helpers import allocation, totals

HIDE = {"includeIdle": "false"}


def test_multi_key_aggregation(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, aggregate="cluster,namespace")
    assert result == {"c1/a": 12.0, "c1/kube-system": 2.0, "c1/b": 10.0, "c1/__unmounted__": 1.0, "c2/a": 2.0}
    (only,) = allocation(ledger, **HIDE, aggregate="cluster,namespace")
    assert only["c2/a"]["properties"] == {"cluster": "c2", "namespace": "a"}


def test_cluster_aggregate_includes_unmounted_cost(ledger: Ledger) -> None:
    assert totals(ledger, **HIDE, aggregate="cluster") == {"c1": 25.0, "c2": 2.0}


def test_label_without_value_is_unallocated(ledger: Ledger) -> None:
    assert totals(ledger, **HIDE, aggregate="label:app") == {"web": 14.0, "__unallocated__": 12.0, "__unmounted__": 1.0}
    (only,) = allocation(ledger, **HIDE, aggregate="label:app")
    assert only["web"]["properties"] == {"labels": {"app": "web"}}


def test_label_alias_and_namespace(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, aggregate="team,namespace")
    assert result == {
        "t1/a": 14.0,
        "__unallocated__/kube-system": 2.0,
        "t2/b": 10.0,
        "__unmounted__/__unmounted__": 1.0,
    }


def test_controller_and_kind_keys(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, aggregate="controller")
    assert result == {"deployment:web": 14.0, "daemonset:dns": 2.0, "statefulset:api": 10.0, "__unmounted__": 1.0}
    assert totals(ledger, **HIDE, aggregate="deployment") == {
        "web": 14.0,
        "__unallocated__": 12.0,
        "__unmounted__": 1.0,
    }


def test_all_is_one_aggregate(ledger: Ledger) -> None:
    assert totals(ledger, **HIDE, aggregate="all") == {"__all__": 27.0}


def test_unaggregated_names_and_properties(ledger: Ledger) -> None:
    (only,) = allocation(ledger)
    assert sorted(only) == [
        "__idle__",
        "c1/__unmounted__/__unmounted__/__unmounted__/__unmounted__",
        "c1/n1/a/web-1/app",
        "c1/n1/kube-system/dns-1/dns",
        "c1/n2/b/api-1/api",
        "c2/m1/a/web-2/app",
    ]
    web = only["c1/n1/a/web-1/app"]
    assert web["totalCost"] == 12.0
    assert web["properties"]["controller"] == "web"
    assert web["properties"]["labels"] == {"app": "web", "team": "t1"}
    assert web["properties"]["services"] == ["web"]
    assert web["rawAllocationOnly"] == {"cpuCoreUsageMax": 1.5, "ramByteUsageMax": 3 * 2.0**30}


def test_derived_fields(ledger: Ledger) -> None:
    (only,) = allocation(ledger, **HIDE, aggregate="namespace")
    a = only["a"]
    # request core-minutes: web-1 2 x 60 x 2 + web-2 1 x 60 = 300 over 120 minutes; usage 150 / 120.
    assert (a["minutes"], a["cpuCoreRequestAverage"], a["cpuCoreUsageAverage"]) == (120.0, 2.5, 1.25)
    assert (a["cpuCoreHours"], a["cpuCores"], a["cpuEfficiency"]) == (5.0, 2.5, 0.5)
    assert a["totalEfficiency"] == 0.5
    assert (a["window"], a["start"]) == (
        {"start": "2026-11-01T00:00:00Z", "end": "2026-11-01T02:00:00Z"},
        a["window"]["start"],
    )
    b = only["b"]
    assert (b["pvCost"], b["networkCost"], b["networkInternetCost"], b["networkTransferBytes"]) == (
        1.0,
        1.0,
        1.0,
        900.0,
    )
    # no request, no usage: efficiency 0.
    assert b["cpuEfficiency"] == 0.0


def test_rounding_and_nan_to_null(ledger: Ledger) -> None:
    (only,) = allocation(ledger)
    assert only["c1/n1/kube-system/dns-1/dns"]["cpuCoreHours"] == 0.33333
    # web-2's cpu_core_usage_max is NaN in the ledger.
    assert only["c2/m1/a/web-2/app"]["rawAllocationOnly"]["cpuCoreUsageMax"] is None
    (shared,) = allocation(ledger, **HIDE, aggregate="namespace", shareNamespaces="kube-system", shareSplit="even")
    assert shared["a"]["sharedCost"] == 0.66667


def test_step_gives_one_set_per_hour(ledger: Ledger) -> None:
    h0, h1 = allocation(ledger, aggregate="namespace", step="1h")
    assert {n: i["totalCost"] for n, i in h0.items()} == {
        "a": 8.0,
        "kube-system": 2.0,
        "b": 5.0,
        "__unmounted__": 1.0,
        "__idle__": 8.0,
    }
    assert {n: i["totalCost"] for n, i in h1.items()} == {"a": 6.0, "b": 5.0, "__idle__": 6.0}
    assert h1["a"]["window"] == {"start": "2026-11-01T01:00:00Z", "end": "2026-11-01T02:00:00Z"}
    assert h1["a"]["minutes"] == 60.0


def test_accumulate_merges_the_steps(ledger: Ledger) -> None:
    accumulated = allocation(ledger, aggregate="namespace", step="1h", accumulate="true")
    assert accumulated == allocation(ledger, aggregate="namespace")
    assert len(allocation(ledger, aggregate="namespace", accumulate="hour")) == 2


def test_sets_without_data_are_empty(ledger: Ledger) -> None:
    sets = allocation(ledger, aggregate="namespace", step="1h", window="2026-10-31T22:00:00Z,2026-11-01T02:00:00Z")
    assert [len(s) for s in sets] == [0, 0, 5, 3]


def test_filter_on_a_pod_property(ledger: Ledger) -> None:
    result = totals(ledger, **HIDE, aggregate="namespace", filter='label[team]:"t1"+cluster:"c1"')
    assert result == {"a": 12.0}
    # the unmounted claim has no controller: an empty controllerKind is not "Deployment".
    result = totals(ledger, **HIDE, aggregate="pod", filter='controllerKind!:"Deployment"')
    assert result == pytest.approx({"dns-1": 2.0, "api-1": 10.0, "__unmounted__": 1.0})


def test_volume_and_load_balancer_details(ledger: Ledger) -> None:
    (only,) = allocation(ledger, **HIDE, aggregate="namespace")
    pv = {"cluster=c1:name=pv-1": {"byteHours": 2.0**30, "cost": 1.0, "providerID": "disk-1"}}
    assert only["b"]["pvs"] == pv
    assert only["__unmounted__"]["pvs"] == pv
    assert only["a"]["pvs"] is None
    web = {"service": "a/web", "cost": 0.0, "private": True, "ip": "10.0.0.1", "hours": 1.0}
    assert only["a"]["lbAllocations"] == {"c1/a/web": web}
    assert only["b"]["lbAllocations"] is None


def test_details_follow_shares_and_filters(ledger: Ledger) -> None:
    (shared,) = allocation(ledger, **HIDE, aggregate="cluster", shareLabels="team:t2")
    # api-1 (team t2) is shared: its volume share is passed on as sharedCost; the unmounted part stays.
    assert shared["c1"]["pvs"] == {"cluster=c1:name=pv-1": {"byteHours": 2.0**30, "cost": 1.0, "providerID": "disk-1"}}
    h0, h1 = allocation(ledger, **HIDE, step="1h", filter='pod:"web-1"')
    assert h0["c1/n1/a/web-1/app"]["lbAllocations"] is None
    assert h1["c1/n1/a/web-1/app"]["lbAllocations"]["c1/a/web"]["hours"] == 1.0

"""The seed's three questions answered from the text content alone, as Cline hands it to its model.

Each test reads only the tool's text block and finds there every number the answer needs, checked against the
HTTP API's figures for the same window (the oracle), in the served price book's currency.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.mcp.conftest import CURRENCY, EU, EU_CLUSTER, SHOP, SHOP_NAMESPACES, Served

GIB = 2**30


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every markdown table of ``text`` as rows keyed by the header's cells."""
    found: list[list[dict[str, str]]] = []
    lines = text.splitlines()
    for i, line in enumerate(lines[:-1]):
        if line.startswith("| ") and lines[i + 1].startswith("|---"):
            header = [cell.strip() for cell in line.strip("|").split("|")]
            rows = []
            for body in lines[i + 2 :]:
                if not body.startswith("| "):
                    break
                rows.append(dict(zip(header, (cell.strip() for cell in body.strip("|").split("|")), strict=True)))
            found.append(rows)
    return found


def _money(value: float) -> str:
    return f"{value:.2f}"


def _percent_after(label: str, text: str) -> float:
    match = re.search(re.escape(label) + r"\s*(\d+\.\d+) %", text)
    assert match, f"no {label!r} percentage in:\n{text}"
    return float(match.group(1))


def test_q1_unallocated_share_is_read_from_the_text(served: Served) -> None:
    """'What percentage of the cluster's costs is not allocated?' — idle %, its amounts and the currency."""
    text = served.text("get_idle_costs", {"window": "7d"})
    rows = served.api("/allocation", {"window": "7d", "aggregate": "cluster", "accumulate": "true"})[0]
    total = sum(row["totalCost"] for row in rows.values())
    idle = rows["__idle__"]["totalCost"]
    assert CURRENCY in text and "USD" not in text
    assert _percent_after(f"{CURRENCY} of {_money(total)} {CURRENCY},", text) == pytest.approx(
        100 * idle / total, abs=0.005
    )
    (table,) = tables(text)
    overall = next(row for row in table if row["part"] == "all")
    assert overall[f"idle {CURRENCY}"] == _money(idle) and overall[f"total {CURRENCY}"] == _money(total)
    split = served.api(
        "/allocation", {"window": "7d", "aggregate": "cluster", "accumulate": "true", "splitIdle": "true"}
    )
    for name, row in split[0].items():
        if name.endswith("/__idle__"):
            cluster = name.split("/")[0]
            line = next(r for r in table if r["part"] == f"cluster {cluster}")
            assert line[f"idle {CURRENCY}"] == _money(row["totalCost"])
    assert "cluster-management" in text


def test_q2_every_persistent_volume_of_yesterday_is_in_the_text(served: Served) -> None:
    """'List the costs of persistent volumes yesterday' — every disk with its claim, namespace, size and cost."""
    text = served.text("get_asset_costs", {"window": "yesterday", "type": "Disk"})
    api = served.api("/assets", {"window": "yesterday", "filter": 'type:"Disk"'})
    assert len(api) > 5
    (table,) = tables(text)
    assert len(table) == len(api)
    by_claim = {(row["claim"], row["namespace"]): row for row in table}
    for asset in api.values():
        row = by_claim[(asset["claimName"], asset["claimNamespace"])]
        assert row[f"cost {CURRENCY}"] == _money(asset["totalCost"])
        assert row["GiB"] == f"{asset['bytes'] / GIB:.1f}"
        assert row["cluster"] == asset["properties"]["cluster"]
    assert f"total {_money(sum(a['totalCost'] for a in api.values()))} {CURRENCY}" in text


@pytest.mark.parametrize("aggregate", ["", "label:app", "namespace"])
def test_q3_a_labels_share_of_all_costs_is_the_apis(served: Served, aggregate: str) -> None:
    """'What percentage of the cluster's costs goes to the application labelled storefront?'"""
    params = {"window": "7d", "accumulate": "true"} | ({"aggregate": aggregate} if aggregate else {})
    text = served.text("get_allocation_costs", {**params, "filter": "label:app:storefront"})
    matched = served.api("/allocation", {**params, "filter": "label:app:storefront", "idle": "hide"})[0]
    everything = served.api("/allocation", params)[0]
    mine = sum(row["totalCost"] for row in matched.values())
    whole = sum(row["totalCost"] for row in everything.values())
    assert 0 < mine < whole
    assert _percent_after("Share of all costs:", text) == pytest.approx(100 * mine / whole, abs=0.005)
    assert f"{_money(mine)} / {_money(whole)} {CURRENCY}" in text
    assert "denominator" in text
    (table,) = tables(text)
    shares = [float(row["% of all costs"]) for row in table if row["% of all costs"]]
    assert sum(shares) == pytest.approx(100 * mine / whole, abs=0.01 * len(shares))
    for name, row in matched.items():
        line = next(r for r in table if r["name"] == name)
        assert line[f"total {CURRENCY}"] == _money(row["totalCost"])
    idle_rows = [r for r in table if r["name"].endswith("__idle__")]
    assert all(r["% of all costs"] == "" for r in idle_rows)


def test_a_label_share_does_not_change_with_the_filter_s_clusters(served: Served) -> None:
    """The share of the same allocations is the same whether the filter pulls in other clusters or not."""
    alone = served.structured("get_allocation_costs", {"window": "7d", "filter": "label:app:storefront"})
    wider = 'label[app]:"storefront" | namespace:"ml"'
    both = served.structured("get_allocation_costs", {"window": "7d", "filter": wider, "aggregate": "label:app"})
    storefront = both["sets"][0]["allocations"]["storefront"]["totalCost"]
    assert alone["all_costs_total"] == both["all_costs_total"]
    assert alone["share_of_total"] == pytest.approx(100 * storefront / alone["all_costs_total"], abs=1e-3)


def test_a_filter_matching_nothing_names_it_and_lists_the_values(served: Served) -> None:
    text = served.text("get_allocation_costs", {"window": "7d", "filter": "label:app:nothere"})
    apps = set(served.api("/allocation", {"window": "7d", "aggregate": "label:app", "accumulate": "true"})[0])
    assert "label:app:nothere" in text and "no allocation matches" in text
    listed = re.search(r"label app: ([^;\n]+)", text)
    assert listed, text
    assert {a for a in apps if not a.startswith("__")} <= set(listed.group(1).rstrip(".").split(", "))


def test_efficiency_text_names_every_workload_with_its_saving(served: Served) -> None:
    answer = served.structured("get_efficiency", {"window": "7d"})
    text = served.text("get_efficiency", {"window": "7d"})
    (table,) = tables(text)
    assert [row["workload"] for row in table] == [w["name"] for w in answer["workloads"]]
    for row, workload in zip(table, answer["workloads"], strict=True):
        assert row[f"saving {CURRENCY}/month"] == _money(workload["monthly_saving"])
    assert f"{_money(answer['total_monthly_saving'])} {CURRENCY}" in text


def _workloads(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in answer["workloads"]}


def test_a_scoped_identity_s_efficiency_equals_the_unscoped_one(served: Served) -> None:
    """Savings come from the workloads' own costs: the scope's idle sharing must not inflate them."""
    scoped = served.structured("get_efficiency", {"window": "7d"}, SHOP)
    namespaces = ",".join(f'"{n}"' for n in SHOP_NAMESPACES)
    unscoped = served.structured("get_efficiency", {"window": "7d", "filter": f"namespace:{namespaces}"})
    assert {w.split("/")[0] for w in _workloads(scoped)} <= set(SHOP_NAMESPACES)
    mine, theirs = _workloads(scoped), _workloads(unscoped)
    assert mine == {name: theirs[name] for name in mine}
    # Only kubetally's own rows (unmounted volumes), which no namespace scope holds, differ.
    assert all(name.startswith("__") and theirs[name]["monthly_saving"] == 0 for name in set(theirs) - set(mine))
    assert scoped["total_monthly_saving"] == unscoped["total_monthly_saving"] > 0
    payments = served.structured("get_efficiency", {"window": "7d", "filter": 'namespace:"payments"'}, SHOP)
    assert _workloads(payments) == {k: v for k, v in theirs.items() if k.startswith("payments/")}


def test_a_filter_s_share_of_each_cluster_is_in_the_text(served: Served) -> None:
    """Per cluster: the matching allocations' cost over that cluster's whole cost (its idle included)."""
    wider = 'label[app]:"storefront" | namespace:"ml"'
    text = served.text("get_allocation_costs", {"window": "7d", "filter": wider})
    params = {"window": "7d", "aggregate": "cluster", "accumulate": "true"}
    matched = served.api("/allocation", {**params, "filter": wider, "idle": "hide"})[0]
    whole = served.api("/allocation", {**params, "splitIdle": "true"})[0]
    assert len(matched) == 2
    for cluster, row in matched.items():
        total = sum(r["totalCost"] for name, r in whole.items() if name.split("/")[0] == cluster)
        mine = row["totalCost"]
        line = f"In cluster {cluster}: {_money(mine)} of its {_money(total)} {CURRENCY} ("
        assert line in text
        assert _percent_after(line, text) == pytest.approx(100 * mine / total, abs=0.005)


def test_efficiency_of_a_filter_matching_nothing_names_it(served: Served) -> None:
    text = served.text("get_efficiency", {"window": "7d", "filter": 'namespace:"nothere"'})
    assert "no allocation matches filter 'namespace:\"nothere\"'" in text
    assert "checkout" in text


def test_a_scoped_identity_is_told_its_idle_is_shared_and_why_it_gets_no_share_of_all_costs(served: Served) -> None:
    text = served.text("get_allocation_costs", {"window": "7d", "aggregate": "namespace"}, SHOP)
    assert "not given to a scoped identity" in text and "Share of all costs:" not in text
    assert "idle shared onto the allocations" in text and "idle excluded" not in text


COLUMNS = {
    "cpuCost": "cpu",
    "gpuCost": "gpu",
    "ramCost": "ram",
    "pvCost": "pv",
    "networkCost": "network",
    "loadBalancerCost": "lb",
    "sharedCost": "shared",
    "totalCost": "total",
}


@pytest.mark.parametrize("idle", ["separate", "share"])
def test_every_cost_of_every_allocation_is_in_the_text(served: Served, idle: str) -> None:
    """The cost columns are the API's and add up to each row's total: nothing (GPU, load balancers) is missing."""
    params = {"window": "7d", "aggregate": "namespace", "idle": idle}
    (table,) = tables(served.text("get_allocation_costs", params))
    api = served.api("/allocation", {**params, "accumulate": "true"})[0]
    assert {row["name"] for row in table} == set(api)
    assert any(row["gpuCost"] for row in api.values()) and any(row["loadBalancerCost"] for row in api.values())
    adjusted = False
    for line in table:
        row = api[line["name"]]
        for field, column in COLUMNS.items():
            assert line[f"{column} {CURRENCY}"] == _money(row[field]), (line["name"], field)
        # Over-commit adjustments (cost-model.md), summed in one column when any row has one.
        adjustment = sum(value for field, value in row.items() if field.endswith("CostAdjustment"))
        adjusted |= abs(adjustment) >= 0.005
        assert line.get(f"adjustment {CURRENCY}", "0.00") == _money(adjustment)
        parts = [float(line[f"{column} {CURRENCY}"]) for column in list(COLUMNS.values())[:-1]]
        parts.append(float(line.get(f"adjustment {CURRENCY}", "0")))
        assert sum(parts) == pytest.approx(float(line[f"total {CURRENCY}"]), abs=0.005 * len(parts))
    assert adjusted
    if idle == "share":
        assert "__idle__" not in {row["name"] for row in table}


def test_a_cluster_scoped_identity_s_efficiency_equals_the_unscoped_one(served: Served) -> None:
    scoped = served.structured("get_efficiency", {"window": "7d"}, EU)
    unscoped = served.structured("get_efficiency", {"window": "7d", "filter": f'cluster:"{EU_CLUSTER}"'})
    mine, theirs = _workloads(scoped), _workloads(unscoped)
    assert mine and mine == {name: theirs[name] for name in mine}
    assert all(name.startswith("__") for name in set(theirs) - set(mine))

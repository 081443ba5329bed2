"""The seed's three questions, asked as an assistant would over Streamable HTTP, answer what the API answers."""

from __future__ import annotations

import pytest

from tests.mcp.conftest import Served

TOOLS = {
    "get_allocation_costs",
    "get_asset_costs",
    "get_cloud_costs",
    "get_idle_costs",
    "get_efficiency",
    "list_aggregation_values",
}


def test_tools_are_listed_with_typed_inputs_and_structured_outputs(served: Served) -> None:
    tools = {tool.name: tool for tool in served.list_tools().tools}
    assert set(tools) == TOOLS
    for tool in tools.values():
        assert tool.description and len(tool.description) > 80
        assert tool.inputSchema["required"] == ["window"]
        assert tool.inputSchema["properties"]["window"]["type"] == "string"
        assert tool.outputSchema is not None and tool.outputSchema["type"] == "object"
        assert "ctx" not in tool.inputSchema["properties"]
    idle = tools["get_allocation_costs"].inputSchema["properties"]["idle"]
    assert idle["enum"] == ["separate", "hide", "share"]


def test_unallocated_share_of_the_cluster_cost_equals_the_api(served: Served) -> None:
    """'What percentage of the cluster's costs is not allocated?'"""
    idle = served.structured("get_idle_costs", {"window": "7d"})
    data = served.api("/allocation", {"window": "7d", "aggregate": "cluster", "accumulate": "true"})
    rows = data[0]
    total = sum(row["totalCost"] for row in rows.values())
    idle_cost = rows["__idle__"]["totalCost"]
    assert idle["overall"]["idle_cost"] == pytest.approx(idle_cost, abs=1e-4)
    assert idle["overall"]["total_cost"] == pytest.approx(total, abs=1e-4)
    assert idle["overall"]["idle_percent"] == pytest.approx(100 * idle_cost / total, abs=1e-3)
    assert 0 < idle["overall"]["idle_percent"] < 100
    per_cluster = {row["name"]: row for row in idle["breakdown"]}
    assert set(per_cluster) == {row["properties"]["cluster"] for name, row in rows.items() if name != "__idle__"}
    assert sum(row["idle_cost"] for row in per_cluster.values()) == pytest.approx(idle_cost, abs=1e-3)
    cpu = next(r for r in idle["resources"] if r["name"] == "cpu")
    assert cpu["idle_cost"] == pytest.approx(rows["__idle__"]["cpuCost"], abs=1e-4)


def test_idle_by_node_adds_up_to_the_cluster_idle(served: Served) -> None:
    by_cluster = served.structured("get_idle_costs", {"window": "yesterday"})
    by_node = served.structured("get_idle_costs", {"window": "yesterday", "by": "node"})
    assert all(row["name"].count("/") == 1 for row in by_node["breakdown"])
    assert by_node["overall"]["total_cost"] == pytest.approx(by_cluster["overall"]["total_cost"], abs=1e-3)


def test_persistent_volume_costs_of_yesterday_equal_the_api(served: Served) -> None:
    """'List the costs of persistent volumes for yesterday' — one Disk asset per PV, with its claim."""
    answer = served.structured("get_asset_costs", {"window": "yesterday", "type": "disk"})
    api = served.api("/assets", {"window": "yesterday", "filter": 'type:"Disk"'})
    assert len(answer["sets"]) == 1
    assets = answer["sets"][0]["assets"]
    assert assets and {key: a["totalCost"] for key, a in assets.items()} == {k: a["totalCost"] for k, a in api.items()}
    assert {a["type"] for a in assets.values()} == {"Disk"}
    claims = {a["volumeName"]: a["claimName"] for a in assets.values()}
    assert claims == {a["volumeName"]: a["claimName"] for a in api.values()}
    assert answer["total_cost"] == pytest.approx(sum(a["totalCost"] for a in api.values()), abs=1e-4)


@pytest.mark.parametrize("filter_text", ["label:app:storefront", 'label[app]:"storefront"'])
def test_cost_share_of_a_label_equals_the_api(served: Served, filter_text: str) -> None:
    """'What percentage of the cluster's cost goes to the application labelled storefront?'"""
    params = {"window": "7d", "aggregate": "label:app", "accumulate": "true"}
    filtered = served.structured("get_allocation_costs", {**params, "filter": filter_text})
    everything = served.structured("get_allocation_costs", params)
    api_filtered = served.api("/allocation", {**params, "filter": filter_text})[0]
    api_all = served.api("/allocation", params)[0]
    mine = filtered["sets"][0]["allocations"]["storefront"]["totalCost"]
    assert mine == api_filtered["storefront"]["totalCost"] > 0
    assert everything["total_cost"] == pytest.approx(sum(row["totalCost"] for row in api_all.values()), abs=1e-4)
    share = 100 * mine / everything["total_cost"]
    api_share = 100 * api_filtered["storefront"]["totalCost"] / sum(row["totalCost"] for row in api_all.values())
    assert share == pytest.approx(api_share, rel=1e-9)
    assert 0 < share < 100


def test_both_label_filter_syntaxes_agree(served: Served) -> None:
    shorthand = served.structured("get_allocation_costs", {"window": "yesterday", "filter": "label:app:storefront"})
    v2 = served.structured("get_allocation_costs", {"window": "yesterday", "filter": 'label[app]:"storefront"'})
    assert shorthand["sets"] == v2["sets"]


def test_a_daily_step_returns_every_day(served: Served) -> None:
    # Three whole closed days: today's set is empty until its first hour is ingested, and empty sets are dropped.
    params = {"window": "3d offset 1d", "aggregate": "namespace", "step": "1d"}
    answer = served.structured("get_allocation_costs", params)
    api = served.api("/allocation", params)
    assert len(answer["sets"]) == len(api) == 3
    for mine, theirs in zip(answer["sets"], api, strict=True):
        assert {n: row["totalCost"] for n, row in mine["allocations"].items()} == {
            n: row["totalCost"] for n, row in theirs.items()
        }
    starts = [s["window"]["start"] for s in answer["sets"]]
    ends = [s["window"]["end"] for s in answer["sets"]]
    assert starts[1:] == ends[:-1] and starts[0] == answer["window"]["start"] and ends[-1] == answer["window"]["end"]
    assert "3 set(s)" in served.call("get_allocation_costs", params).content[0].text  # type: ignore[union-attr]

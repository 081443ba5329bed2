"""What each identity is offered, what the server says it is, and what the tool descriptions say they accept."""

from __future__ import annotations

from importlib.metadata import version

import pytest

import kubetally
from kubetally.domain.aggregation import SIMPLE_KEYS
from kubetally.domain.filter_ast import ASSET_FIELDS
from kubetally.domain.names import DEFAULT_LABEL_ALIASES
from tests.mcp.conftest import ADMIN, CURRENCY, EU, EU_CLUSTER, SHOP, Served
from tests.mcp.test_seed_questions import TOOLS
from tests.mcp.test_text_answers import tables

OFFERED = {
    "admin": TOOLS,
    "cluster-scoped": TOOLS - {"get_cloud_costs"},
    "namespace-scoped": {"get_allocation_costs", "get_efficiency", "list_aggregation_values"},
}
"""The tools each identity may use (docs/mcp.md, "Scopes"): bills are account-wide, assets and idle per cluster."""
HEADERS = {"admin": ADMIN, "cluster-scoped": EU, "namespace-scoped": SHOP}


def test_server_info_names_kubetally_s_version_not_the_sdk_s(served: Served) -> None:
    info = served.initialize().serverInfo
    assert info.name == "kubetally"
    assert info.version == kubetally.__version__ != version("mcp")


@pytest.mark.parametrize("identity", list(OFFERED))
def test_each_identity_is_offered_only_the_tools_it_may_use(served: Served, identity: str) -> None:
    headers = HEADERS[identity]
    assert {tool.name for tool in served.list_tools(headers).tools} == OFFERED[identity]
    if identity == "admin":
        return
    for tool in sorted(TOOLS):
        result = served.call(tool, {"window": "yesterday"}, headers)
        assert result.isError is (tool not in OFFERED[identity]), (tool, result.content)


def test_a_cluster_scoped_identity_gets_the_idle_of_its_own_cluster(served: Served) -> None:
    mine = served.structured("get_idle_costs", {"window": "7d"}, EU)
    everyone = served.structured("get_idle_costs", {"window": "7d"})
    assert [row["name"] for row in mine["breakdown"]] == [EU_CLUSTER]
    eu = next(row for row in everyone["breakdown"] if row["name"] == EU_CLUSTER)
    assert mine["overall"] == {**eu, "name": mine["overall"]["name"]}
    fee = served.api("/assets", {"window": "7d", "filter": f'type:"ClusterManagement"+cluster:"{EU_CLUSTER}"'})
    assert mine["cluster_management_cost"] == pytest.approx(sum(a["totalCost"] for a in fee.values()), abs=1e-4)
    text = served.text("get_idle_costs", {"window": "7d"}, EU)
    (table,) = tables(text)
    assert [row["part"] for row in table if row["part"].startswith("cluster ")] == [f"cluster {EU_CLUSTER}"]
    assert f"{eu['idle_cost']:.2f} {CURRENCY}" in text


def _description(served: Served, tool: str, argument: str) -> str:
    (found,) = [t for t in served.list_tools().tools if t.name == tool]
    text: str = found.inputSchema["properties"][argument]["description"]
    return text


@pytest.mark.parametrize("tool", ["get_allocation_costs", "get_efficiency"])
def test_aggregate_descriptions_list_every_accepted_key(served: Served, tool: str) -> None:
    text = _description(served, tool, "aggregate")
    assert "cronjob" in text
    for key in [*(k.name for k in SIMPLE_KEYS.values()), *DEFAULT_LABEL_ALIASES, "label:<key>", "annotation:<key>"]:
        assert key in text, key


def test_asset_filter_description_lists_every_asset_field(served: Served) -> None:
    text = _description(served, "get_asset_costs", "filter")
    for field in ASSET_FIELDS.fields:
        assert field.name in text, field.name
    assert "Disk" in _description(served, "get_asset_costs", "type")

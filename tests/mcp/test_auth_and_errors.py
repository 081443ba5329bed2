"""Authentication, tenant scopes and argument errors of the MCP tools over Streamable HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from mcp.types import TextContent

from tests.mcp.conftest import SHOP, SHOP_NAMESPACES, USER, Served, basic_header

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def _text(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.parametrize(
    "headers",
    [{}, basic_header(USER, "wrong password"), basic_header("nobody", "x"), {"Authorization": "Bearer nope"}],
    ids=["none", "wrong-password", "unknown-user", "wrong-token"],
)
def test_requests_without_valid_credentials_are_refused(served: Served, headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{served.url}/mcp",
        json=INITIALIZE,
        headers={**headers, "Accept": "application/json, text/event-stream"},
        timeout=10,
    )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "wrong password" not in response.text
    body = response.json()
    assert body["code"] == 401 and body["status"] == "error"
    assert body["error"]["code"] == "unauthorized" and body["error"]["message"] == body["message"]


def test_the_sdk_client_cannot_open_a_session_with_wrong_credentials(served: Served) -> None:
    with pytest.raises(BaseException) as caught:
        served.list_tools(basic_header(USER, "wrong password"))
    assert "401" in repr(caught.value) or "Unauthorized" in repr(caught.value)


def test_a_namespace_scoped_token_sees_only_its_namespaces(served: Served) -> None:
    answer = served.structured("get_allocation_costs", {"window": "7d", "aggregate": "namespace"}, SHOP)
    names = set(answer["sets"][0]["allocations"])
    assert names and names <= set(SHOP_NAMESPACES)
    unscoped = served.structured("get_allocation_costs", {"window": "7d", "aggregate": "namespace"})
    assert set(unscoped["sets"][0]["allocations"]) - set(SHOP_NAMESPACES)
    values = served.structured("list_aggregation_values", {"window": "7d"}, SHOP)
    assert set(values["namespaces"]) <= set(SHOP_NAMESPACES)
    api = served.api("/allocation", {"window": "7d", "aggregate": "namespace"}, SHOP)[0]
    assert {n: r["totalCost"] for n, r in answer["sets"][0]["allocations"].items()} == {
        n: r["totalCost"] for n, r in api.items()
    }


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("get_idle_costs", {"window": "7d"}),
        ("get_asset_costs", {"window": "7d"}),
        ("get_cloud_costs", {"window": "7d"}),
        ("get_allocation_costs", {"window": "7d", "share_namespaces": "kube-system"}),
    ],
)
def test_cluster_wide_figures_are_refused_to_a_scoped_token(
    served: Served, tool: str, arguments: dict[str, Any]
) -> None:
    result = served.call(tool, arguments, SHOP)
    assert result.isError
    assert "scoped" in _text(result)


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("get_allocation_costs", {"window": "bogus"}, ["window", "yesterday", "7d"]),
        ("get_allocation_costs", {"window": "7d", "aggregate": "colour"}, ["aggregate", "namespace"]),
        ("get_allocation_costs", {"window": "7d", "step": "fortnight"}, ["step", "1d"]),
        ("get_allocation_costs", {"window": "7d", "filter": 'colour:"red"'}, ["filter", "namespace"]),
        ("get_allocation_costs", {"window": "7d", "idle": "maybe"}, ["idle", "separate", "hide", "share"]),
        ("get_asset_costs", {"window": "7d", "type": "Volume"}, ["type", "Disk", "Node"]),
        ("get_cloud_costs", {"window": "7d", "filter": 'colour:"red"'}, ["filter", "service", "provider"]),
        ("get_cloud_costs", {"window": "7d", "aggregate": "colour"}, ["aggregate", "service"]),
        ("get_efficiency", {"window": "7d", "headroom": -1}, ["headroom"]),
        ("get_idle_costs", {"window": "7d", "by": "pod"}, ["by", "cluster", "node"]),
        ("get_allocation_costs", {}, ["window: missing (required)", "yesterday"]),
        ("get_allocation_costs", {"window": 7}, ["window: ", "string", "yesterday"]),
        ("get_allocation_costs", {"window": "7d", "share_cost": "lots"}, ["share_cost: ", "number", "currency"]),
        ("get_efficiency", {"window": "7d", "headroom": 20}, ["headroom: ", "10", "usage"]),
    ],
)
def test_bad_arguments_are_tool_errors_naming_the_allowed_values(
    served: Served, tool: str, arguments: dict[str, Any], expected: list[str]
) -> None:
    result = served.call(tool, arguments)
    assert result.isError
    text = _text(result)
    for word in expected:
        assert word in text
    assert "Traceback" not in text and 'File "' not in text
    # Neither Pydantic's wording and links nor the SDK's wrapper reach the model.
    for noise in ("pydantic", "http", "validation error", "Arguments", "[type=", "Error executing tool"):
        assert noise not in text, text


def test_http_requests_add_no_sdk_line_to_the_server_log(served: Served) -> None:
    served.call("get_allocation_costs", {"window": "yesterday"})
    log = served.ledger.with_name("serve.log").read_text()
    assert '"POST /mcp HTTP/1.1" 200' in log
    assert "Processing request" not in log and "Terminating session" not in log

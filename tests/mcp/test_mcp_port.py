"""``kubetally serve --mcp-port``: MCP also on its own port, which answers nothing but ``/mcp``."""

from __future__ import annotations

import httpx

from tests.mcp.conftest import ADMIN, Served


def test_the_mcp_port_serves_the_same_tools(served: Served) -> None:
    on_main = {tool.name for tool in served.list_tools().tools}
    on_own_port = {tool.name for tool in served.list_tools(base=served.mcp_port_url).tools}
    assert on_own_port == on_main
    assert "get_allocation_costs" in on_own_port


def test_the_mcp_port_answers_only_mcp(served: Served) -> None:
    response = httpx.get(f"{served.mcp_port_url}/allocation", params={"window": "1d"}, headers=ADMIN, timeout=10)
    assert response.status_code == 404
    assert response.json()["status"] == "error"
    assert "/mcp" in response.json()["message"]
    assert httpx.get(f"{served.url}/allocation", params={"window": "1d"}, headers=ADMIN, timeout=10).status_code == 200


def test_the_mcp_port_keeps_authentication(served: Served) -> None:
    response = httpx.post(f"{served.mcp_port_url}/mcp", json={}, timeout=10)
    assert response.status_code == 401

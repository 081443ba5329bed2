"""``kubetally mcp --db PATH``: the same tools over stdio, with the SDK's stdio client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.mcp.conftest import Served
from tests.runner import KUBETALLY


async def _session(db: Path) -> tuple[set[str], dict[str, Any]]:
    parameters = StdioServerParameters(command=str(KUBETALLY), args=["mcp", "--db", str(db)])
    with anyio.fail_after(30):
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            result = await session.call_tool("get_allocation_costs", {"window": "yesterday", "aggregate": "namespace"})
            assert not result.isError, result.content
            assert result.structuredContent is not None
            return tools, result.structuredContent


def test_stdio_serves_the_same_tools_and_numbers(served: Served) -> None:
    tools, answer = anyio.run(_session, served.ledger)
    assert {"get_allocation_costs", "get_idle_costs", "list_aggregation_values"} <= tools
    api = served.api("/allocation", {"window": "yesterday", "aggregate": "namespace"})[0]
    assert {n: r["totalCost"] for n, r in answer["sets"][0]["allocations"].items()} == {
        n: r["totalCost"] for n, r in api.items()
    }

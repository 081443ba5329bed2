"""``kubetally mcp --db PATH``: the same tools over stdio, with the SDK's stdio client."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.mcp.conftest import Served
from tests.runner import KUBETALLY


async def _session(db: Path, errlog: TextIO) -> tuple[set[str], dict[str, Any]]:
    parameters = StdioServerParameters(command=str(KUBETALLY), args=["mcp", "--db", str(db)])
    with anyio.fail_after(30):
        async with stdio_client(parameters, errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            result = await session.call_tool("get_allocation_costs", {"window": "yesterday", "aggregate": "namespace"})
            assert not result.isError, result.content
            assert result.structuredContent is not None
            refused = await session.call_tool("get_idle_costs", {"window": "bogus"})
            assert refused.isError
            return tools, result.structuredContent


def test_stdio_serves_the_same_tools_and_numbers(served: Served, tmp_path: Path) -> None:
    with (tmp_path / "stderr.txt").open("w") as errlog:
        tools, answer = anyio.run(_session, served.ledger, errlog)
    # Clients such as Cline show every stderr line as a server error: requests (even refused ones) write none.
    assert (tmp_path / "stderr.txt").read_text() == ""
    assert {"get_allocation_costs", "get_idle_costs", "list_aggregation_values"} <= tools
    api = served.api("/allocation", {"window": "yesterday", "aggregate": "namespace"})[0]
    assert {n: r["totalCost"] for n, r in answer["sets"][0]["allocations"].items()} == {
        n: r["totalCost"] for n, r in api.items()
    }

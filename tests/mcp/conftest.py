"""Fixtures of the MCP tests: a demo ledger, a real ``kubetally serve`` with authentication on, and MCP clients."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, InitializeResult, ListToolsResult, TextContent

from kubetally.api.auth import hash_password, token_digest
from tests.runner import demo_ledger_at, free_port, serving

USER, PASSWORD = "finops", "correct horse battery"
SHOP_TOKEN = "kt-test-token-checkout-0123456789abcdef"
SHOP_NAMESPACES = ("checkout", "payments")
EU_TOKEN = "kt-test-token-cluster-eu-0123456789abcdef"
EU_CLUSTER = "prod-eu"


def basic_header(user: str, password: str) -> dict[str, str]:
    """The header the README tells Cline users to configure."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


ADMIN = basic_header(USER, PASSWORD)
SHOP = {"Authorization": f"Bearer {SHOP_TOKEN}"}
EU = {"Authorization": f"Bearer {EU_TOKEN}"}
"""A token scoped to the cluster prod-eu."""
CURRENCY = "EUR"
"""The served price book's ``currencyCode`` (not the default USD, so that a tool naming it read it)."""


@dataclass(frozen=True)
class Served:
    """A running ``kubetally serve``: its base URL and the ledger it serves."""

    url: str
    ledger: Path
    mcp_port_url: str
    """The base URL of the separate MCP port (``--mcp-port``), which answers only ``/mcp``."""

    def api(self, path: str, params: dict[str, str], headers: dict[str, str] = ADMIN) -> Any:
        """The ``data`` of an API answer: a list of sets, or one set (``/assets``)."""
        response = httpx.get(f"{self.url}{path}", params=params, headers=headers, timeout=30)
        response.raise_for_status()
        return response.json()["data"]

    def list_tools(self, headers: dict[str, str] = ADMIN, *, base: str | None = None) -> ListToolsResult:
        async def run(session: ClientSession) -> ListToolsResult:
            return await session.list_tools()

        return anyio.run(_over_http, f"{base or self.url}/mcp", headers, run)

    def initialize(self, headers: dict[str, str] = ADMIN) -> InitializeResult:
        """The server's answer to the SDK client's ``initialize``."""
        result: InitializeResult = anyio.run(_initialized, f"{self.url}/mcp", headers)
        return result

    def call(self, tool: str, arguments: dict[str, Any], headers: dict[str, str] = ADMIN) -> CallToolResult:
        """One tool call over Streamable HTTP with the official client."""

        async def run(session: ClientSession) -> CallToolResult:
            return await session.call_tool(tool, arguments)

        return anyio.run(_over_http, f"{self.url}/mcp", headers, run)

    def text(self, tool: str, arguments: dict[str, Any], headers: dict[str, str] = ADMIN) -> str:
        """The only text block of a successful tool call: all a client like Cline passes to its model."""
        result = self.call(tool, arguments, headers)
        assert not result.isError, result.content
        assert len(result.content) == 1 and isinstance(result.content[0], TextContent)
        return result.content[0].text

    def structured(self, tool: str, arguments: dict[str, Any], headers: dict[str, str] = ADMIN) -> dict[str, Any]:
        """The structured output of a successful tool call."""
        result = self.call(tool, arguments, headers)
        assert not result.isError, result.content
        assert result.structuredContent is not None
        return result.structuredContent


async def _initialized(url: str, headers: dict[str, str]) -> InitializeResult:
    with anyio.fail_after(30):
        async with (
            httpx.AsyncClient(headers=headers, timeout=30) as client,
            streamable_http_client(url, http_client=client) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            return await session.initialize()


async def _over_http(url: str, headers: dict[str, str], run: Any) -> Any:
    with anyio.fail_after(30):
        async with (
            httpx.AsyncClient(headers=headers, timeout=30) as client,
            streamable_http_client(url, http_client=client) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await run(session)


@pytest.fixture(scope="session")
def demo_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``demo`` scenario costed into a ledger, once per session."""
    return demo_ledger_at(tmp_path_factory.mktemp("mcp") / "demo.duckdb")


@pytest.fixture(scope="session")
def served(demo_ledger: Path) -> Iterator[Served]:
    """``kubetally serve`` on the demo ledger with ``auth: on``: a Basic user and a namespace-scoped token."""
    config = demo_ledger.with_name("auth.yaml")
    pricing = demo_ledger.with_name("pricing.json")
    pricing.write_text(json.dumps({"currencyCode": CURRENCY}))
    settings = {
        "pricing": str(pricing),
        "auth": "on",
        "users": [{"name": USER, "password_hash": hash_password(PASSWORD, n=2**10)}],
        "tokens": [
            {"name": "shop", "token_sha256": token_digest(SHOP_TOKEN), "namespaces": list(SHOP_NAMESPACES)},
            {"name": "eu", "token_sha256": token_digest(EU_TOKEN), "clusters": [EU_CLUSTER]},
        ],
    }
    config.write_text(yaml.safe_dump(settings))
    mcp_port = free_port()
    args = ["--db", str(demo_ledger), "--config", str(config), "--mcp-port", str(mcp_port)]
    with serving(args, demo_ledger.with_name("serve.log")) as url:
        yield Served(url, demo_ledger, f"http://127.0.0.1:{mcp_port}")

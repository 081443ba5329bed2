"""kubetally's MCP server: cost tools for AI clients over Streamable HTTP (``/mcp`` of ``kubetally serve``, with
the API's authentication) and stdio (``kubetally mcp``). See docs/mcp.md."""

from kubetally.mcp.context import Backend, Caller, LocalCaller
from kubetally.mcp.http import McpHttpApp
from kubetally.mcp.server import build_server
from kubetally.mcp.stdio import serve_stdio

__all__ = ["Backend", "Caller", "LocalCaller", "McpHttpApp", "build_server", "serve_stdio"]

"""``kubetally mcp``: the MCP cost tools over stdio, for a local AI client."""

from __future__ import annotations

from kubetally.cli.options import Db
from kubetally.mcp import serve_stdio


def mcp_command(db: Db) -> None:
    """Serve the MCP cost tools on stdin/stdout from the ledger (read-only, no authentication: local use).

    Configure it in a local client as the command `kubetally mcp --db costs.duckdb`; `kubetally serve` serves
    the same tools over HTTP at /mcp, with authentication.
    """
    serve_stdio(db)

"""The MCP server over stdio for a local client: the ledger opened read-only, no authentication."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from kubetally.ledger import Ledger
from kubetally.mcp.context import Backend, LocalCaller
from kubetally.mcp.server import build_server
from kubetally.query.cache import QueryCache

LOCAL = LocalCaller()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def serve_stdio(ledger_path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
    """Answer MCP requests on stdin/stdout from the ledger at ``ledger_path`` until stdin closes.

    LedgerError when the ledger cannot be opened (before anything is read from stdin).
    """
    with Ledger.open(ledger_path, read_only=True) as ledger:
        backend = Backend(reader=lambda: ledger, clock=clock, cache=QueryCache(max_entries=64))
        # stderr only for warnings: clients such as Cline show every stderr line as a server error.
        build_server(backend, lambda _ctx: LOCAL, log_level="WARNING").run("stdio")


__all__ = ["serve_stdio"]

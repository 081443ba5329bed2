"""The MCP server over Streamable HTTP (stateless, JSON responses), behind the API's authentication.

:class:`McpHttpApp` is a plain ASGI app the API mounts at ``/mcp``. Every request is authenticated first (with
the callback the API passes: its Authenticator); a request without valid credentials gets a 401 with the
``WWW-Authenticate`` challenge and the API's error body (``{"code", "status", "message", "error": {"code",
"message"}}``) and never reaches the MCP server. The caller is stored in the ASGI scope, where
each tool call reads it from its request context to narrow its query to the caller's scope.

The SDK's session manager lives as long as the app's lifespan: :meth:`McpHttpApp.running` is entered there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from mcp.server.fastmcp import Context
from mcp.server.fastmcp.exceptions import ToolError
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from kubetally.errors import Unauthorized
from kubetally.mcp.context import Backend, Caller, LocalCaller
from kubetally.mcp.server import build_server

LOG = logging.getLogger("kubetally.mcp")

CALLER_KEY = "kubetally.caller"
"""The ASGI scope key holding the authenticated caller of an MCP request."""

ANONYMOUS = LocalCaller("anonymous")
"""The caller of every request when authentication is off: unrestricted."""

Authenticate = Callable[[str | None], Caller]
"""The caller of an ``Authorization`` header value; raises Unauthorized when missing or wrong."""


def caller_of_request(ctx: Context[Any, Any, Any]) -> Caller:
    """The caller :class:`McpHttpApp` stored for the HTTP request of a tool call."""
    request = ctx.request_context.request
    scope: Scope | None = getattr(request, "scope", None)
    caller = None if scope is None else scope.get(CALLER_KEY)
    if caller is None:
        raise ToolError("unauthorized: the request carries no authenticated identity")
    found: Caller = caller
    return found


class McpHttpApp:
    """ASGI app serving the MCP tools over Streamable HTTP to authenticated callers."""

    def __init__(self, backend: Backend, authenticate: Authenticate | None, challenge: str) -> None:
        self.server = build_server(backend, caller_of_request)
        self._authenticate = authenticate
        self._challenge = challenge
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run the SDK's session manager (a fresh one per lifespan) while the context is open."""
        manager = StreamableHTTPSessionManager(app=self.server._mcp_server, json_response=True, stateless=True)
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        manager = self._manager
        if scope["type"] != "http" or manager is None:
            message = "the MCP server is not running"
            detail = {"code": "unavailable", "message": message}
            response = JSONResponse({"code": 503, "status": "error", "message": message, "error": detail}, 503)
            await response(scope, receive, send)
            return
        caller: Caller = ANONYMOUS
        if self._authenticate is not None:
            header = Headers(scope=scope).get("authorization")
            try:
                caller = await anyio.to_thread.run_sync(self._authenticate, header)
            except Unauthorized as exc:
                LOG.info("rejected MCP request: %s", exc.message)
                detail = {"code": exc.code, "message": exc.message}
                body = {"code": exc.status, "status": "error", "message": exc.message, "error": detail}
                denied = JSONResponse(body, exc.status, headers={"WWW-Authenticate": self._challenge})
                await denied(scope, receive, send)
                return
        await manager.handle_request({**scope, CALLER_KEY: caller}, receive, send)


__all__ = ["ANONYMOUS", "CALLER_KEY", "Authenticate", "McpHttpApp", "caller_of_request"]

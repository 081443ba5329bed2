"""Who may address the server: the ``Host`` header of every request and the ``Origin`` of every ``/mcp`` request.

A page on any site can make a browser send requests to ``127.0.0.1`` under a name it controls (DNS rebinding):
the request then carries that name as ``Host`` and as ``Origin``. :class:`HostCheck` answers 403 to a request
whose ``Host`` is not the bind address, a configured name (setting ``allowed_hosts``) or, when bound to
loopback, a loopback name; and to an ``/mcp`` request (or a sign-in or sign-out at ``/session``) whose
``Origin`` names any other host and is not a configured CORS origin (the MCP specification requires servers
to validate ``Origin``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from kubetally.api.envelope import failure

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "localhost.localdomain"})
WILDCARDS = frozenset({"0.0.0.0", "::", ""})


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address) is a loopback address."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hostname(value: str) -> str:
    """The host of a ``Host`` header value (``name:port``, ``[v6]:port``), lower case, without the port."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class HostCheck:
    """ASGI middleware refusing requests addressed to names the server was not configured to answer."""

    def __init__(
        self, app: ASGIApp, bind_host: str, allowed_hosts: Iterable[str] = (), cors_origins: Iterable[str] = ()
    ) -> None:
        self.app = app
        bind = bind_host.strip().strip("[]").lower()
        self.allowed = {name.strip().lower() for name in allowed_hosts if name.strip()}
        self.any_host = "*" in self.allowed or (bind in WILDCARDS and not self.allowed)
        self.allowed.add(bind)
        if is_loopback(bind):
            self.allowed |= LOOPBACK_NAMES
        self.origins = {origin.strip().rstrip("/").lower() for origin in cors_origins}

    def host_allowed(self, host: str) -> bool:
        name = _hostname(host)
        return self.any_host or name in self.allowed

    def origin_allowed(self, origin: str) -> bool:
        if origin.strip().rstrip("/").lower() in self.origins:
            return True
        host = urlsplit(origin.strip()).hostname
        return host is not None and _hostname(host) in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        host = headers.get("host", "")
        if not self.host_allowed(host):
            message = f"Host {host!r} is not served here; add it to the setting allowed_hosts"
            await failure(403, "forbidden", message)(scope, receive, send)
            return
        origin = headers.get("origin")
        path = scope["path"]
        if _origin_checked(path, scope["method"]) and origin is not None and not self.origin_allowed(origin):
            message = f"Origin {origin!r} may not call {path}; add it to the setting cors_origins"
            await failure(403, "forbidden", message)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _origin_checked(path: str, method: str) -> bool:
    """Whether a request's ``Origin`` is checked: every ``/mcp`` request, and signing in or out (login CSRF)."""
    return path.startswith("/mcp") or (path == "/session" and method not in ("GET", "HEAD", "OPTIONS"))


__all__ = ["LOOPBACK_NAMES", "HostCheck", "is_loopback"]

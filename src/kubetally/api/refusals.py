"""Repeated refusals answered from memory: a GET that was just refused with a 400 is refused again, for a few
seconds, without reaching the routes.

A tenant (or a broken client) that repeats a request the server refuses makes it pay for the refusal each time:
routing, authentication, decoding the parameters and, for a query asking for too many rows, decoding every set
and reading the window's version before the cached refusal is found (docs/benchmarks.md, "with a hostile tenant").
:class:`RefusalMemo` keeps the last 400 answers for ``ttl_seconds``, keyed by the method, path and query string
and by the request's credentials (``Authorization`` and ``Cookie``: identities with different scopes may be
answered differently), and sends the same answer again when the same request comes back within that time.

Only 400s of GET and HEAD requests outside ``/mcp`` are kept: a 400 says the request itself is wrong (a bad
parameter, a window or a query too large), which stays true for the same request and credentials over a few
seconds; 401, 403, 429 and 5xx are never kept. The answer of a query too large for the ledger's rows could change
when the ledger does, hence the short lifetime. It runs inside the ``Host`` check, so a request refused for its
``Host`` never reaches it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_TTL_SECONDS = 10.0
"""How long a refusal is answered from memory, by default."""
MAX_ENTRIES = 1024
"""The most refusals kept (the oldest go first)."""
MAX_BODY_BYTES = 4096
"""Refusals with a longer body are not kept."""


@dataclass(frozen=True)
class _Refusal:
    start: Message
    body: bytes
    expires: float


class RefusalMemo:
    """ASGI middleware answering a GET refused with a 400 in the last ``ttl_seconds`` with the same 400."""

    def __init__(
        self,
        app: ASGIApp,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._refusals: OrderedDict[bytes, _Refusal] = OrderedDict()
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _kept(scope) or self.ttl_seconds <= 0:
            await self.app(scope, receive, send)
            return
        key = _key(scope)
        refusal = self._lookup(key)
        if refusal is not None:
            await send(refusal.start)
            await send({"type": "http.response.body", "body": refusal.body})
            return
        await self.app(scope, receive, self._recording(key, send))

    def _lookup(self, key: bytes) -> _Refusal | None:
        now = self.clock()
        with self._lock:
            refusal = self._refusals.get(key)
            if refusal is None:
                return None
            if refusal.expires <= now:
                del self._refusals[key]
                return None
            return refusal

    def _recording(self, key: bytes, send: Send) -> Send:
        """``send``, keeping a 400 answered in one body message."""
        started: list[Message] = []

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 400:
                started.append(message)
            elif message["type"] == "http.response.body" and started and not message.get("more_body", False):
                body = bytes(message.get("body", b""))
                if len(body) <= MAX_BODY_BYTES:
                    self._store(key, _Refusal(started[0], body, self.clock() + self.ttl_seconds))
            await send(message)

        return recording

    def _store(self, key: bytes, refusal: _Refusal) -> None:
        with self._lock:
            self._refusals[key] = refusal
            self._refusals.move_to_end(key)
            while len(self._refusals) > self.max_entries:
                self._refusals.popitem(last=False)


def _kept(scope: Scope) -> bool:
    """Whether refusals of this request may be kept: GET or HEAD, and not MCP (whose answers depend on its session
    header)."""
    return scope["type"] == "http" and scope["method"] in ("GET", "HEAD") and not scope["path"].startswith("/mcp")


def _key(scope: Scope) -> bytes:
    """A digest of the request's method, path, query string and credentials (kept as a digest only)."""
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope.get("raw_path") or scope["path"].encode(), scope["query_string"]):
        digest.update(part + b"\0")
    for name, value in scope["headers"]:
        if name in (b"authorization", b"cookie"):
            digest.update(name + b"=" + value + b"\0")
    return digest.digest()


__all__ = ["DEFAULT_TTL_SECONDS", "RefusalMemo"]

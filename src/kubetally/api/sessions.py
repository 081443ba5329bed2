"""Sessions: short-lived opaque tokens that the UI keeps instead of the user's credentials.

``POST /session`` (:mod:`kubetally.api.session_routes`) checks Basic credentials or an API token once and issues
a random 256-bit token that expires ``session_minutes`` after it was issued (no sliding renewal: a stolen token
is good for that long at most). The browser holds it in an ``HttpOnly; SameSite=Strict`` cookie, out of reach
of scripts and never sent by other sites; API clients may send it as a bearer token. Only its SHA-256 digest is
kept, in memory: a restart signs everyone out. Signing out revokes it.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

DEFAULT_SESSION_MINUTES = 30.0
SESSION_COOKIE = "kubetally_session"
"""The cookie the UI's session token travels in."""
_MAX_SESSIONS = 10_000
"""Sessions kept at once; issuing more forgets the oldest (a login flood cannot grow memory)."""

IdentityT = TypeVar("IdentityT")


@dataclass(frozen=True)
class Session(Generic[IdentityT]):
    """Who a session token signs in, and when it stops working (seconds since the epoch)."""

    identity: IdentityT
    expires_at: float


class SessionStore(Generic[IdentityT]):
    """Issued session tokens (by digest) and their identities, each valid for ``ttl_seconds``."""

    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._sessions: dict[bytes, Session[IdentityT]] = {}
        self._lock = threading.Lock()

    def issue(self, identity: IdentityT) -> tuple[str, Session[IdentityT]]:
        """A new random token for ``identity`` and its session."""
        token = secrets.token_urlsafe(32)
        session = Session(identity, self._clock() + self.ttl_seconds)
        with self._lock:
            self._forget_expired()
            while len(self._sessions) >= _MAX_SESSIONS:
                self._sessions.pop(next(iter(self._sessions)))
            self._sessions[_digest(token)] = session
        return token, session

    def lookup(self, token: str) -> Session[IdentityT] | None:
        """The live session of ``token``; ``None`` when unknown, revoked or expired."""
        key = _digest(token)
        with self._lock:
            session = self._sessions.get(key)
            if session is not None and session.expires_at <= self._clock():
                del self._sessions[key]
                return None
        return session

    def revoke(self, token: str) -> bool:
        """End the session of ``token``; whether there was one."""
        with self._lock:
            return self._sessions.pop(_digest(token), None) is not None

    def _forget_expired(self) -> None:
        now = self._clock()
        for key in [key for key, session in self._sessions.items() if session.expires_at <= now]:
            del self._sessions[key]


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


__all__ = ["DEFAULT_SESSION_MINUTES", "SESSION_COOKIE", "Session", "SessionStore"]

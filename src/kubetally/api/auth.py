"""Authentication of the HTTP API: HTTP Basic users with scrypt-hashed passwords and bearer API tokens.

Identities come from the settings (:class:`~kubetally.settings.UserSetting`, :class:`~kubetally.settings.TokenSetting`);
each may be scoped to clusters and namespaces (:class:`~kubetally.query.scope.Scope`). Secrets are compared in
constant time and never logged or echoed: a failure says what kind of credential was wrong, never its value.

Passwords are stored as ``scrypt$<n>$<r>$<p>$<salt b64>$<hash b64>`` (:func:`hash_password`); a successful
check is remembered under a keyed digest of the credentials, so that a client sending the same credentials on
every request pays for scrypt once. Tokens are long random strings, so their SHA-256 digest is enough.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from fastapi import Request
from fastapi.responses import Response

from kubetally.api.errors import kubetally_error
from kubetally.api.sessions import DEFAULT_SESSION_MINUTES, SESSION_COOKIE, SessionStore
from kubetally.api.throttle import LoginThrottle
from kubetally.errors import Forbidden, InvalidInput, TooManyRequests, Unauthorized
from kubetally.query.scope import UNRESTRICTED, Scope
from kubetally.settings import ScopedIdentity, Settings

LOG = logging.getLogger("kubetally.api.auth")

SCRYPT_N = 2**14
"""scrypt's CPU/memory cost for new hashes (16 MiB of memory with r=8)."""
SCRYPT_R = 8
SCRYPT_P = 1
_MAX_SCRYPT_MEMORY = 256 * 1024 * 1024
_REMEMBERED = 1024
"""Successful Basic credentials remembered (as keyed digests) to skip scrypt on repeated requests."""

CHALLENGE = 'Basic realm="kubetally", Bearer realm="kubetally"'
"""The ``WWW-Authenticate`` header of every 401."""
UI_CHALLENGE = 'Bearer realm="kubetally"'
"""The challenge of a 401 to the UI's own calls (``X-Requested-With: kubetally-ui``): no Basic, so that the
browser does not open its password prompt and remember the password."""


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    """``password`` hashed with scrypt and a random 16-byte salt, as ``scrypt$n$r$p$salt$hash`` (base64 parts)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=_MAX_SCRYPT_MEMORY, dklen=32)
    return "$".join(["scrypt", str(n), str(r), str(p), _b64(salt), _b64(digest)])


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class PasswordHash:
    """A decoded ``scrypt$n$r$p$salt$hash``."""

    n: int
    r: int
    p: int
    salt: bytes
    digest: bytes

    @staticmethod
    def parse(encoded: str, owner: str) -> PasswordHash:
        """Decode ``encoded``; InvalidInput naming ``owner`` (never the hash) when it is not a scrypt hash."""
        parts = encoded.split("$")
        try:
            if len(parts) != 6 or parts[0] != "scrypt":
                raise ValueError("not scrypt$n$r$p$salt$hash")
            n, r, p = (int(part) for part in parts[1:4])
            salt, digest = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5], validate=True)
            if n < 2 or n & (n - 1) or r < 1 or p < 1 or not salt or not digest:
                raise ValueError("bad parameters")
        except (ValueError, binascii.Error):
            raise InvalidInput(
                f"users: the password_hash of {owner!r} is not scrypt$<n>$<r>$<p>$<salt>$<hash> "
                "(make one with `kubetally hash-password`)"
            ) from None
        return PasswordHash(n, r, p, salt, digest)

    def matches(self, password: str) -> bool:
        """Whether ``password`` hashes to this digest (constant-time comparison)."""
        computed = hashlib.scrypt(
            password.encode(),
            salt=self.salt,
            n=self.n,
            r=self.r,
            p=self.p,
            maxmem=_MAX_SCRYPT_MEMORY,
            dklen=len(self.digest),
        )
        return hmac.compare_digest(computed, self.digest)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest a token is stored as (``tokens[].token_sha256``)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Identity:
    """Who a request is: a user or token name, and what it may see."""

    name: str
    scope: Scope = UNRESTRICTED


ANONYMOUS = Identity("anonymous")
"""The identity of every request when authentication is off: unrestricted."""


def _scope(setting: ScopedIdentity) -> Scope:
    clusters = None if setting.clusters is None else frozenset(setting.clusters)
    namespaces = None if setting.namespaces is None else frozenset(setting.namespaces)
    return Scope(clusters, namespaces)


class Authenticator:
    """Checks the ``Authorization`` header of a request against the configured users and tokens."""

    def __init__(
        self,
        users: Iterable[tuple[Identity, PasswordHash]] = (),
        tokens: Iterable[tuple[Identity, str]] = (),
        session_minutes: float = DEFAULT_SESSION_MINUTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._users: dict[str, tuple[Identity, PasswordHash]] = {}
        for identity, password in users:
            if identity.name in self._users:
                raise InvalidInput(f"users: {identity.name!r} is configured twice")
            self._users[identity.name] = (identity, password)
        self._tokens = [(identity, bytes.fromhex(digest)) for identity, digest in tokens]
        self._dummy = PasswordHash.parse(hash_password(secrets.token_hex(16)), "dummy")
        self._key = secrets.token_bytes(32)
        self._remembered: dict[bytes, Identity] = {}
        self._lock = threading.Lock()
        self.throttle = LoginThrottle()
        """Failed logins per client (429 before any hashing once used up)."""
        self.sessions: SessionStore[Identity] = SessionStore(session_minutes * 60.0, clock)
        """Session tokens issued by ``POST /session`` (:mod:`kubetally.api.sessions`)."""

    @staticmethod
    def from_settings(settings: Settings, clock: Callable[[], float] = time.time) -> Authenticator:
        """The users and tokens of ``settings``; InvalidInput (naming the identity) for a malformed hash.
        ``clock`` (seconds since the epoch) times the sessions."""
        users = [
            (Identity(user.name, _scope(user)), PasswordHash.parse(user.password_hash.get_secret_value(), user.name))
            for user in settings.users
        ]
        tokens = []
        for token in settings.tokens:
            digest = token.token_sha256.get_secret_value().strip().lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise InvalidInput(f"tokens: the token_sha256 of {token.name!r} is not a SHA-256 hex digest")
            tokens.append((Identity(token.name, _scope(token)), digest))
        return Authenticator(users, tokens, settings.session_minutes, clock)

    @property
    def empty(self) -> bool:
        """Whether no identity is configured (nobody could be let in)."""
        return not self._users and not self._tokens

    def authenticate(self, authorization: str | None, client: str | None = None, *, sessions: bool = True) -> Identity:
        """The identity of an ``Authorization`` header value; Unauthorized when missing, malformed or wrong.

        With ``client`` (its address), wrong credentials are counted, and TooManyRequests is raised without
        checking anything once the client has failed too often (:class:`~kubetally.api.throttle.LoginThrottle`).
        A bearer token may be a live session token unless ``sessions`` is false.
        """
        if client is not None and authorization and authorization.strip():
            self.throttle.check(client)
            try:
                return self.authenticate(authorization, sessions=sessions)
            except Unauthorized:
                self.throttle.failed(client)
                raise
        if not authorization or not authorization.strip():
            raise Unauthorized("authentication required: send HTTP Basic credentials or a bearer token")
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and credentials.strip():
            return self._token(credentials.strip(), sessions)
        if scheme.lower() == "basic" and credentials.strip():
            return self._basic(credentials.strip())
        raise Unauthorized("authentication required: the Authorization header must be Basic or Bearer")

    def _token(self, token: str, sessions: bool) -> Identity:
        digest = hashlib.sha256(token.encode()).digest()
        found = None
        for identity, expected in self._tokens:
            if hmac.compare_digest(digest, expected):
                found = identity
        if found is None and sessions:
            session = self.sessions.lookup(token)
            found = None if session is None else session.identity
        if found is None:
            raise Unauthorized("invalid bearer token (or an expired session)")
        return found

    def session_identity(self, token: str) -> Identity:
        """The identity of a session cookie's token; Unauthorized when it expired or was signed out.

        Not throttled: a wrong cookie costs one digest, and an expired one is sent by every open page."""
        session = self.sessions.lookup(token)
        if session is None:
            raise Unauthorized("the session expired or was signed out: sign in again")
        return session.identity

    def _basic(self, credentials: str) -> Identity:
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("malformed Basic credentials: expected base64 of user:password") from None
        user, sep, password = decoded.partition(":")
        if not sep:
            raise Unauthorized("malformed Basic credentials: expected base64 of user:password")
        key = hmac.new(self._key, decoded.encode(), hashlib.sha256).digest()
        with self._lock:
            remembered = self._remembered.get(key)
        if remembered is not None:
            return remembered
        identity, stored = self._users.get(user, (None, self._dummy))
        if not stored.matches(password) or identity is None:
            raise Unauthorized("invalid user name or password")
        with self._lock:
            if len(self._remembered) >= _REMEMBERED:
                self._remembered.clear()
            self._remembered[key] = identity
        return identity


AuthMode = Literal["on", "off", "auto"]


def auth_enabled(mode: AuthMode, host: str) -> bool:
    """Whether to require credentials: ``auto`` requires them unless ``host`` is a loopback address."""
    if mode != "auto":
        return mode == "on"
    if host.strip().lower() == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return True


def identity_of(request: Request) -> Identity:
    """The request's identity (FastAPI dependency): :data:`ANONYMOUS` when auth is off, else authenticated."""
    authenticator: Authenticator | None = getattr(request.app.state.kubetally, "auth", None)
    if authenticator is None:
        return ANONYMOUS
    try:
        client = request.client.host if request.client is not None else "unknown"
        header, cookie = request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE)
        if (not header or not header.strip()) and cookie:
            identity = authenticator.session_identity(cookie)
        else:
            identity = authenticator.authenticate(header, client)
    except (Unauthorized, TooManyRequests) as exc:
        LOG.info("rejected %s %s: %s", request.method, request.url.path, exc.message)
        raise
    request.state.identity = identity
    return identity


def scope_of(request: Request) -> Scope:
    """The scope of the request's identity (unrestricted when auth is off)."""
    identity: Identity | None = getattr(request.state, "identity", None)
    return (identity or identity_of(request)).scope


def require_unscoped(request: Request) -> Identity:
    """The request's identity, which must be unscoped (``/metrics`` shows cluster-wide figures)."""
    identity = identity_of(request)
    if not identity.scope.unrestricted:
        raise Forbidden(f"{request.url.path} shows every cluster and namespace; {identity.name!r} is scoped")
    return identity


def unauthorized_error(request: Request, exc: Exception) -> Response:
    """A 401 in the error envelope, with the ``WWW-Authenticate`` challenge."""
    response = kubetally_error(request, exc)
    from_ui = request.headers.get("x-requested-with") == "kubetally-ui"
    response.headers["WWW-Authenticate"] = UI_CHALLENGE if from_ui else CHALLENGE
    return response


def throttled_error(request: Request, exc: Exception) -> Response:
    """A 429 in the error envelope, with ``Retry-After``."""
    assert isinstance(exc, TooManyRequests)
    response = kubetally_error(request, exc)
    response.headers["Retry-After"] = str(exc.retry_after_seconds)
    return response


@dataclass(frozen=True)
class ApiAccess:
    """Who may call the served API: the ``auth`` mode, the identities and the CORS origins of the settings."""

    mode: AuthMode = "auto"
    authenticator: Authenticator | None = None
    cors_origins: tuple[str, ...] = ()

    @staticmethod
    def from_settings(settings: Settings) -> ApiAccess:
        """The access settings; InvalidInput for a malformed password hash or token digest."""
        return ApiAccess(settings.auth, Authenticator.from_settings(settings), tuple(settings.cors_origins))

    def for_host(self, host: str) -> Authenticator | None:
        """The authenticator to serve ``host`` with (``None``: auth off); InvalidInput when auth is on and no
        identity is configured."""
        if not auth_enabled(self.mode, host):
            return None
        if self.authenticator is None or self.authenticator.empty:
            raise InvalidInput(
                f"authentication is on (auth: {self.mode}, host {host}) but no users or tokens are configured; "
                "add users/tokens to the config file, or set auth: off"
            )
        return self.authenticator


__all__ = [
    "ANONYMOUS",
    "CHALLENGE",
    "UI_CHALLENGE",
    "ApiAccess",
    "Authenticator",
    "Identity",
    "PasswordHash",
    "auth_enabled",
    "hash_password",
    "identity_of",
    "require_unscoped",
    "scope_of",
    "throttled_error",
    "token_digest",
    "unauthorized_error",
]

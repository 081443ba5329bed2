"""``/session``: sign in once with Basic credentials or an API token, then use a short-lived session token.

* ``POST /session`` checks the ``Authorization`` header (Basic or an API token; a session token cannot renew
  itself) and answers the new token with its expiry, also set as an ``HttpOnly; SameSite=Strict`` cookie;
* ``GET /session`` says who the presented session (cookie or bearer) signs in, and until when;
* ``DELETE /session`` signs out: the token stops working and the cookie is cleared.

With authentication off there are no sessions (404).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kubetally.api.auth import Authenticator, Identity
from kubetally.api.envelope import success
from kubetally.api.sessions import SESSION_COOKIE, Session
from kubetally.errors import NotFound, Unauthorized

router = APIRouter(tags=["Session"])


def _authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator | None = getattr(request.app.state.kubetally, "auth", None)
    if authenticator is None:
        raise NotFound("authentication is off: there are no sessions to sign in to")
    return authenticator


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.cookies.get(SESSION_COOKIE) or None


def _body(session: Session[Identity], token: str | None = None) -> dict[str, object]:
    expires = datetime.fromtimestamp(session.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body: dict[str, object] = {"name": session.identity.name, "expiresAt": expires}
    if token is not None:
        body["token"] = token
    return body


@router.post("/session")
def sign_in(request: Request) -> JSONResponse:
    """A new session for the Basic credentials or API token of the request (401 when wrong, 429 when throttled)."""
    authenticator = _authenticator(request)
    client = request.client.host if request.client is not None else "unknown"
    identity = authenticator.authenticate(request.headers.get("authorization"), client, sessions=False)
    token, session = authenticator.sessions.issue(identity)
    response = success(_body(session, token))
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max(1, math.floor(authenticator.sessions.ttl_seconds)),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/session")
def current(request: Request) -> JSONResponse:
    """Who the presented session signs in and until when; 401 without a live session."""
    authenticator = _authenticator(request)
    token = _presented(request)
    session = None if token is None else authenticator.sessions.lookup(token)
    if session is None:
        raise Unauthorized("no live session: sign in with POST /session")
    return success(_body(session))


@router.delete("/session")
def sign_out(request: Request) -> JSONResponse:
    """End the presented session (if any) and clear its cookie."""
    authenticator = _authenticator(request)
    token = _presented(request)
    ended = token is not None and authenticator.sessions.revoke(token)
    response = success({"signedOut": ended})
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


__all__ = ["router"]

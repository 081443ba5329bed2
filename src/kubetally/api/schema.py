"""What ``/openapi.json`` says about every operation: the error envelope of each refusal, and no FastAPI 422.

Every route answers its errors in OpenCost's error envelope (:mod:`kubetally.api.errors`): the statuses below are
declared on each operation with that shape, so that a client generated from the schema knows them. A missing or
malformed parameter is a 400 (never FastAPI's 422), so the 422 FastAPI adds to every operation with parameters
is removed from the schema, with its validation-error components.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    """kubetally's stable, machine-readable part of an error."""

    code: str = Field(description="A stable code: `invalid_parameter`, `invalid_window`, `forbidden`, ...")
    message: str
    parameter: str | None = Field(default=None, description="The refused parameter, for a bad parameter.")


class ErrorEnvelope(BaseModel):
    """OpenCost's error envelope, with kubetally's ``error`` object."""

    code: int = Field(description="The HTTP status, repeated.")
    status: Literal["error"]
    message: str
    error: ErrorDetail


_REASONS: dict[int, str] = {
    400: "A parameter is missing or invalid (named in `error.parameter`), or the window is too long.",
    401: "Authentication is on and the request carries no valid credentials.",
    403: "The identity may not read this (a scoped identity), or the Host header names a host not allowed.",
    404: "Not served here (e.g. sessions with authentication off).",
    414: "The URL is longer than 15 KiB.",
    429: "Too many failed sign-ins from this client (`Retry-After` says when to retry).",
    503: "The ledger cannot be opened.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """FastAPI ``responses=`` declaring ``statuses`` with the error envelope."""
    return {status: {"model": ErrorEnvelope, "description": _REASONS[status]} for status in statuses}


QUERY_ERRORS = errors(400, 401, 403, 414, 429, 503)
"""What every ledger query route may refuse with."""
PLAIN_ERRORS = errors(403, 414)
"""What the unauthenticated routes (``/healthz``, ``/version``, ...) may refuse with (403: a Host not allowed)."""


def install_schema(app: FastAPI) -> None:
    """Make ``app.openapi()`` build the schema without FastAPI's 422 and its validation-error components."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        components = schema.get("components", {}).get("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = ["PLAIN_ERRORS", "QUERY_ERRORS", "ErrorDetail", "ErrorEnvelope", "errors", "install_schema"]

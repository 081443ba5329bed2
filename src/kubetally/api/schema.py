"""What ``/openapi.json`` says about every operation: its parameters' constraints, the error envelope of each
refusal, and no FastAPI 422.

Every route answers its errors in OpenCost's error envelope (:mod:`kubetally.api.errors`): the statuses below are
declared on each operation with that shape, so that a client generated from the schema knows them. A missing or
malformed parameter is a 400 (never FastAPI's 422), so the 422 FastAPI adds to every operation with parameters
is removed from the schema, with its validation-error components.

Parameters stay strings parsed by the query layer (so the HTTP API, the CLI and MCP refuse alike, with the same
messages); :func:`param` adds what the schema can say of each: a ``pattern`` every accepted value matches
(closed sets spelled case-insensitively, digits for counts), a ``maxLength``, and a ``format``
(``kubetally-<kind>``) naming the grammar the description spells out (windows, filters, aggregates).
"""

from __future__ import annotations

import re
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


def _ci(word: str) -> str:
    """``word`` as a case-insensitive regular expression (``[Nn][Oo]``), valid in ECMA-262 and Python."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else re.escape(c) for c in word)


WS = r"[\s\x1c-\x1f\x85]"
"""Whitespace as ``str.strip`` sees it, as a class valid in ECMA-262 (whose backslash-s lacks U+001C-U+001F, U+0085)."""


def choice(*words: str, blank: bool = True) -> str:
    """A pattern matching exactly one of ``words`` (case-insensitive) or, with ``blank``, the empty string; the
    parsers strip surrounding whitespace, so the pattern allows it."""
    body = "|".join(_ci(word) for word in words)
    return f"^{WS}*(?:{body}){'?' if blank else ''}{WS}*$"


BOOLEAN = choice("true", "false", "t", "f", "1", "0", "yes", "no")
ACCUMULATE = choice(
    "true", "false", "t", "f", "1", "0", "none", "all", "hour", "day", "week", "weeknow", "month", "quarter"
)

_KINDS: dict[str, dict[str, Any]] = {
    "window": {"pattern": r"^[0-9A-Za-z:.,+\-\s\x1c-\x1f\x85]+$", "maxLength": 256},
    "legacy-window": {"pattern": r"^[0-9A-Za-z:.,+\-\s\x1c-\x1f\x85]+$", "maxLength": 256},
    "duration": {"pattern": f"^{WS}*(?:[0-9]{{1,12}}[SsMmHhDdWw])*{WS}*$", "maxLength": 256},
    "step": {"pattern": f"^{WS}*[0-9A-Za-z]*{WS}*$", "maxLength": 256},
    "accumulate": {"pattern": ACCUMULATE},
    "boolean": {"pattern": BOOLEAN},
    "idle": {"pattern": choice("true", "false", "t", "f", "1", "0", "yes", "no", "hide", "separate", "share")},
    "share-split": {
        "pattern": f"^{WS}*(?:"
        + "|".join(map(_ci, ("even", "weighted")))
        + "|"
        + _ci("metric:")
        + "(?:"
        + "|".join(map(_ci, ("cpu", "ram", "gpu", "pv", "network")))
        + f"))?{WS}*$"
    },
    "legacy-split": {"pattern": choice("even", "weighted")},
    "money": {"pattern": f"^{WS}*[0-9_.eE+\\-]*{WS}*$"},
    "count": {"pattern": f"^{WS}*[0-9]{{0,9}}{WS}*$"},
    "limit": {"pattern": f"^{WS}*[0-9]{{0,6}}{WS}*$"},
    "cost-metric": {"pattern": choice("ListCost", "NetCost", "AmortizedNetCost", "InvoicedCost", "AmortizedCost")},
    "cloud-sort": {"pattern": choice("cost", "name", "kubernetesPercent")},
    "order": {"pattern": choice("asc", "desc")},
    "table-format": {"pattern": choice("json", "csv")},
    "focus-format": {"pattern": choice("csv", "parquet")},
    "granularity": {"pattern": choice("hour", "day")},
    "cost-type": {"pattern": choice("blended", "list", "billed")},
    "custom-sort": {"pattern": choice("cost", "aggregate", "costType")},
    "basis": {"pattern": choice("effective", "billed")},
}
"""What the schema says of each kind of parameter besides its ``format``; kinds not listed have no pattern."""


def param(kind: str) -> dict[str, Any]:
    """The ``json_schema_extra`` of a parameter of ``kind``: its format and what :data:`_KINDS` adds."""
    return {"format": f"kubetally-{kind}", **_KINDS.get(kind, {})}


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


__all__ = [
    "PLAIN_ERRORS",
    "QUERY_ERRORS",
    "ErrorDetail",
    "ErrorEnvelope",
    "choice",
    "errors",
    "install_schema",
    "param",
]

"""The one place where errors become HTTP responses, all in OpenCost's error envelope.

* a KubetallyError → its class's status and code, naming the parameter when it has one;
* FastAPI's own request validation (a missing required parameter) → 400 naming the parameter;
* Starlette's HTTP errors (404 unknown path, 405 wrong method) → their status;
* anything else → 500 with a fixed message: the exception is logged, never sent to the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from kubetally.api.envelope import failure
from kubetally.errors import InvalidParameter, KubetallyError

LOG = logging.getLogger("kubetally.api")

INTERNAL_MESSAGE = "internal error: the request could not be answered; the server log has the details"

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def kubetally_error(_request: Request, exc: Exception) -> Response:
    """A KubetallyError with its status and code."""
    assert isinstance(exc, KubetallyError)
    parameter = exc.parameter if isinstance(exc, InvalidParameter) else None
    return failure(exc.status, exc.code, exc.message, parameter=parameter)


def validation_error(_request: Request, exc: Exception) -> Response:
    """FastAPI's validation of the declared parameters, as a 400 naming the first bad parameter."""
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    first = errors[0] if errors else {}
    location = [str(part) for part in first.get("loc", ()) if part not in ("query", "path", "header", "body")]
    parameter = location[-1] if location else "request"
    reason = "missing (required)" if first.get("type") == "missing" else str(first.get("msg", "invalid value"))
    return failure(400, InvalidParameter.code, f"{parameter}: {reason}", parameter=parameter)


def http_error(_request: Request, exc: Exception) -> Response:
    """A 404, 405 or other HTTP error raised by routing."""
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if exc.status_code == 404:
        message = f"not found: {_request.url.path}"
    elif exc.status_code == 405:
        message = f"method {_request.method} not allowed on {_request.url.path}"
    else:
        message = str(exc.detail)
    return failure(exc.status_code, code, message, headers=dict(exc.headers) if exc.headers else None)


def internal_error(request: Request, exc: Exception) -> Response:
    """Any other exception: logged with its traceback, answered with a fixed 500 message and ``Connection:
    close`` (the server drops the connection after an unhandled error; the client must know not to reuse it)."""
    LOG.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return failure(500, "internal", INTERNAL_MESSAGE, headers={"Connection": "close"})


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler above on ``app``."""
    app.add_exception_handler(KubetallyError, kubetally_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)

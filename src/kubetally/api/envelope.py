"""OpenCost's response envelope: ``{"code": 200, "status": "success", "data": ...}`` and its error form."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def success(data: Any, *, warning: str | None = None) -> JSONResponse:
    """A 200 response carrying ``data`` in OpenCost's envelope, with OpenCost's ``warning`` when one is given."""
    body: dict[str, Any] = {"code": 200, "status": "success", "data": data}
    if warning:
        body["warning"] = warning
    return JSONResponse(body)


def failure(
    status: int, code: str, message: str, *, parameter: str | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    """An error response: OpenCost's ``{"code", "status": "error", "message"}`` with kubetally's stable
    machine-readable ``error`` object (``code``, ``message`` and, for a bad parameter, ``parameter``)."""
    detail: dict[str, str] = {"code": code, "message": message}
    if parameter is not None:
        detail["parameter"] = parameter
    body = {"code": status, "status": "error", "message": message, "error": detail}
    return JSONResponse(body, status_code=status, headers=headers)

"""Query parameters a route does not use: answered anyway and named in the envelope's ``warning``.

OpenCost clients send parameters kubetally has no use for (the UI's ``metrics=``, for one). A request is not
failed for them: the route's declared query parameters are the ones it knows, every other name is ignored and
listed, so that a caller can see what had no effect. Known parameters with invalid values stay 400.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse

from kubetally.api.envelope import success


def ignored_parameters(request: Request) -> list[str]:
    """The names of ``request``'s query parameters that its route does not declare, sorted, each once."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return []
    known = _declared(dependant)
    return sorted({name for name in request.query_params if name not in known})


def _declared(dependant: Dependant) -> set[str]:
    """The query parameter names (aliases) ``dependant`` and its sub-dependencies declare."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared(sub)
    return names


def ignored_warning(request: Request) -> str | None:
    """The envelope's ``warning`` for ``request``: the parameters it ignored, or ``None`` when there are none."""
    names = ignored_parameters(request)
    if not names:
        return None
    return f"ignored unknown parameters: {', '.join(names)}"


def answer(request: Request, data: Any) -> JSONResponse:
    """A 200 response carrying ``data``, with a ``warning`` naming the parameters the route ignored."""
    return success(data, warning=ignored_warning(request))

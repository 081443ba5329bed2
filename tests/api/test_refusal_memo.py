"""A GET refused with a 400 is answered again from memory for a few seconds, per request and credentials; other
answers and other requests always reach the app."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from kubetally.api.refusals import RefusalMemo


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served() -> tuple[TestClient, list[str], Clock]:
    """An app whose ``/q`` answers 400 for ``bad=1``, 403 for ``forbidden=1``, 200 otherwise, counting calls."""
    calls: list[str] = []

    def endpoint(request: Request) -> Response:
        calls.append(str(request.url.query))
        if "bad" in request.query_params:
            return JSONResponse({"message": f"call {len(calls)}"}, status_code=400)
        if "forbidden" in request.query_params:
            return JSONResponse({"message": "no"}, status_code=403)
        return JSONResponse({"call": len(calls)})

    clock = Clock()
    routes = [Route("/q", endpoint, methods=["GET", "POST"]), Route("/mcp", endpoint, methods=["GET"])]
    app = RefusalMemo(Starlette(routes=routes), ttl_seconds=10, clock=clock)
    return TestClient(app), calls, clock


def test_a_repeated_refusal_is_answered_from_memory_until_it_expires(
    served: tuple[TestClient, list[str], Clock],
) -> None:
    client, calls, clock = served
    first = client.get("/q?bad=1")
    again = client.get("/q?bad=1")
    assert (first.status_code, again.status_code) == (400, 400)
    assert again.json() == first.json() == {"message": "call 1"}
    assert again.headers["content-type"] == first.headers["content-type"]
    assert len(calls) == 1
    clock.now = 10.0
    assert client.get("/q?bad=1").json() == {"message": "call 2"}
    assert len(calls) == 2


def test_other_credentials_queries_methods_and_answers_reach_the_app(
    served: tuple[TestClient, list[str], Clock],
) -> None:
    client, calls, _ = served
    client.get("/q?bad=1")
    client.get("/q?bad=1", headers={"Authorization": "Bearer other"})
    client.get("/q?bad=1", headers={"Cookie": "kubetally_session=x"})
    client.get("/q?bad=2")
    client.post("/q?bad=1")
    client.post("/q?bad=1")
    client.get("/mcp?bad=1")
    client.get("/mcp?bad=1")
    for _ in range(2):
        assert client.get("/q?forbidden=1").status_code == 403
        assert client.get("/q").status_code == 200
    assert len(calls) == 12


def test_the_memory_is_bounded(served: tuple[TestClient, list[str], Clock]) -> None:
    client, calls, _ = served
    memo = client.app
    assert isinstance(memo, RefusalMemo)
    memo.max_entries = 3
    for index in range(5):
        client.get(f"/q?bad={index}")
    client.get("/q?bad=0")  # the oldest was dropped: it reaches the app again
    client.get("/q?bad=4")  # the newest is still kept
    assert len(calls) == 6

"""A corpus of hostile query inputs, shared by the hostile-input tests and the load benchmark's hostile tenant.

Each entry is a parameter, a value built to cost the server (deep nesting, huge numbers, overflowing shares) and
the parameter the 400 must name. Every one must be refused cheaply, before any query work.
"""

from __future__ import annotations

DEEP = "(" * 2000 + 'namespace:"a"' + ")" * 2000
HUGE = "9" * 5000

CORPUS: tuple[tuple[str, str, str], ...] = (
    ("filter", DEEP, "filter"),
    ("filter", "(" * 33 + 'namespace:"a"' + ")" * 33, "filter"),
    ("filter", 'namespace:"' + "a" * 5000 + '"', "filter"),
    ("shareFilter", DEEP, "shareFilter"),
    ("step", HUGE + "h", "step"),
    ("step", "99999999999999999999h", "step"),
    ("accumulate", HUGE, "accumulate"),
    ("window", HUGE + "d", "window"),
    ("window", f"{HUGE},{HUGE}", "window"),
    ("window", "1d offset " + HUGE + "d", "window"),
    ("limit", HUGE, "limit"),
    ("offset", "18446744073709551617", "offset"),
    ("shareCost", "1e307", "shareCost"),
    ("shareCost", "1e13", "shareCost"),
)
"""(parameter, value, the parameter the 400 must name)."""

ENDPOINTS: dict[str, tuple[str, ...]] = {
    "/allocation": ("filter", "shareFilter", "step", "accumulate", "window", "shareCost"),
    "/allocation/compute": ("filter", "shareFilter", "step", "accumulate", "window", "shareCost"),
    "/allocation/summary": ("filter", "step", "accumulate", "window"),
    "/allocation/compute/summary": ("filter", "shareFilter", "step", "accumulate", "window", "shareCost"),
    "/assets": ("filter", "step", "accumulate", "window"),
    "/cloudCost": ("filter", "accumulate", "window"),
    "/cloudCost/view/graph": ("filter", "accumulate", "window"),
    "/cloudCost/view/totals": ("filter", "accumulate", "window"),
    "/cloudCost/view/table": ("filter", "limit", "offset", "window"),
    "/customCost/total": ("filter", "accumulate", "window"),
    "/customCost/timeseries": ("filter", "accumulate", "window"),
    "/reconciliation": ("window",),
    "/focus": ("filter", "window"),
}
"""Each endpoint and the corpus parameters it takes (also served under ``/model``)."""


def hostile_requests() -> list[tuple[str, dict[str, str]]]:
    """Every (path, params) of the corpus on every endpoint that takes its parameter, also under ``/model``."""
    requests = []
    for prefix in ("", "/model"):
        for path, accepted in ENDPOINTS.items():
            for parameter, value, _ in CORPUS:
                if parameter in accepted:
                    requests.append((prefix + path, {"window": "1d", parameter: value}))
    return requests


__all__ = ["CORPUS", "ENDPOINTS", "hostile_requests"]

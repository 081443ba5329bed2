"""How big one tool answer may be, for any window (docs/mcp.md, "Output size").

An assistant holds a tool's answer in its context, so every tool bounds its output:

* a query cut into more than :data:`MAX_SETS` sets (``step=1h`` over months) is re-cut with the shortest step of
  :data:`COARSER_STEPS` that gives at most that many, and the answer says so; sets without any row are dropped;
* at most :data:`ROW_CAP` rows over all sets (the largest by cost; fewer when the rows' OpenCost fields would pass
  :data:`MAX_STRUCTURED_BYTES`), the others counted in ``more_rows``; totals always sum every row;
* the text block is at most :data:`MAX_TEXT_CHARS` characters, cut at a line with a note saying so.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

MAX_SETS = 31
"""The most sets one answer holds."""
ROW_CAP = 150
"""The most rows (allocations, assets, workloads, bill lines, idle parts) one answer holds, over all its sets."""
MAX_STRUCTURED_BYTES = 256 * 1024
"""The most bytes of JSON the rows of one answer's structured content take."""
MAX_TEXT_CHARS = 40_000
"""The most characters of one answer's text block (about 10,000 tokens)."""
COARSER_STEPS = ("1h", "2h", "3h", "6h", "12h", "1d", "2d", "1w", "month", "quarter")
"""The steps a too-finely cut query is re-cut with, shortest first."""

Row = tuple[str, Mapping[str, Any]]


class _Cut(Protocol):
    @property
    def sets(self) -> tuple[Any, ...]: ...


_Query = TypeVar("_Query", bound=_Cut)


def bounded_sets(
    parse: Callable[[Mapping[str, str]], _Query], params: Mapping[str, str]
) -> tuple[_Query, str, list[str]]:
    """The query of ``params``, re-cut with a coarser step when it has more than :data:`MAX_SETS` sets; the step
    it was cut with (``window`` for one set) and the notes saying what was changed."""
    query = parse(params)
    asked = params.get("step") or params.get("accumulate") or ""
    if len(query.sets) <= MAX_SETS:
        return query, asked if asked and asked.lower() != "true" else "window", []
    for step in COARSER_STEPS:
        coarser = parse({**params, "step": step, "accumulate": ""})
        if len(coarser.sets) <= MAX_SETS:
            note = (
                f"{asked!r} would cut the window into {len(query.sets)} sets; it was cut with step {step!r} "
                f"into {len(coarser.sets)} sets instead (at most {MAX_SETS})"
            )
            return coarser, step, [note]
    raise AssertionError("a quarter step always gives few enough sets for the longest allowed window")


def cost_of(row: Mapping[str, Any]) -> float:
    """The ``totalCost`` of an OpenCost row (0 when missing)."""
    return float(row.get("totalCost") or 0.0)


def ranked(data: Mapping[str, Mapping[str, Any]]) -> list[Row]:
    """The rows of a set, largest cost first (ties by name)."""
    return sorted(data.items(), key=lambda item: (-cost_of(item[1]), item[0]))


def rows_per_set(sets: Sequence[Sequence[Row]], shape: Callable[[Mapping[str, Any]], Any]) -> int:
    """How many of each set's largest rows an answer keeps: :data:`ROW_CAP` over all sets, halved until the
    shaped rows fit :data:`MAX_STRUCTURED_BYTES` (at least one row per set)."""
    cap = max(1, ROW_CAP // max(1, len(sets)))
    while cap > 1 and _size(sets, cap, shape) > MAX_STRUCTURED_BYTES:
        cap //= 2
    return cap


def _size(sets: Sequence[Sequence[Row]], cap: int, shape: Callable[[Mapping[str, Any]], Any]) -> int:
    return sum(len(json.dumps(shape(row), default=str)) for rows in sets for _name, row in rows[:cap])


def cut_text(text: str) -> str:
    """``text`` when it fits :data:`MAX_TEXT_CHARS`, else its first lines that fit and a note saying so."""
    if len(text) <= MAX_TEXT_CHARS:
        return text
    note = (
        f"\n[output cut at {MAX_TEXT_CHARS} characters; the totals above include every row: narrow the query "
        "with a filter, a coarser aggregate or a longer step]"
    )
    head = text[: MAX_TEXT_CHARS - len(note)]
    return head[: head.rfind("\n") if "\n" in head else len(head)] + note


__all__ = [
    "COARSER_STEPS",
    "MAX_SETS",
    "MAX_STRUCTURED_BYTES",
    "MAX_TEXT_CHARS",
    "ROW_CAP",
    "bounded_sets",
    "cost_of",
    "cut_text",
    "ranked",
    "rows_per_set",
]

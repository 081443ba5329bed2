"""Every tool's answer stays under the documented size for any window, with its totals still exact."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kubetally.mcp.bounds import (
    MAX_SETS,
    MAX_STRUCTURED_BYTES,
    MAX_TEXT_CHARS,
    ROW_CAP,
    cut_text,
    ranked,
    rows_per_set,
)
from tests.mcp.conftest import Served

LONGEST = "400d"
"""The longest window the server allows (its default ``max_window_days``)."""

CALLS = [
    ("get_allocation_costs", {"window": LONGEST, "step": "1h"}),
    ("get_allocation_costs", {"window": "7d", "step": "1h"}),
    ("get_allocation_costs", {"window": "30d", "step": "1h", "aggregate": "pod"}),
    ("get_allocation_costs", {"window": LONGEST, "accumulate": "hour", "aggregate": "namespace"}),
    ("get_allocation_costs", {"window": "7d"}),
    ("get_asset_costs", {"window": LONGEST, "step": "1h"}),
    ("get_asset_costs", {"window": "7d", "step": "1h"}),
    ("get_cloud_costs", {"window": LONGEST, "aggregate": "resourceName"}),
    ("get_idle_costs", {"window": LONGEST, "by": "node"}),
    ("get_efficiency", {"window": LONGEST, "aggregate": ""}),
    ("list_aggregation_values", {"window": LONGEST}),
]


def _size(served: Served, tool: str, arguments: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    result = served.call(tool, arguments)
    assert not result.isError, result.content
    assert result.structuredContent is not None
    text = result.content[0].text  # type: ignore[union-attr]
    assert len(text) <= MAX_TEXT_CHARS
    assert len(json.dumps(result.structuredContent)) <= MAX_STRUCTURED_BYTES
    return text, result.structuredContent


@pytest.mark.parametrize(("tool", "arguments"), CALLS, ids=[f"{t}-{'-'.join(a.values())}" for t, a in CALLS])
def test_every_tool_answer_fits_the_documented_size(served: Served, tool: str, arguments: dict[str, Any]) -> None:
    _text, answer = _size(served, tool, arguments)
    sets = answer.get("sets", [])
    assert len(sets) <= MAX_SETS
    rows = sum(len(s.get("allocations", s.get("assets", {}))) for s in sets)
    rows += len(answer.get("workloads", [])) + len(answer.get("rows", [])) + len(answer.get("breakdown", []))
    assert rows <= ROW_CAP


def test_a_long_window_at_an_hourly_step_is_coarsened_and_keeps_the_exact_total(served: Served) -> None:
    text, answer = _size(served, "get_allocation_costs", {"window": LONGEST, "step": "1h", "aggregate": "pod"})
    api = served.api("/allocation", {"window": LONGEST, "aggregate": "pod", "accumulate": "true"})[0]
    assert answer["step"] != "1h" and "sets instead" in text
    assert answer["empty_sets_dropped"] > 0 and all(s["allocations"] for s in answer["sets"])
    assert answer["total_cost"] == pytest.approx(sum(row["totalCost"] for row in api.values()), abs=1e-3)
    kept = sum(len(s["allocations"]) for s in answer["sets"])
    assert kept + sum(s["more_rows"] for s in answer["sets"]) > ROW_CAP // len(answer["sets"])
    assert "more rows not shown" in text


def test_assets_at_an_hourly_step_keep_the_exact_total(served: Served) -> None:
    _text, answer = _size(served, "get_asset_costs", {"window": "7d", "step": "1h"})
    assert len(answer["sets"]) <= MAX_SETS < 7 * 24
    api = served.api("/assets", {"window": "7d"})
    # Each answer rounds every asset's cost to 5 decimals: per set in the tool's, once in the API's one set.
    rounding = 0.5e-5 * (len(answer["sets"]) + 1) * len(api)
    assert answer["total_cost"] == pytest.approx(sum(a["totalCost"] for a in api.values()), abs=rounding)


def test_rows_are_halved_until_they_fit_the_byte_budget() -> None:
    big = {f"row-{i}": {"totalCost": float(i), "pad": "x" * 10_000} for i in range(100)}
    cap = rows_per_set([ranked(big)], dict)
    assert cap < 100 and cap * 10_000 <= MAX_STRUCTURED_BYTES
    assert [name for name, _row in ranked(big)[:2]] == ["row-99", "row-98"]
    small = {f"row-{i}": {"totalCost": 1.0} for i in range(500)}
    assert rows_per_set([ranked(small)] * 3, dict) == ROW_CAP // 3


def test_a_text_over_the_limit_is_cut_at_a_line_with_a_note() -> None:
    text = "\n".join(f"| row {i} | {'y' * 80} |" for i in range(2000))
    cut = cut_text(text)
    assert len(cut) <= MAX_TEXT_CHARS and "output cut" in cut
    assert cut.split("\n[output cut")[0] == text[: len(cut.split("\n[output cut")[0])]
    assert cut_text("short") == "short"


def test_every_tool_description_states_the_size(served: Served) -> None:
    for tool in served.list_tools().tools:
        assert f"{MAX_TEXT_CHARS:,} characters" in (tool.description or ""), tool.name
        assert f"{MAX_STRUCTURED_BYTES // 1024} KiB" in (tool.description or ""), tool.name


def test_docs_state_the_bounds_the_code_applies() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "mcp.md").read_text()
    for stated in (f"{MAX_SETS} sets", f"{ROW_CAP} rows", f"{MAX_STRUCTURED_BYTES // 1024} KiB"):
        assert f"**{stated}**" in docs, stated
    assert f"**{MAX_TEXT_CHARS:,} characters**" in docs

"""The README's promises: its documentation links resolve and its two commands exist."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute
from kubetally.sources.simulator import load_scenario, scenario_pricebook, simulate, to_history

ROOT = Path(__file__).resolve().parent.parent


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?!https?:)[^)#]+)\)", readme)
    assert links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_two_commands_are_make_targets() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("install", "demo", "test"):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), target
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_simulator_doc_example_scenario_runs(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "simulator.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", doc, flags=re.DOTALL)
    assert example is not None
    path = tmp_path / "example.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    scenario = load_scenario(str(path))
    history = to_history(simulate(scenario, now=datetime(2026, 11, 2, tzinfo=UTC)))
    result = compute(history, scenario_pricebook(scenario), BillingPolicy())
    kinds = set(result.allocations.get_column("kind"))
    assert kinds == {"workload", "idle", "unmounted"}
    assert set(result.assets.get_column("type")) >= {"Node", "Disk", "LoadBalancer", "Network", "ClusterManagement"}

"""Finding a scenario: a built-in name (``small``, ``demo``, ``large[:k=v,...]``) or a YAML file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from kubetally.errors import InvalidScenario
from kubetally.sources.simulator.large import large_scenario, parse_large
from kubetally.sources.simulator.scenario import BUILT_IN, Scenario, parse_scenario


def load_scenario(name_or_path: str) -> Scenario:
    """A built-in scenario by name (``small``, ``demo``, ``large[:k=v,...]``) or a scenario YAML file."""
    if name_or_path == "large" or name_or_path.startswith("large:"):
        return large_scenario(**parse_large(name_or_path))
    if name_or_path in BUILT_IN:
        resource = resources.files("kubetally.sources.simulator").joinpath("scenarios", f"{name_or_path}.yaml")
        return parse_scenario(resource.read_text(encoding="utf-8"), f"built-in scenario {name_or_path}")
    path = Path(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        known = ", ".join(BUILT_IN)
        raise InvalidScenario(
            f"scenario {name_or_path!r}: not a built-in scenario ({known}) and not a readable file ({exc.strerror})"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidScenario(f"{path}: not a UTF-8 text file (byte {exc.start}: {exc.reason})") from exc
    return parse_scenario(text, str(path))

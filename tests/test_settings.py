"""Settings precedence (flags > environment > YAML file > defaults) and clear errors for bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetally.domain.policy import BillingMode
from kubetally.errors import InvalidInput
from kubetally.settings import load_settings


def test_precedence_flags_then_environment_then_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "kubetally.yaml"
    config.write_text("billing_mode: request\nminimum_runtime_seconds: 60\ndb: from-file.duckdb\n")
    monkeypatch.setenv("KUBETALLY_MINIMUM_RUNTIME_SECONDS", "30")
    from_file = load_settings(config)
    assert from_file.billing_mode == "request"
    assert from_file.minimum_runtime_seconds == 30.0
    assert from_file.db == Path("from-file.duckdb")
    flagged = load_settings(config, db=tmp_path / "flag.duckdb", minimum_runtime_seconds=5.0)
    assert flagged.db == tmp_path / "flag.duckdb"
    assert flagged.minimum_runtime_seconds == 5.0
    assert flagged.policy().mode is BillingMode.REQUEST


def test_defaults_without_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBETALLY_DB", raising=False)
    settings = load_settings(None, db=None)
    assert settings.db == Path("kubetally.duckdb")
    assert settings.policy().mode is BillingMode.MAX_REQUEST_USAGE


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("billing_mode: [unclosed", "not valid YAML"),
        ("- a\n- list\n", "must hold a mapping"),
        ("colour: red\n", "colour"),
        ("minimum_runtime_seconds: soon\n", "minimum_runtime_seconds"),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path: Path, content: str, needle: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(content)
    with pytest.raises(InvalidInput, match=needle):
        load_settings(config)


def test_unreadable_config_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="cannot read config file"):
        load_settings(tmp_path / "missing.yaml")


def test_bad_billing_mode_names_the_allowed_values(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="max_request_usage"):
        load_settings(None, billing_mode="cheapest").policy()

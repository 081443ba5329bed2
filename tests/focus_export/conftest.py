"""Fixtures of the FOCUS export tests: the demo ledger, its window, the served app and the official validator."""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.api.auth import Authenticator, Identity, token_digest
from kubetally.ledger import Ledger
from kubetally.query.focus_columns import APPLICABILITY_CRITERIA
from kubetally.query.scope import Scope
from tests.runner import demo_ledger_at

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "admin-token"
SEARCH_TOKEN = "search-token"
"""Scoped to the namespace ``search``."""
EU_TOKEN = "eu-token"
"""Scoped to the cluster ``prod-eu``."""


@dataclass(frozen=True)
class Demo:
    """The demo ledger and the RFC3339 window of its written hours."""

    path: Path
    start: datetime
    end: datetime

    @property
    def window(self) -> str:
        return f"{self.start:%Y-%m-%dT%H:%M:%SZ},{self.end:%Y-%m-%dT%H:%M:%SZ}"


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    path = demo_ledger_at(tmp_path_factory.mktemp("focus") / "demo.duckdb")
    with Ledger.open(path, read_only=True) as ledger:
        bounds = ledger.bounds()
    assert bounds is not None
    return Demo(path, *bounds)


@pytest.fixture(scope="session")
def client(demo: Demo) -> Iterator[TestClient]:
    """The app over the demo ledger with tokens: unrestricted, namespace ``search``, cluster ``prod-eu``."""
    auth = Authenticator(
        tokens=[
            (Identity("admin"), token_digest(ADMIN_TOKEN)),
            (Identity("search", Scope(namespaces=frozenset({"search"}))), token_digest(SEARCH_TOKEN)),
            (Identity("eu", Scope(clusters=frozenset({"prod-eu"}))), token_digest(EU_TOKEN)),
        ]
    )
    app = create_app(demo.path, clock=lambda: demo.end + timedelta(minutes=30), auth=auth)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


VALIDATOR_HELP = (
    "the official FOCUS validator is missing: run `make focus-validator` (it creates .venv-focus with Python >= 3.12 "
    "and installs focus-validator 2.2.x) or point KUBETALLY_FOCUS_VALIDATOR at a focus-validator executable"
)


def validator_path() -> Path:
    """The focus-validator executable; the test fails (never skips) when there is none."""
    configured = os.environ.get("KUBETALLY_FOCUS_VALIDATOR")
    path = Path(configured) if configured else ROOT / ".venv-focus" / "bin" / "focus-validator"
    if not path.is_file():
        pytest.fail(f"{VALIDATOR_HELP} (looked for {path})")
    return path


@dataclass(frozen=True)
class Report:
    """A validator run: the JUnit XML's totals and the ids of the failing and erroring rules."""

    tests: int
    failures: int
    errors: int
    failing: frozenset[str]
    passing: frozenset[str]


def validate(data: Path, workdir: Path) -> Report:
    """Run the validator on ``data`` (FOCUS 1.2, offline, the claimed applicability criteria); its JUnit report.

    The validator reads its currency list by a path relative to the working directory, so it runs in ``workdir``
    next to a link to its package.
    """
    validator = validator_path()
    packages = sorted((validator.parent.parent / "lib").glob("python3*/site-packages/focus_validator"))
    if not packages:
        pytest.fail(f"{VALIDATOR_HELP} (no focus_validator package next to {validator})")
    workdir.mkdir(parents=True, exist_ok=True)
    link = workdir / "focus_validator"
    if not link.exists():
        link.symlink_to(packages[0], target_is_directory=True)
    report = workdir / f"{data.name}.xml"
    done = subprocess.run(
        [
            str(validator),
            "--data-file",
            str(data),
            "--validate-version",
            "1.2",
            "--block-download",
            "--applicability-criteria",
            ",".join(APPLICABILITY_CRITERIA),
            "--output-type",
            "unittest",
            "--output-destination",
            str(report),
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if not report.is_file():
        pytest.fail(
            f"focus-validator wrote no report (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    root = ET.parse(report).getroot()
    failing: set[str] = set()
    passing: set[str] = set()
    for case in root.iter("testcase"):
        rule = (case.get("name") or "").split(" :: ")[0]
        if any(child.tag in ("failure", "error") for child in case):
            failing.add(rule)
        elif not any(child.tag == "skipped" for child in case):
            passing.add(rule)
    return Report(
        int(root.get("tests", "0")),
        int(root.get("failures", "0")),
        int(root.get("errors", "0")),
        frozenset(failing),
        frozenset(passing),
    )

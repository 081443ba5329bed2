"""The release before the container image (commit ``ed5138a``), run from ``git archive`` with this venv's
dependencies, and the comparison of its answers with another server's."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.podman import ROOT

PREVIOUS = "ed5138a"
"""The commit before the container image and Kubernetes install."""

REDEFINED: dict[str, str | None] = {"window": None}
"""Allocation fields whose meaning changed since :data:`PREVIOUS`: field → the field now holding the same answer
(``None``: skip it). Every other field must answer exactly as the previous release did. An allocation's ``window`` is
now its set, no longer its hour buckets (its running interval is ``start``/``end``, which a migrated ledger answers
from the buckets as before)."""

RENAMED_KINDS = {
    "Deployment": "deployment",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
    "ReplicaSet": "replicaset",
    "Rollout": "rollout",
    "CronJob": "job",
}
"""Controller kinds the previous release spelled as Kubernetes does, and OpenCost's spelling since schema version
5 (docs/query-language.md, "Controllers"): a CronJob's pods became ``job:<cronjob>``; a ``Job:<name>`` loses a
trailing 8- or 10-digit timestamp."""
_OLD_CONTROLLER = re.compile(r"(Deployment|StatefulSet|DaemonSet|ReplicaSet|Rollout|CronJob|Job):(.+)")
_JOB_TIMESTAMP = re.compile(r"(.+)-(?:[0-9]{10}|[0-9]{8})")


def renamed_controller(value: str) -> str:
    """A previous release's ``kind:name`` controller value in this release's spelling (other strings unchanged)."""
    match = _OLD_CONTROLLER.fullmatch(value)
    if match is None:
        return value
    kind, name = match.groups()
    if kind == "Job":
        stripped = _JOB_TIMESTAMP.fullmatch(name)
        return f"job:{stripped.group(1) if stripped else name}"
    return f"{RENAMED_KINDS[kind]}:{name}"


ONE_THREAD = (
    "import duckdb; _connect = duckdb.connect; "
    "duckdb.connect = lambda *a, **k: (lambda c: (c.execute('SET GLOBAL threads = 1'), c)[1])(_connect(*a, **k)); "
)
"""Run before the previous release: its DuckDB connections use one thread, as this release's do
(``kubetally.ledger.opening.THREADS``). With more, its sums differ in their last digits from run to run (the
partial sums of a parallel GROUP BY are combined in whichever order the threads finish), so no release could
answer "unchanged" against it; with one, it answers the same bytes every time."""

QUERIES = (
    ("/allocation", {"aggregate": "namespace"}),
    ("/allocation", {"aggregate": "controller"}),
    ("/allocation", {"aggregate": "pod", "accumulate": "true"}),
    ("/assets", {"accumulate": "day"}),
)


def previous_release(folder: Path) -> Path:
    """The source tree of :data:`PREVIOUS`, extracted under ``folder``; its ``src`` directory."""
    archive = folder / "previous.tar"
    done = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", f"--output={archive}", PREVIOUS, "src"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"cannot read release {PREVIOUS} from git: {done.stderr.strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(folder / "previous", filter="data")
    return folder / "previous" / "src"


def run_previous(src: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = ONE_THREAD + (
        "import sys, kubetally.cli.app as app; assert app.__file__.startswith(sys.argv[1]); "
        "sys.argv[1:2] = []; app.main()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(src), *args], capture_output=True, text=True, env=env, check=False
    )


@contextmanager
def serving_previous(src: Path, db: Path, port: int, log: Path) -> Iterator[str]:
    """The previous release's ``kubetally serve`` over ``db`` on loopback ``port``."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = ONE_THREAD + "import sys, kubetally.cli.app as app; sys.argv[0] = 'kubetally'; app.main()"
    args = [sys.executable, "-c", code, "serve", "--db", str(db), "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def _map(value: Any) -> Any:
    """``value`` with the :data:`REDEFINED` fields renamed or dropped and controller values in this release's
    spelling (:func:`renamed_controller`), at any depth."""
    if isinstance(value, dict):
        mapped = {}
        for key, item in value.items():
            name = REDEFINED.get(key, key) if key in REDEFINED else key
            if name is None:
                continue
            if name == "controllerKind" and isinstance(item, str):
                mapped[name] = {"Job": "job", **RENAMED_KINDS}.get(item, item.lower())
                continue
            mapped[renamed_controller(name)] = _map(item)
        return mapped
    if isinstance(value, list):
        return [_map(item) for item in value]
    if isinstance(value, str):
        return renamed_controller(value)
    return value


def answers(url: str, window: str, auth: tuple[str, str] | None = None) -> dict[str, Any]:
    """The ``data`` of every query of :data:`QUERIES` over ``window``, keyed by the request."""
    found = {}
    for path, params in QUERIES:
        response = httpx.get(f"{url}{path}", params={"window": window, **params}, auth=auth, timeout=60)
        assert response.status_code == 200, f"{path} {params}: {response.text[:300]}"
        found[f"{path} {json.dumps(params, sort_keys=True)}"] = response.json()["data"]
    return found


def same_answers(old: dict[str, Any], new: dict[str, Any]) -> None:
    """The previous release's answers, mapped through :data:`REDEFINED`, equal the new ones."""
    assert old.keys() == new.keys()
    for key, value in old.items():
        assert _map(value) == _map(new[key]), key

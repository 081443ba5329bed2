"""Running ``kubetally`` as a user would: the entry point in process, or ``serve`` as a real process."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kubetally.cli.app import main


@dataclass(frozen=True)
class Run:
    """What one command did: its exit code and what it printed."""

    code: int
    out: str
    err: str


def exit_code(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run ``kubetally ARGS``; its exit code (output left to the caller's capture)."""
    monkeypatch.setattr(sys, "argv", ["kubetally", *args])
    try:
        main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    return 0


def kubetally(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Run:
    """Run ``kubetally ARGS``; its exit code and captured output."""
    code = exit_code(monkeypatch, *args)
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def succeed(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> Run:
    """Run ``kubetally ARGS`` and require exit code 0."""
    run = kubetally(capsys, monkeypatch, *args)
    assert run.code == 0, run.err
    return run


KUBETALLY = Path(sys.executable).parent / "kubetally"
"""The installed console script, for tests that run ``kubetally`` as a separate process."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def demo_ledger_at(db: Path, *, bill: bool = False) -> Path:
    """``kubetally demo --no-serve`` into ``db``: the demo scenario costed into a ledger; with ``bill``, its cloud
    bill ingested and reconciled too (``--bill``, the command's default)."""
    done = subprocess.run(
        [str(KUBETALLY), "demo", "--no-serve", "--bill" if bill else "--no-bill", "--db", str(db)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"kubetally demo failed:\n{done.stdout}\n{done.stderr}")
    return db


@contextmanager
def serving(args: Sequence[str], log: Path, *, port: int | None = None) -> Iterator[str]:
    """A real ``kubetally serve ARGS --port PORT`` process, ready (``/readyz`` is 200); yields its base URL."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(KUBETALLY), "serve", *args, "--port", str(port)], stdout=output, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    pytest.fail(f"kubetally serve exited with {process.returncode}:\n{log.read_text()}")
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"kubetally serve did not become ready:\n{log.read_text()}")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=10)


@contextmanager
def nobody_folder(prefix: str) -> Iterator[Path]:
    """A fresh folder ``nobody`` can enter (pytest's own temporary folders are private to root), removed after."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    try:
        yield path
    finally:
        for sub in path.rglob("*"):
            sub.chmod(0o777)
        shutil.rmtree(path)


def as_nobody(*args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """``kubetally ARGS`` run as the unprivileged ``nobody`` through util-linux's ``setpriv`` (the tests run as root,
    who may write anything)."""
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "setpriv (util-linux) is needed to run kubetally unprivileged"
    command = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(KUBETALLY), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

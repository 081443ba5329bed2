"""Running the ``kubetally`` entry point in process, as a user would from a shell."""

from __future__ import annotations

import sys
from dataclasses import dataclass

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

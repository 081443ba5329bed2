"""Running the image with rootful podman the way docs/install.md says works on a plain VM: runc, vfs storage,
the host network (scripts/containers/*.conf)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("KUBETALLY_TEST_IMAGE", "localhost/kubetally:test")
LIMITS = ("--ulimit", "nofile=16384:16384", "--ulimit", "nproc=4096:4096")


def podman_env() -> dict[str, str]:
    """The environment podman and buildah run with: the project's containers.conf and storage.conf."""
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(ROOT / "scripts/containers/containers.conf"))
    env.setdefault("CONTAINERS_STORAGE_CONF", str(ROOT / "scripts/containers/storage.conf"))
    return env


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``podman ARGS``; with ``check``, a one-line test failure naming the command when it fails."""
    try:
        done = subprocess.run(
            ["podman", *args], capture_output=True, text=True, env=podman_env(), timeout=timeout, check=False
        )
    except FileNotFoundError:
        pytest.fail("podman cannot run containers here: podman is not installed (apt-get install podman runc)")
    if check and done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        pytest.fail(f"podman cannot run containers here: `podman {' '.join(args[:2])}` failed: {last}")
    return done


def build_image(tag: str = IMAGE) -> str:
    """``make image`` with ``IMAGE=tag``; fails the session in one line when the build does not succeed."""
    done = subprocess.run(
        ["make", "-s", "image", f"IMAGE={tag}"], cwd=ROOT, capture_output=True, text=True, env=podman_env(), check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or done.stdout.strip().splitlines() or ["(no output)"])[-1]
        pytest.fail(f"make image failed: {last}")
    return tag


@contextmanager
def container(args: Sequence[str], *, image: str = IMAGE, name: str) -> Iterator[str]:
    """A detached container of ``image`` with a read-only root, a /tmp tmpfs and the test ulimits; yields its name."""
    podman("rm", "--force", "--ignore", name, check=False)
    podman("run", "--detach", "--name", name, "--network", "host", "--read-only", "--tmpfs", "/tmp", *LIMITS, *args)
    try:
        yield name
    finally:
        podman("rm", "--force", "--time", "2", name, check=False)


@contextmanager
def exec_serving(name: str, port: int, *args: str) -> Iterator[str]:
    """A second ``kubetally serve ARGS --port port`` run with ``podman exec`` in the running container ``name``:
    the image's program, user, environment and read-only root, without creating another container (with vfs
    storage every new container is a full copy of the image). Stopped on exit; yields its URL once ready."""
    url = f"http://127.0.0.1:{port}"
    podman("exec", "--detach", name, "kubetally", "serve", *args, "--host", "127.0.0.1", "--port", str(port))
    try:
        wait_http(f"{url}/readyz", name)
        yield url
    finally:
        podman("exec", name, "python3", "-c", _STOP.format(port=port), check=False)


_STOP = """
import os, signal
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        command = open(f"/proc/{{pid}}/cmdline", "rb").read().split(b"\\0")
    except OSError:
        continue
    if b"serve" in command and b"{port}" in command:
        os.kill(int(pid), signal.SIGTERM)
"""
"""Stops the exec'd server of one port (the image has no ``pkill``)."""


def logs(name: str) -> str:
    done = podman("logs", name, check=False)
    return (done.stdout + done.stderr)[-3000:]


def wait_http(url: str, name: str, seconds: float = 90.0, *, auth: tuple[str, str] | None = None) -> float:
    """Seconds until ``url`` answers 200; fails with the container's log when it exits or times out."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        state = podman("inspect", "--format", "{{.State.Status}}", name, check=False).stdout.strip()
        if state in {"exited", "stopped"}:
            pytest.fail(f"container {name} exited before {url} answered:\n{logs(name)}")
        try:
            if httpx.get(url, timeout=2, auth=auth).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{url} did not answer 200 within {seconds:g} s:\n{logs(name)}")

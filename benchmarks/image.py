"""The container image: its size, and the start-up time of a container to ``/healthz`` and to ``/readyz``.

Builds the demo ledger on the host (``kubetally demo --no-serve``), then starts the image several times with
rootful podman the way docs/install.md runs it (runc, the host network, a read-only root, the ledger in a volume)
serving that ledger, and times from ``podman run`` to the first 200 of ``/healthz`` and of ``/readyz``. The image
is the one ``make image`` built (``--image``); it is not rebuilt here. Prints medians and writes
``benchmarks/image_results.json``.

Run with ``nice python -m benchmarks.image [--runs 5] [--image localhost/kubetally:dev] [--compressed]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
KUBETALLY = Path(sys.executable).parent / "kubetally"
RESULTS = ROOT / "benchmarks" / "image_results.json"
UID = 10001
"""The image's user (Containerfile ``USER``): the ledger volume must be writable by it."""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(ROOT / "scripts/containers/containers.conf"))
    env.setdefault("CONTAINERS_STORAGE_CONF", str(ROOT / "scripts/containers/storage.conf"))
    return env


def podman(*args: str, check: bool = True) -> str:
    done = subprocess.run(["podman", *args], capture_output=True, text=True, env=_env(), check=False)
    if check and done.returncode != 0:
        raise SystemExit(f"podman {' '.join(args[:2])} failed: {done.stderr.strip()[-400:]}")
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def image_size(image: str, compressed: bool) -> dict[str, int]:
    """Bytes of the image uncompressed (what podman stores), and gzip-compressed as a registry would hold it."""
    sizes = {"uncompressed_bytes": int(podman("image", "inspect", "--format", "{{.Size}}", image))}
    if compressed:
        with tempfile.TemporaryDirectory(prefix="kubetally-image-") as folder:
            archive = Path(folder) / "image.tar"
            podman("save", "--format", "oci-archive", "--output", str(archive), image)
            gzip = subprocess.run(["gzip", "-6", "-c", str(archive)], capture_output=True, check=True)
            sizes["gzip_bytes"] = len(gzip.stdout)
    return sizes


def demo_ledger(folder: Path) -> Path:
    """The demo ledger in ``folder``, owned by the image's user."""
    db = folder / "kubetally.duckdb"
    command = [str(KUBETALLY), "demo", "--no-serve", "--no-bill", "--db", str(db)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"kubetally demo failed: {done.stderr[-400:]}")
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, UID, UID)
    return db


def _wait(url: str, name: str, deadline: float) -> float:
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.monotonic()
        except httpx.TransportError:
            pass
        if podman("inspect", "--format", "{{.State.Status}}", name, check=False) in {"exited", "stopped"}:
            raise SystemExit(f"container {name} exited: {podman('logs', name, check=False)[-800:]}")
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within the deadline")


def start_once(image: str, folder: Path) -> dict[str, float]:
    """Seconds from ``podman run`` to: the command returning (container created), /healthz, /readyz."""
    port = _free_port()
    name = f"kubetally-bench-{port}"
    url = f"http://127.0.0.1:{port}"
    run = ["run", "--detach", "--name", name, "--network", "host", "--read-only", "--tmpfs", "/tmp"]
    limits = ["--ulimit", "nofile=16384:16384", "--ulimit", "nproc=4096:4096"]
    args = ["--volume", f"{folder}:/var/lib/kubetally", image, "serve", "--host", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    try:
        podman(*run, *limits, *args)
        created = time.monotonic()
        healthy = _wait(f"{url}/healthz", name, started + 300)
        ready = _wait(f"{url}/readyz", name, started + 300)
    finally:
        podman("rm", "--force", "--time", "2", name, check=False)
    return {"created_s": created - started, "healthz_s": healthy - started, "readyz_s": ready - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="localhost/kubetally:dev")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--compressed", action="store_true", help="also gzip the saved image to measure it")
    args = parser.parse_args()
    size = image_size(args.image, args.compressed)
    runs = []
    with tempfile.TemporaryDirectory(prefix="kubetally-image-bench-") as tmp:
        folder = Path(tmp) / "volume"
        folder.mkdir()
        demo_ledger(folder)
        for _ in range(args.runs):
            runs.append(start_once(args.image, folder))
            print(json.dumps(runs[-1]), flush=True)
    medians = {key: round(statistics.median(run[key] for run in runs), 2) for key in runs[0]}
    load = os.getloadavg()
    result: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.1f} at the end",
        "podman": podman("version", "--format", "{{.Client.Version}}"),
        "image": args.image,
        **size,
        "runs": len(runs),
        "median": medians,
        "all": runs,
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({key: value for key, value in result.items() if key != "all"}, indent=2))


if __name__ == "__main__":
    main()

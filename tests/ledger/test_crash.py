"""kill -9 during a write: the reopened ledger holds, per (cluster, hour), the old rows or the new, never a mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from kubetally.costs import COST_SCHEMAS, CostResult
from kubetally.ledger import Ledger, RunInfo
from tests.ledger.conftest import assert_rollup_fresh, in_order, snapshot
from tests.ledger.crash_cases import CLUSTERS, OLD_END, OLD_START, candidates

REPO = Path(__file__).resolve().parents[2]
FACTS = ("allocations", "allocation_pvs", "allocation_lbs", "assets")


def start_writer(path: Path, marker: Path, *mode: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.ledger.writer_process", str(path), str(marker), *mode], cwd=REPO
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(f"writer process exited early with {process.returncode}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("writer process did not reach its marker within 60 s")
        time.sleep(0.01)
    return process


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL


def seed_old(path: Path, old: CostResult) -> dict[str, pl.DataFrame]:
    with Ledger.open(path) as ledger:
        ledger.write(old, clusters=CLUSTERS, start=OLD_START, end=OLD_END, run=RunInfo(source="old"))
        return snapshot(ledger)


def fingerprints(frame: pl.DataFrame) -> pl.DataFrame:
    """Per (cluster, hour): row count and an order-independent digest of the rows' scalar values."""
    scalars = [c for c, t in frame.schema.items() if not isinstance(t, pl.List)]
    digest = frame.select(scalars).hash_rows(seed=1) % 1_000_000_007
    return (
        frame.select("cluster", "hour")
        .with_columns(digest=digest.cast(pl.Int64))
        .group_by("cluster", "hour")
        .agg(rows=pl.len(), digest=pl.col("digest").sum())
    )


def expected_after(old: CostResult, new: CostResult, table: str) -> pl.DataFrame:
    """``table`` of ``old`` with the hours ``new`` covers replaced by ``new``."""
    covered = new.allocations.select("cluster", "hour").unique()
    before: pl.DataFrame = getattr(old, table)
    replacement: pl.DataFrame = getattr(new, table)
    return pl.concat([before.join(covered, on=["cluster", "hour"], how="anti"), replacement])


@pytest.mark.parametrize(
    "step", ["delete:allocations", "insert:assets", "rollup:allocations_daily", "insert:hour_coverage", "commit"]
)
def test_killed_inside_the_write_leaves_the_old_rows(ledger_path: Path, tmp_path: Path, step: str) -> None:
    results = candidates()
    before = seed_old(ledger_path, results["old"])
    kill(start_writer(ledger_path, tmp_path / "marker", "stop-at", step))
    with Ledger.open(ledger_path) as ledger:
        assert ledger.generation == 1
        after = snapshot(ledger)
        assert ledger.runs().height == len(CLUSTERS)
        assert_rollup_fresh(ledger)
    for table in COST_SCHEMAS:
        assert_frame_equal(after[table], before[table])


def test_killed_after_the_write_keeps_the_new_rows(ledger_path: Path, tmp_path: Path) -> None:
    results = candidates()
    seed_old(ledger_path, results["old"])
    kill(start_writer(ledger_path, tmp_path / "marker", "stop-at", "after"))
    with Ledger.open(ledger_path) as ledger:
        assert ledger.generation == 2
        assert_rollup_fresh(ledger)
        for table in FACTS:
            expected = expected_after(results["old"], results["new"], table)
            assert_frame_equal(ledger.fetch(f"SELECT * FROM {table} ORDER BY ALL"), in_order(expected))


@pytest.mark.parametrize("delay", [0.2, 0.9])
def test_killed_at_any_moment_every_hour_is_whole(ledger_path: Path, tmp_path: Path, delay: float) -> None:
    results = candidates()
    seed_old(ledger_path, results["old"])
    writer = start_writer(ledger_path, tmp_path / "marker", "loop")
    time.sleep(delay)
    kill(writer)
    with Ledger.open(ledger_path) as ledger:
        generation = ledger.generation
        assert_rollup_fresh(ledger)
        stored = {table: fingerprints(ledger.fetch(f"SELECT * FROM {table}")) for table in FACTS}
    matches: dict[str, pl.DataFrame] = {}
    for table in FACTS:
        versions = [
            fingerprints(getattr(results["old"], table)).with_columns(version=pl.lit("old")),
            *(
                fingerprints(getattr(results[name], table)).with_columns(version=pl.lit(name))
                for name in ("new", "other")
            ),
        ]
        matched = stored[table].join(pl.concat(versions), on=["cluster", "hour", "rows", "digest"], how="left")
        assert matched.get_column("version").null_count() == 0, f"{table} has a partial hour"
        assert matched.height == stored[table].height, f"{table}: candidates are not told apart"
        matches[table] = matched.select("cluster", "hour", "version").sort("cluster", "hour")
    for table in FACTS[1:]:
        assert_frame_equal(matches[table], matches["allocations"])
    latest = set(matches["allocations"].filter(pl.col("hour") >= results["new"].allocations["hour"].min())["version"])
    assert len(latest) == 1
    assert latest == ({"old"} if generation == 1 else {"new"} if generation % 2 == 0 else {"other"})

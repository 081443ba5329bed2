"""Publication: atomic per partition, idempotent, and a reconciled day replaces only its own partitions."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from kubetally.focus.reconcile import reconcile_bill
from kubetally.ledger import Ledger
from kubetally.ledger.fleet import FleetLedger, read_manifests
from kubetally.ledger.fleet_layout import MANIFEST
from kubetally.ledger.publish import publish
from tests.fleet.conftest import CLUSTERS, NOW, publish_all

KILL_AT = 7
"""The publication is killed after this many data files are in place, before their manifest is written."""

_WRITER = """
import sys, time
from datetime import datetime
from pathlib import Path
from kubetally.ledger import Ledger
from kubetally.ledger.publish import publish

ledger_path, fleet, marker, kill_at, now = sys.argv[1:]
seen = []

def hook(step):
    if step.startswith("data:"):
        seen.append(step)
        if len(seen) == int(kill_at):
            Path(marker).write_text(step.removeprefix("data:"))
            time.sleep(600)

with Ledger.open(ledger_path, read_only=True) as ledger:
    publish(ledger, fleet, now=datetime.fromisoformat(now), hook=hook)
"""


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``root`` with its size and modification time."""
    return {
        str(path.relative_to(root)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def assert_one_file_per_partition(root: Path) -> None:
    """Every partition directory (``<table>/cluster=*/date=*``) holds its manifest and exactly one data file."""
    partitions = sorted(root.glob("*/cluster=*/date=*"))
    assert partitions
    for partition in partitions:
        names = sorted(path.name for path in partition.iterdir() if path.name != MANIFEST)
        assert (partition / MANIFEST).is_file() and len(names) == 1 and names[0].startswith("part-"), partition


def visible(fleet: Path) -> dict[str, str]:
    return {m.directory: m.sha256 for m in read_manifests(str(fleet))}


def test_a_killed_publication_leaves_no_half_written_partition_and_the_next_run_completes_it(
    ledgers: dict[str, Path], fleet: Path, tmp_path: Path
) -> None:
    target = tmp_path / "fleet"
    marker = tmp_path / "killed-at"
    first = ledgers[CLUSTERS[0]]
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(first), str(target), str(marker), str(KILL_AT), NOW.isoformat()],
        cwd=Path(__file__).parents[2],
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert writer.poll() is None, "the publication ended before it was killed"
            assert time.monotonic() < deadline, "the publication never reached the kill point"
            time.sleep(0.05)
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait()
    half = marker.read_text()
    assert list((target / half).glob("part-*.parquet")), "the killed partition's data file is in place"
    assert not (target / half / MANIFEST).exists()
    seen = visible(target)
    assert len(seen) == KILL_AT - 1 and half not in seen
    with FleetLedger(str(target)) as store:
        assert store.fetch("SELECT count(*) AS n FROM allocations").item() > 0
    publish_all(ledgers, target)
    assert visible(target) == visible(fleet)
    assert not [p for p in target.rglob("*") if p.is_file() and p.name.startswith(".tmp-")]
    assert_one_file_per_partition(target)
    with Ledger.open(first, read_only=True) as ledger:
        assert publish(ledger, str(target), now=NOW).bytes_written == 0


def test_republishing_an_unchanged_ledger_writes_zero_bytes(ledgers: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "fleet"
    publish_all(ledgers, target)
    before = snapshot(target)
    for path in ledgers.values():
        with Ledger.open(path, read_only=True) as ledger:
            report = publish(ledger, str(target), now=NOW)
        assert report.bytes_written == 0 and report.partitions_written == 0 and report.partitions_unchanged > 0
    assert snapshot(target) == before
    assert_one_file_per_partition(target)


def test_a_reconciled_day_replaces_only_its_own_partitions(ledgers: dict[str, Path], tmp_path: Path) -> None:
    target = tmp_path / "fleet"
    copies = {name: shutil.copyfile(path, tmp_path / path.name) for name, path in ledgers.items()}
    publish_all(copies, target)
    before = snapshot(target)
    day = datetime(2026, 3, 2, tzinfo=UTC)
    with Ledger.open(copies[CLUSTERS[0]]) as ledger:
        bill = ledger.fetch(
            'SELECT * FROM cloud_costs WHERE "ChargePeriodStart" >= ? AND "ChargePeriodEnd" <= ?',
            [day, datetime(2026, 3, 3, tzinfo=UTC)],
        )
        assert bill.height > 0
        raised = bill.with_columns(pl.col("EffectiveCost") * 1.25, pl.col("BilledCost") * 1.25)
        ledger.upsert_cloud_costs(raised)
        reconcile_bill(ledger, raised)
        report = publish(ledger, str(target), now=NOW)
    after = snapshot(target)
    changed = {path for path in after if before.get(path) != after[path]} | (before.keys() - after.keys())
    assert report.partitions_written > 0
    # cloud_sources records when the corrected bill rows were upserted (today): its partition changes too.
    partitions = {str(Path(path).parent) for path in changed if not path.startswith("cloud_sources/")}
    assert {tuple(p.split("/")[1:]) for p in partitions} == {(f"cluster={CLUSTERS[0]}", "date=2026-03-02")}
    tables = {p.split("/")[0] for p in partitions}
    assert {"allocations", "assets", "cloud_costs"} <= tables
    assert report.partitions_written == len(partitions) + 1
    assert_one_file_per_partition(target)

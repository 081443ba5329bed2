"""``kubetally publish``: write the ledger's closed hours to a fleet dataset (Parquet, one file per day)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console

from kubetally.cli.options import Db, now, open_ledger
from kubetally.errors import KubetallyError
from kubetally.ledger import Ledger
from kubetally.ledger.publish import PublishReport, publish

LOG = logging.getLogger(__name__)

To = Annotated[
    str,
    typer.Option("--to", help="The fleet location: a local or mounted directory, or s3://bucket/prefix."),
]
Engine = Annotated[
    str,
    typer.Option("--engine", help="The fleet engine: duckdb (in process) or spark.", envvar="KUBETALLY_FLEET_ENGINE"),
]
SparkMaster = Annotated[
    str,
    typer.Option(
        "--spark-master",
        help="Spark master URL for --engine spark (local[2], spark://host:7077).",
        envvar="KUBETALLY_SPARK_MASTER",
    ),
]


def summary(report: PublishReport) -> str:
    """One line: partitions written and unchanged, rows and bytes written."""
    mib = report.bytes_written / 2**20
    return (
        f"{report.partitions_written} partitions written ({report.rows_written:,} rows, {mib:,.2f} MiB), "
        f"{report.partitions_unchanged} unchanged"
    )


def publish_command(
    db: Db,
    to: To,
    cluster: Annotated[
        str | None,
        typer.Option("--cluster", help="Cluster name for the cloud bill tables (default: the ledger's cluster)."),
    ] = None,
) -> None:
    """Publish the ledger's closed hours to a fleet: Parquet per table, cluster and UTC day, with manifests.

    Re-publishing an unchanged day writes nothing; a changed day replaces only its own partition.

    Examples:

      kubetally publish --db kubetally.duckdb --to /mnt/fleet

      kubetally publish --db kubetally.duckdb --to s3://costs/fleet
    """
    with open_ledger(db, read_only=True) as ledger:
        report = publish(ledger, to, now=now(), cluster=cluster)
    Console().print(f"Published to {to}: {summary(report)}", highlight=False)


class PublishLoop:
    """Publishes ``ledger`` to ``uri`` every ``interval_seconds`` in a daemon thread (``serve --publish-to``).

    Publication writes only changed partitions, so publishing on every interval publishes each hour once it
    closes and costs a read of the ledger otherwise."""

    def __init__(self, ledger: Ledger, uri: str, interval_seconds: float, clock: Callable[[], datetime]) -> None:
        self._ledger, self._uri, self._interval, self._clock = ledger, uri, interval_seconds, clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kubetally-publish", daemon=True)
        self.last_error: str | None = None
        self.publications = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                report = publish(self._ledger, self._uri, now=self._clock())
                self.publications += 1
                self.last_error = None
                if report.partitions_written:
                    LOG.info("published to %s: %s", self._uri, summary(report))
            except KubetallyError as exc:
                self.last_error = exc.message
                LOG.warning("publication to %s failed: %s", self._uri, exc.message)
            self._stop.wait(self._interval)

"""``kubetally publish``: write the ledger's closed hours to a fleet dataset (Parquet, one file per day)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from kubetally.cli.options import Db, now, open_ledger
from kubetally.ledger.publish import PublishReport, publish

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

"""``kubetally cloud-costs``: cloud bill costs from the ledger, as OpenCost's ``/cloudCost``.

Flags are translated to the OpenCost parameter names and parsed by the query layer, so the CLI and the HTTP API
accept exactly the same values and report exactly the same errors.
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from kubetally.cli.options import Fleet, OptionalDb, now, open_reader
from kubetally.cli.render import print_tables
from kubetally.ledger.fleet import for_window
from kubetally.query.cloud import cloud_cost_range
from kubetally.query.cloud_params import CloudCostQuery, CostMetric


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


CSV_COLUMNS = ("start", "end", "name", *(metric.value for metric in CostMetric), "kubernetesPercent")
"""Columns of ``--format csv``: one line per set and item; ``kubernetesPercent`` is that of ``--cost-metric``."""

_TABLE_METRICS = (
    ("List", CostMetric.LIST_COST),
    ("Net", CostMetric.NET_COST),
    ("Amortized net", CostMetric.AMORTIZED_NET_COST),
)


def cloud_costs_command(
    window: Annotated[str, typer.Option("--window", help="e.g. 7d, lastmonth, RFC3339 pair.")],
    aggregate: Annotated[
        str, typer.Option("--aggregate", help="e.g. service, accountID,service, label:team. Default: per resource.")
    ] = "",
    filter_: Annotated[str, typer.Option("--filter", help='Filter v2, e.g. service:"Amazon S3".')] = "",
    accumulate: Annotated[
        str,
        typer.Option(
            "--accumulate",
            help="true/all (one set for the window, the default here), false (one set per day, /cloudCost's "
            "default), hour, day, week, month.",
        ),
    ] = "true",
    cost_metric: Annotated[
        str,
        typer.Option(
            "--cost-metric", help="ListCost, NetCost, AmortizedNetCost, InvoicedCost, AmortizedCost (sort, K8s %)."
        ),
    ] = "AmortizedNetCost",
    output: Annotated[
        Format, typer.Option("--format", "--output", "-o", help="table, json (OpenCost's data) or csv.")
    ] = Format.table,
    db: OptionalDb = None,
    fleet: Fleet = None,
) -> None:
    """Cloud bill costs (FOCUS rows in the ledger) aggregated and filtered as OpenCost's /cloudCost.

    Examples:

      kubetally cloud-costs --db costs.duckdb --window 7d --aggregate service

      kubetally cloud-costs --db costs.duckdb --window 7d --aggregate provider --accumulate day

      kubetally cloud-costs --db costs.duckdb --window lastmonth --aggregate label:team --format csv
    """
    params = {
        "window": window,
        "aggregate": aggregate,
        "filter": filter_,
        "accumulate": accumulate,
        "costMetric": cost_metric,
    }
    query = CloudCostQuery.from_params({k: v for k, v in params.items() if v != ""}, now())
    with open_reader(db, fleet) as ledger:
        data = cloud_cost_range(for_window(ledger, query.window.start, query.window.end), query)
    if output is Format.json:
        typer.echo(json.dumps(data, indent=2))
    elif output is Format.csv:
        typer.echo(cloud_csv(data, query.cost_metric), nl=False)
    else:
        print_tables(Console(), cloud_tables(data, query.cost_metric))


def _ordered(cloud_set: dict[str, Any], metric: CostMetric) -> list[tuple[str, dict[str, Any]]]:
    return sorted(cloud_set["cloudCosts"].items(), key=lambda kv: (-kv[1][metric.value]["cost"], kv[0]))


def cloud_csv(data: dict[str, Any], metric: CostMetric) -> str:
    """One CSV line per set and item (:data:`CSV_COLUMNS`), items by descending ``metric``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for cloud_set in data["sets"]:
        for name, item in _ordered(cloud_set, metric):
            costs = [item[m.value]["cost"] for m in CostMetric]
            percent = item[metric.value]["kubernetesPercent"]
            writer.writerow([cloud_set["window"]["start"], cloud_set["window"]["end"], name, *costs, percent])
    return out.getvalue()


def cloud_tables(data: dict[str, Any], metric: CostMetric) -> list[Table]:
    """One rich table per set holding bill rows (one empty table when none does): list, net and amortized net
    cost, and the Kubernetes share of ``metric``."""
    tables = []
    sets = [s for s in data["sets"] if s["cloudCosts"]] or data["sets"][:1]
    for cloud_set in sets:
        items = _ordered(cloud_set, metric)
        window = cloud_set["window"]
        table = Table(title=f"{window['start']} → {window['end']}", title_justify="left", show_footer=True)
        table.add_column(
            "Name", footer="Total", no_wrap=True, min_width=min(48, max((len(n) for n, _ in items), default=4))
        )
        for header, column_metric in _TABLE_METRICS:
            total = sum(item[column_metric.value]["cost"] for _, item in items)
            table.add_column(header, justify="right", footer=f"{total:,.2f}")
        cost = sum(item[metric.value]["cost"] for _, item in items)
        kubernetes = sum(item[metric.value]["cost"] * item[metric.value]["kubernetesPercent"] for _, item in items)
        table.add_column("K8s %", justify="right", footer=f"{kubernetes / cost:.0%}" if cost else "—")
        for name, item in items:
            table.add_row(
                name,
                *(f"{item[m.value]['cost']:,.2f}" for _, m in _TABLE_METRICS),
                f"{item[metric.value]['kubernetesPercent']:.0%}",
            )
        tables.append(table)
    return tables

"""The ledger's tables: the single source of truth for their columns, types, keys and sort order.

Fact tables (``allocations``, ``allocation_pvs``, ``allocation_lbs``, ``assets``) and the ``pods`` dimension take
their columns from :mod:`kubetally.costs`, so the engine's output and the ledger cannot drift apart. The DDL is
generated from these schemas. Maps (labels, annotations) become ``MAP(VARCHAR, VARCHAR)``.

Fast hour-range scans come from DuckDB's per-row-group min/max zone maps: every write inserts its rows sorted by
``(hour, cluster)``, so a window query reads only the row groups whose hour range overlaps it. ART indexes would
slow writes and do not help range scans, so there are none on the fact tables.

``hour_coverage`` records, per cluster and hour bucket, which write last replaced it (``generation``), so that
coverage is known even for hours without rows and caches can be invalidated per hour.

``allocations_daily`` is a per-day rollup of ``allocations`` (:data:`ROLLUP`), derived column by column from the
hourly schema and kept equal to a fresh aggregation of the hourly rows by every write; long windows read whole
days from it (24 times fewer rows) and only their partial-day edges from ``allocations``.

``ledger_meta`` holds the schema version (:data:`SCHEMA_VERSION`) and the write ``generation`` counter.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from kubetally.costs import COST_SCHEMAS
from kubetally.domain.names import CRONJOB_JOB_NAME
from kubetally.errors import LedgerError
from kubetally.history import STRING_MAP, TIME

CLOUD_COSTS = pl.Schema(
    {
        "BillingAccountId": pl.String(),
        "BillingAccountName": pl.String(),
        "BillingAccountType": pl.String(),
        "SubAccountId": pl.String(),
        "SubAccountName": pl.String(),
        "SubAccountType": pl.String(),
        "InvoiceId": pl.String(),
        "BillingPeriodStart": TIME,
        "BillingPeriodEnd": TIME,
        "ChargePeriodStart": TIME,
        "ChargePeriodEnd": TIME,
        "ChargeCategory": pl.String(),
        "ChargeClass": pl.String(),
        "ChargeFrequency": pl.String(),
        "ChargeDescription": pl.String(),
        "ProviderName": pl.String(),
        "PublisherName": pl.String(),
        "InvoiceIssuerName": pl.String(),
        "ServiceProviderName": pl.String(),
        "HostProviderName": pl.String(),
        "RegionId": pl.String(),
        "RegionName": pl.String(),
        "AvailabilityZone": pl.String(),
        "ResourceId": pl.String(),
        "ResourceName": pl.String(),
        "ResourceType": pl.String(),
        "ServiceCategory": pl.String(),
        "ServiceSubcategory": pl.String(),
        "ServiceName": pl.String(),
        "SkuId": pl.String(),
        "SkuPriceId": pl.String(),
        "SkuMeter": pl.String(),
        "PricingCategory": pl.String(),
        "PricingUnit": pl.String(),
        "PricingQuantity": pl.Float64(),
        "ConsumedUnit": pl.String(),
        "ConsumedQuantity": pl.Float64(),
        "ListUnitPrice": pl.Float64(),
        "ContractedUnitPrice": pl.Float64(),
        "ListCost": pl.Float64(),
        "ContractedCost": pl.Float64(),
        "EffectiveCost": pl.Float64(),
        "BilledCost": pl.Float64(),
        "BillingCurrency": pl.String(),
        "CommitmentDiscountId": pl.String(),
        "CommitmentDiscountName": pl.String(),
        "CommitmentDiscountCategory": pl.String(),
        "CommitmentDiscountType": pl.String(),
        "CapacityReservationId": pl.String(),
        "Tags": STRING_MAP,
        "source": pl.String(),
    }
)
"""FOCUS cost rows (the 1.0–1.3 columns worth keeping); ``source`` names the endpoint or file the rows came from.

Keyed by the whole bill line (:data:`CLOUD_COST_LINE_KEY`); 1.3's ``ServiceProviderName`` fills ``ProviderName``
when a file has no ``ProviderName``."""

CLOUD_COST_MEASURES: tuple[str, ...] = (
    "PricingQuantity",
    "ConsumedQuantity",
    "ListUnitPrice",
    "ContractedUnitPrice",
    "ListCost",
    "ContractedCost",
    "EffectiveCost",
    "BilledCost",
)
"""The amounts of a bill line: the ``cloud_costs`` columns that are not part of its identity."""

CLOUD_COST_LINE_KEY: tuple[str, ...] = tuple(
    name for name in CLOUD_COSTS if name not in CLOUD_COST_MEASURES and name != "source"
)
"""What identifies a bill line: every kept column but its amounts and ``source`` (provider, billing account,
periods, charge category and class, service, resource, SKU, tags, ...). Two lines of a bill that differ in any of
them are different lines, so neither a file nor two files from different providers merge them."""

CLOUD_USAGE = pl.Schema(
    {
        "ResourceId": pl.String(),
        "metricName": pl.String(),
        "timestamp": TIME,
        "average": pl.Float64(),
        "unit": pl.String(),
        "source": pl.String(),
    }
)
"""Usage metrics of cloud resources (Krateo ``metricType: resource``), joined to ``cloud_costs`` on ``ResourceId``."""

CLOUD_SOURCES = pl.Schema(
    {
        "source": pl.String(),
        "table_name": pl.String(),
        "last_ingest": TIME,
        "rows": pl.Int64(),
    }
)
"""Per source (file, URL or Krateo table name) and cloud table: when rows were last upserted, and how many rows
that write held."""

INGEST_RUNS = pl.Schema(
    {
        "run_id": pl.String(),
        "generation": pl.Int64(),
        "cluster": pl.String(),
        "start": TIME,
        "end": TIME,
        "source": pl.String(),
        "started_at": TIME,
        "finished_at": TIME,
        "status": pl.String(),
        "hours_written": pl.Int64(),
        "rows": pl.Int64(),
        "warnings": pl.String(),
    }
)
"""One row per cluster and write; ``warnings`` is a JSON array of strings; ``generation`` increases per write."""

BILL_ACCEPTANCES = pl.Schema(
    {
        "cluster": pl.String(),
        "type": pl.String(),
        "name": pl.String(),
        "start": TIME,
        "end": TIME,
        "basis": pl.String(),
        "bill": pl.Float64(),
        "accepted_at": TIME,
    }
)
"""Reconciliations beyond the plausibility bound that a person accepted (``kubetally reconcile --accept``): per
asset, reconciled range and basis, the bill amount accepted."""

LEDGER_META = pl.Schema({"key": pl.String(), "value": pl.String()})
"""Key/value facts about the ledger file itself: ``schema_version`` and ``generation``."""

SCHEMA_VERSION = 6
"""The version of the table layout below. An older ledger is migrated when opened for writing
(:func:`kubetally.ledger.opening.migrate`): missing tables are created and missing columns added (numeric
columns of the fact and rollup tables as 0, others null); a version-1 ledger also gets its ``allocations_daily``
built from its hourly rows. Version 2 lacked the bill adjustment columns and the cloud tables' newer columns; version 3
lacked ``bill_acceptances``; version 4 spelled controller kinds as Kubernetes does (``Deployment``, a CronJob's pods
under ``CronJob``) and lacked ``pods.cronjob``; version 5 lacked ``running_start``/``running_end`` (its hourly
rows keep them null, which readers take as the bucket's bounds, and its rollup rows get their days' first and last
bucket bounds). A newer version is refused."""


def version_4_controllers_sql(cronjob: str = "NULL") -> dict[str, str]:
    """SQL expressions over a version-4 ``pods`` row giving its version-5 ``controller_kind``, ``controller`` and
    ``cronjob`` (OpenCost's naming, docs/query-language.md "Controllers"): kinds in lower case, a CronJob's pods
    under kind ``job`` with the CronJob kept in ``cronjob`` (its name is its Jobs' name without the timestamp), a
    Job's name without its timestamp. ``cronjob`` is the value a row that is not a CronJob's keeps.
    ``regexp_extract`` reads the same in DuckDB and Spark SQL."""
    stripped = f"regexp_extract(controller, '{CRONJOB_JOB_NAME}', 1)"
    return {
        "controller_kind": "CASE WHEN controller_kind IN ('Job', 'CronJob') THEN 'job' ELSE lower(controller_kind) END",
        "controller": f"CASE WHEN controller_kind = 'Job' AND {stripped} <> '' THEN {stripped} ELSE controller END",
        "cronjob": f"CASE WHEN controller_kind = 'CronJob' THEN controller ELSE {cronjob} END",
    }


HOUR_COVERAGE = pl.Schema(
    {"cluster": pl.String(), "hour": TIME, "generation": pl.Int64(), "run_id": pl.String()},
)
"""One row per cluster and hour bucket that a write covered (with or without rows)."""


@dataclass(frozen=True)
class TableSpec:
    """A ledger table: its columns, the key a write replaces by, and the order rows are inserted in."""

    name: str
    schema: pl.Schema
    key: tuple[str, ...]
    """Columns identifying the rows a write replaces: ``(cluster, hour)`` for facts, ``(cluster, pod_uid)`` for pods."""
    sort: tuple[str, ...]
    """Insertion order, so that zone maps prune hour-range scans."""
    fact: bool
    """A fact table has an ``hour`` column and is replaced hour by hour."""


_FACT_SORT = ("hour", "cluster")


@dataclass(frozen=True)
class RollupColumn:
    """One column of the daily rollup: its type and the SQL aggregating it over a group of hourly rows."""

    name: str
    dtype: pl.DataType
    expression: str
    """SQL over the hourly ``allocations`` columns (an aggregate, or a key expression)."""
    key: bool
    """Part of the group key (the row identity columns and ``day``)."""


AVERAGE_SUFFIX = "_average"


def product_column(average: str) -> str:
    """The rollup column holding Σ ``average`` x ``running_minutes`` for an hourly ``*_average`` column.

    ``cpu_core_request_average`` → ``cpu_core_request_minutes`` (core-minutes; bytes x minutes for RAM).
    """
    return average.removesuffix(AVERAGE_SUFFIX) + "_minutes"


RUNNING_BOUNDS: dict[str, str] = {
    "running_start": "coalesce(running_start, hour)",
    "running_end": "coalesce(running_end, hour + INTERVAL 1 HOUR)",
}
"""The first and last charged instant of an hourly ``allocations`` row in SQL: the stored value, or the bucket's
bounds for a row that has none (unmounted rows, rows written before schema version 5)."""


def _rollup_columns(hourly: pl.Schema) -> tuple[RollupColumn, ...]:
    """The rollup of ``hourly`` by UTC day: strings are keys, ``hour`` becomes ``day`` (the start of its UTC day)
    plus ``first_hour``/``last_hour``, ``running_start``/``running_end`` are the day's first and last charged
    instants (:data:`RUNNING_BOUNDS`), ``*_max`` are max'ed, ``*_average`` become their minute-weighted sums
    (:func:`product_column`, so that Σ average x running minutes is exact), other numbers are summed and
    ``price_source`` is the smallest one of the day."""
    columns: list[RollupColumn] = []
    for name, dtype in hourly.items():
        if name == "running_start":
            columns.append(RollupColumn(name, dtype, f"min({RUNNING_BOUNDS[name]})", False))
        elif name == "running_end":
            columns.append(RollupColumn(name, dtype, f"max({RUNNING_BOUNDS[name]})", False))
        elif name == "hour":
            columns.append(RollupColumn("day", dtype, "date_trunc('day', hour)", True))
            columns.append(RollupColumn("first_hour", dtype, "min(hour)", False))
            columns.append(RollupColumn("last_hour", dtype, "max(hour)", False))
        elif name == "price_source":
            columns.append(RollupColumn(name, dtype, f"min({name})", False))
        elif dtype == pl.String():
            columns.append(RollupColumn(name, dtype, name, True))
        elif name.endswith("_max"):
            columns.append(RollupColumn(name, dtype, f"max({name})", False))
        elif name.endswith(AVERAGE_SUFFIX):
            columns.append(RollupColumn(product_column(name), dtype, f"sum({name} * running_minutes)", False))
        elif dtype == pl.Float64():
            columns.append(RollupColumn(name, dtype, f"sum({name})", False))
        else:
            raise LedgerError(f"allocations column {name} of type {dtype} has no rollup rule")
    return tuple(columns)


ROLLUP_COLUMNS: tuple[RollupColumn, ...] = _rollup_columns(COST_SCHEMAS["allocations"])
"""The columns of ``allocations_daily``, in order."""

ROLLUP = "allocations_daily"
"""The per-day rollup of ``allocations``: one row per ``(cluster, day, kind, node, namespace, pod, pod_uid,
container)``."""

TABLES: dict[str, TableSpec] = {
    "allocations": TableSpec("allocations", COST_SCHEMAS["allocations"], ("cluster", "hour"), _FACT_SORT, True),
    "allocation_pvs": TableSpec(
        "allocation_pvs", COST_SCHEMAS["allocation_pvs"], ("cluster", "hour"), _FACT_SORT, True
    ),
    "allocation_lbs": TableSpec(
        "allocation_lbs", COST_SCHEMAS["allocation_lbs"], ("cluster", "hour"), _FACT_SORT, True
    ),
    "assets": TableSpec("assets", COST_SCHEMAS["assets"], ("cluster", "hour"), _FACT_SORT, True),
    "pods": TableSpec("pods", COST_SCHEMAS["pods"], ("cluster", "pod_uid"), ("cluster", "pod_uid"), False),
    "cloud_costs": TableSpec("cloud_costs", CLOUD_COSTS, CLOUD_COST_LINE_KEY, ("ChargePeriodStart",), False),
    "cloud_usage": TableSpec(
        "cloud_usage", CLOUD_USAGE, ("ResourceId", "metricName", "timestamp"), ("timestamp",), False
    ),
    "cloud_sources": TableSpec(
        "cloud_sources", CLOUD_SOURCES, ("source", "table_name"), ("source", "table_name"), False
    ),
    "ingest_runs": TableSpec("ingest_runs", INGEST_RUNS, ("run_id", "cluster"), ("generation",), False),
    "hour_coverage": TableSpec("hour_coverage", HOUR_COVERAGE, ("cluster", "hour"), _FACT_SORT, False),
    "bill_acceptances": TableSpec(
        "bill_acceptances",
        BILL_ACCEPTANCES,
        ("cluster", "type", "name", "start", "end", "basis"),
        ("start", "cluster"),
        False,
    ),
    "ledger_meta": TableSpec("ledger_meta", LEDGER_META, ("key",), ("key",), False),
    ROLLUP: TableSpec(
        ROLLUP, pl.Schema({c.name: c.dtype for c in ROLLUP_COLUMNS}), ("cluster", "day"), ("day", "cluster"), False
    ),
}
"""Every ledger table, by name."""

FACT_TABLES: tuple[str, ...] = tuple(name for name, spec in TABLES.items() if spec.fact)
"""The tables a write replaces by ``(cluster, hour)``."""

_SCALAR_TYPES: dict[pl.DataType, str] = {
    pl.String(): "VARCHAR",
    pl.Float64(): "DOUBLE",
    pl.Int64(): "BIGINT",
    pl.Boolean(): "BOOLEAN",
    TIME: "TIMESTAMPTZ",
    STRING_MAP: "MAP(VARCHAR, VARCHAR)",
    pl.List(pl.String): "VARCHAR[]",
}


def sql_type(dtype: pl.DataType) -> str:
    """The DuckDB column type storing a Polars column of ``dtype``."""
    for known, name in _SCALAR_TYPES.items():
        if dtype == known:
            return name
    raise LedgerError(f"no ledger column type for Polars type {dtype}")


def quote_identifier(name: str) -> str:
    """A double-quoted SQL identifier (FOCUS column names are mixed case)."""
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(spec: TableSpec) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for one table (no keys or indexes: writes replace by key themselves)."""
    columns = [f"{quote_identifier(c)} {sql_type(t)}" for c, t in spec.schema.items()]
    return f"CREATE TABLE IF NOT EXISTS {spec.name} (\n  " + ",\n  ".join(columns) + "\n)"


def ddl() -> list[str]:
    """Every statement creating the ledger schema (idempotent)."""
    return [create_table_sql(spec) for spec in TABLES.values()]


def insert_select_sql(spec: TableSpec, source: str) -> str:
    """``INSERT INTO table SELECT ... FROM source ORDER BY sort`` converting Arrow maps to DuckDB maps.

    ``source`` is the name of a registered Arrow table with ``spec.schema``'s columns.
    """
    selected = []
    for column, dtype in spec.schema.items():
        name = quote_identifier(column)
        selected.append(f"map_from_entries({name})" if dtype == STRING_MAP else name)
    order = ", ".join(quote_identifier(c) for c in spec.sort)
    columns = ", ".join(quote_identifier(c) for c in spec.schema)
    return f"INSERT INTO {spec.name} ({columns}) SELECT {', '.join(selected)} FROM {source} ORDER BY {order}"

"""The Spark fleet engine: the query layer's SQL, transpiled by sqlglot from DuckDB's dialect to Spark SQL.

Each query's parameters are bound as literals first (Spark SQL takes no ``?`` placeholders), then the statement is
transpiled and run by ``SparkSession.sql``; the result comes back through Arrow. The views are temporary views
over the manifests' files, read with the ledger table's schema given explicitly (so no job infers it from the
footers, and a file written before a column was added reads it as null). The session runs in UTC, so timestamps
mean what they mean in the ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import duckdb
import polars as pl
import sqlglot
from sqlglot import exp

from kubetally.errors import LedgerError
from kubetally.history import STRING_MAP, TIME
from kubetally.ledger.engines import TableFiles, empty_view_sql, meta_view_sql, select_list

_SPARK_TYPES: dict[pl.DataType, str] = {
    pl.String(): "STRING",
    pl.Float64(): "DOUBLE",
    pl.Int64(): "BIGINT",
    pl.Boolean(): "BOOLEAN",
    TIME: "TIMESTAMP",
    STRING_MAP: "MAP<STRING, STRING>",
    pl.List(pl.String): "ARRAY<STRING>",
}

SESSION_CONFIG: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
}
"""The session settings the engine needs (UTC, no ANSI overflow errors) plus quiet defaults; the manifests list
the files, so Spark never runs a job to list them."""

_MISSING = object()


def _literal(value: object) -> exp.Expression:
    if value is None:
        return exp.Null()
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(repr(value))
    if isinstance(value, datetime):
        text = value.astimezone().isoformat(sep=" ") if value.tzinfo is None else value.isoformat(sep=" ")
        return exp.cast(exp.Literal.string(text), exp.DataType.build("TIMESTAMPTZ"))
    if isinstance(value, list | tuple):
        return exp.Array(expressions=[_literal(v) for v in value])
    return exp.Literal.string(str(value))


def spark_schema(table: TableFiles) -> str:
    """The table's columns as a Spark DDL schema string."""
    columns = []
    for name, dtype in table.schema.items():
        spark_type = next((t for known, t in _SPARK_TYPES.items() if dtype == known), None)
        if spark_type is None:
            raise LedgerError(f"no Spark type for column {table.name}.{name} ({dtype})")
        columns.append(f"`{name.replace('`', '``')}` {spark_type}")
    return ", ".join(columns)


def to_spark(sql: str, params: Sequence[object] | Mapping[str, object] = ()) -> str:
    """``sql`` (DuckDB dialect, ``?`` or ``$name`` parameters) as one Spark SQL statement with literals bound."""
    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise LedgerError(f"fleet query cannot be transpiled to Spark: {exc}") from exc
    positional = iter(params) if not isinstance(params, Mapping) else iter(())
    named = params if isinstance(params, Mapping) else {}

    def bind(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            name = node.name
            if name and name != "?" and name in named:
                return _literal(named[name])
            value = next(positional, _MISSING)
            if value is _MISSING:
                raise LedgerError(f"fleet query has more parameters than the {len(params)} given")
            return _literal(value)
        if isinstance(node, exp.Parameter):
            return _literal(named[node.name])
        return node

    return tree.transform(bind).sql(dialect="spark")


class SparkEngine:
    """Spark SQL on the cluster at ``master`` (``local[2]``, ``local-cluster[2,1,1024]``, ``spark://host:7077``)."""

    def __init__(self, master: str, session: Any = None, config: Mapping[str, str] | None = None) -> None:
        from pyspark.sql import SparkSession  # noqa: PLC0415 (imports start nothing, but are slow)

        self._master = master
        if session is None:
            builder = SparkSession.builder.master(master).appName("kubetally-fleet")
            for key, value in {**SESSION_CONFIG, **(config or {})}.items():
                builder = builder.config(key, value)
            session = builder.getOrCreate()
        self._spark = session
        self._idle = duckdb.connect(":memory:")

    @property
    def session(self) -> Any:
        return self._spark

    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._idle

    def sibling(self) -> SparkEngine:
        return SparkEngine(self._master, self._spark.newSession())

    def define(self, tables: Mapping[str, TableFiles], revision: int) -> None:
        for table in tables.values():
            if table.files:
                frame = self._spark.read.schema(spark_schema(table)).parquet(*table.files)
                frame = frame.selectExpr(*[to_spark(c) for c in select_list(table, revision)])
            else:
                frame = self._spark.sql(to_spark(empty_view_sql(table, revision)))
            frame.createOrReplaceTempView(table.name)
        self._spark.sql(to_spark(meta_view_sql(revision))).createOrReplaceTempView("ledger_meta")

    def fetch(self, sql: str, params: Sequence[object] | Mapping[str, object]) -> pl.DataFrame:
        text = to_spark(sql, params)
        try:
            arrow = self._spark.sql(text).toArrow()
        except Exception as exc:  # py4j and pyspark raise many classes; all mean the query failed
            raise LedgerError(f"fleet query failed on Spark: {exc}\n{text}") from exc
        frame = pl.from_arrow(arrow)
        assert isinstance(frame, pl.DataFrame)
        converted = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Datetime):
                converted.append(pl.col(name).dt.convert_time_zone("UTC").dt.cast_time_unit("us"))
            elif isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
                converted.append(pl.col(name).cast(STRING_MAP))
        return frame.with_columns(converted) if converted else frame

    def close(self) -> None:
        self._idle.close()


__all__ = ["SESSION_CONFIG", "SparkEngine", "spark_schema", "to_spark"]

"""Usage metrics of cloud resources (Krateo ``metricType: resource``): Azure-Monitor-style JSON to ledger rows.

The endpoint answers ``{"value": [{"name": {"value": "Percentage CPU"}, "unit": "Percent", "timeseries":
[{"data": [{"timeStamp": "2026-11-01T00:00:00Z", "average": 3.5}, ...]}]}]}``. Each data point becomes one row
``ResourceId, metricName, timestamp, average, unit, source`` (:data:`kubetally.ledger.schema.CLOUD_USAGE`); the
ResourceId is the endpoint's ``additionalVariables.ResourceId``. Points without ``average`` (Azure's "no data")
are dropped; several timeseries of one metric (dimension splits) that share a timestamp are averaged so that the
key ``(ResourceId, metricName, timestamp)`` stays unique.
"""

from __future__ import annotations

import io

import polars as pl
from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from kubetally.errors import InvalidInput
from kubetally.ledger.schema import CLOUD_USAGE


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Point(_Loose):
    timeStamp: AwareDatetime  # noqa: N815 - Azure's field name
    average: float | None = None


class _Series(_Loose):
    data: list[_Point]


class _Name(_Loose):
    value: str


class _Metric(_Loose):
    name: _Name
    unit: str | None = None
    timeseries: list[_Series]


class _Response(_Loose):
    value: list[_Metric]


_RAW_SCHEMA = pl.Schema(
    {
        "value": pl.List(
            pl.Struct(
                {
                    "name": pl.Struct({"value": pl.String()}),
                    "unit": pl.String(),
                    "timeseries": pl.List(
                        pl.Struct({"data": pl.List(pl.Struct({"timeStamp": pl.String(), "average": pl.Float64()}))})
                    ),
                }
            )
        )
    }
)


def json_path(location: tuple[int | str, ...]) -> str:
    """A pydantic error location as a JSON path: ``$.value[0].timeseries[2].data[5].timeStamp``."""
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in location)


def read_usage(data: bytes, *, name: str, resource_id: str, source: str) -> pl.DataFrame:
    """The usage rows of one response (``name`` names it in messages), in :data:`CLOUD_USAGE` columns.

    Raises InvalidInput naming the JSON path of the first problems when the response is not such JSON; then
    nothing of it is used.
    """
    try:
        _Response.model_validate_json(data)
    except ValidationError as exc:
        problems = [f"{json_path(tuple(p['loc']))}: {p['msg']}" if p["loc"] else p["msg"] for p in exc.errors()[:5]]
        raise InvalidInput(f"usage metrics from {name} rejected: " + "; ".join(problems)) from exc
    raw = pl.read_json(io.BytesIO(data), schema=_RAW_SCHEMA)
    points = (
        raw.explode("value")
        .unnest("value")
        .select(pl.col("name").struct.field("value").alias("metricName"), "unit", "timeseries")
        .explode("timeseries")
        .unnest("timeseries")
        .explode("data")
        .unnest("data")
        .drop_nulls("average")
    )
    rows = (
        points.with_columns(pl.col("timeStamp").str.to_datetime(time_unit="us", time_zone="UTC").alias("timestamp"))
        .group_by("metricName", "timestamp", maintain_order=True)
        .agg(pl.col("average").mean(), pl.col("unit").first())
        .with_columns(ResourceId=pl.lit(resource_id), source=pl.lit(source))
    )
    return rows.select(pl.col(column).cast(dtype) for column, dtype in CLOUD_USAGE.items())

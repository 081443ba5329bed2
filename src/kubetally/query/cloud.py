"""Cloud bill costs from the ledger's ``cloud_costs`` table (FOCUS rows), aggregated and filtered.

Filters use the filter language v2 over the fields of :data:`CLOUD_FIELDS`; an unknown field is refused (never
dropped), so a filtered answer is always what it says. Rows are those whose ``ChargePeriodStart`` is in the window.
"""

from __future__ import annotations

from types import MappingProxyType

import polars as pl

from kubetally.domain.filter_ast import FieldKind, FieldSet, FieldSpec
from kubetally.domain.filter_parser import parse
from kubetally.domain.filter_sql import FilterColumns, compile_filter
from kubetally.domain.window import Window
from kubetally.errors import InvalidParameter
from kubetally.query.allocation import Reader

CLOUD_COLUMNS: dict[str, str] = {
    "provider": "ProviderName",
    "invoiceIssuer": "InvoiceIssuerName",
    "accountID": "BillingAccountId",
    "accountName": "BillingAccountName",
    "subAccountID": "SubAccountId",
    "subAccountName": "SubAccountName",
    "service": "ServiceName",
    "category": "ServiceCategory",
    "chargeCategory": "ChargeCategory",
    "region": "RegionId",
    "zone": "AvailabilityZone",
    "resourceType": "ResourceType",
    "providerID": "ResourceId",
    "resourceName": "ResourceName",
    "sku": "SkuId",
}
"""Cloud-cost aggregate and filter fields and the FOCUS column each reads (``label[<key>]`` reads ``Tags``)."""

CLOUD_FIELDS = FieldSet(
    "cloud cost",
    (*(FieldSpec(name, FieldKind.SCALAR) for name in CLOUD_COLUMNS), FieldSpec("label", FieldKind.MAP)),
    {},
)
_FILTER_COLUMNS = FilterColumns(
    MappingProxyType({**{name: f'c."{column}"' for name, column in CLOUD_COLUMNS.items()}, "label": 'c."Tags"'})
)
_LOWER = {name.lower(): name for name in CLOUD_COLUMNS}

EMPTY_NOTE = (
    "no cloud bill rows are in the ledger for this window: cloud costs appear once FOCUS bills are ingested "
    "(see docs/mcp.md); Kubernetes costs are answered by get_allocation_costs and get_asset_costs"
)


def _aggregate_columns(aggregate: str) -> list[str]:
    columns = []
    for part in (p.strip() for p in aggregate.split(",")):
        if not part:
            continue
        name = _LOWER.get(part.lower())
        if name is None:
            raise InvalidParameter(
                "aggregate",
                f"unknown cloud-cost aggregate {part!r}; expected a comma list of {', '.join(CLOUD_COLUMNS)}",
            )
        columns.append(CLOUD_COLUMNS[name])
    return columns


def cloud_cost_frame(reader: Reader, window: Window, aggregate: str, filter_text: str) -> pl.DataFrame:
    """``name, billed_cost, effective_cost, list_cost, currency`` per aggregate value, largest billed cost first.

    Without an aggregate, one row named ``total``. InvalidParameter / InvalidFilter for unknown fields.
    """
    columns = _aggregate_columns(aggregate)
    where = 'c."ChargePeriodStart" >= ? AND c."ChargePeriodStart" < ?'
    params: list[object] = [window.start, window.end]
    if filter_text.strip():
        fragment = compile_filter(parse(filter_text, CLOUD_FIELDS), _FILTER_COLUMNS)
        where += f" AND ({fragment.sql})"
        params.extend(fragment.params)
    name = (
        "concat_ws('/', " + ", ".join(f"coalesce(c.\"{c}\", '__unallocated__')" for c in columns) + ")"
        if columns
        else "'total'"
    )
    sql = (
        f'SELECT {name} AS name, sum(c."BilledCost") AS billed_cost, sum(c."EffectiveCost") AS effective_cost, '
        f'sum(c."ListCost") AS list_cost, coalesce(any_value(c."BillingCurrency"), \'\') AS currency '
        f"FROM cloud_costs c WHERE {where} GROUP BY 1 HAVING count(*) > 0 ORDER BY billed_cost DESC, name"
    )
    return reader.fetch(sql, params)


__all__ = ["CLOUD_COLUMNS", "CLOUD_FIELDS", "EMPTY_NOTE", "cloud_cost_frame"]

"""The fields of cloud bill rows (the ledger's ``cloud_costs`` table, FOCUS columns) that cloud cost queries
aggregate and filter by, and the OpenCost properties reported for each item.

One table, :data:`CLOUD_COLUMNS`, says which SQL expression (over the ``cloud_costs`` row alias ``c``) each field
reads; aggregation, filters, properties and error messages all use it.
"""

from __future__ import annotations

from types import MappingProxyType

from kubetally.domain.filter_ast import FieldKind, FieldSet, FieldSpec
from kubetally.domain.filter_sql import FilterColumns

CLOUD_COLUMNS: dict[str, str] = {
    "provider": 'c."ProviderName"',
    "invoiceEntityID": 'c."BillingAccountId"',
    "invoiceEntityName": 'c."BillingAccountName"',
    "accountID": 'coalesce(c."SubAccountId", c."BillingAccountId")',
    "accountName": 'coalesce(c."SubAccountName", c."BillingAccountName")',
    "subAccountID": 'c."SubAccountId"',
    "subAccountName": 'c."SubAccountName"',
    "invoiceIssuer": 'c."InvoiceIssuerName"',
    "service": 'c."ServiceName"',
    "category": 'c."ServiceCategory"',
    "chargeCategory": 'c."ChargeCategory"',
    "regionID": 'c."RegionId"',
    "region": 'c."RegionId"',
    "availabilityZone": 'c."AvailabilityZone"',
    "zone": 'c."AvailabilityZone"',
    "resourceType": 'c."ResourceType"',
    "providerID": 'c."ResourceId"',
    "resourceName": 'c."ResourceName"',
    "sku": 'c."SkuId"',
}
"""Cloud cost aggregate and filter fields and the SQL each reads (``label[<key>]`` / ``label:<key>`` read
``Tags``). ``accountID`` is the sub-account (AWS usage account, Azure subscription, GCP project) and falls back to
the billing account; ``invoiceEntityID`` is the billing account."""

ALIASES: dict[str, str] = {"region": "regionID", "zone": "availabilityZone"}
"""Fields that are other names of a field; aggregation reports the field's own name."""

CLOUD_PROPERTIES: tuple[str, ...] = tuple(CLOUD_COLUMNS)
"""Every accepted aggregate name (besides ``label:<key>``), for help and error messages."""

PROPERTY_FIELDS: tuple[str, ...] = (
    "providerID",
    "provider",
    "accountID",
    "accountName",
    "invoiceEntityID",
    "invoiceEntityName",
    "regionID",
    "availabilityZone",
    "service",
    "category",
)
"""The ``properties`` of an OpenCost cloud cost item, in order (``labels`` follows them)."""

CLOUD_FIELDS = FieldSet(
    "cloud cost",
    (*(FieldSpec(name, FieldKind.SCALAR) for name in CLOUD_COLUMNS), FieldSpec("label", FieldKind.MAP)),
    {},
)
"""The filter language v2 fields of cloud cost queries."""

FILTER_COLUMNS = FilterColumns(MappingProxyType({**CLOUD_COLUMNS, "label": 'c."Tags"'}))
"""The SQL each filter field reads over the ``cloud_costs`` alias ``c``."""

_LOWER = {name.lower(): name for name in CLOUD_COLUMNS}
_SCALE_SET = "virtualmachinescalesets"
_INSTANCES = "virtualmachines"


def canonical_field(name: str) -> str | None:
    """The field ``name`` (case-insensitive) stands for, aliases resolved; ``None`` when it is no cloud field."""
    field = _LOWER.get(name.strip().lower())
    return None if field is None else ALIASES.get(field, field)


def resource_key_sql(expression: str) -> str:
    """SQL computing :func:`kubetally.domain.provider_ids.resource_key` of a VARCHAR ``expression``: the
    lower-cased last non-empty segment when the text is cut at every ``/`` and ``:`` (``<set>/<n>`` for an Azure
    scale-set instance), NULL when there is none."""
    text = f"replace(lower(trim({expression}, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13))), ':', '/')"
    segments = f"list_filter(string_split({text}, '/'), lambda kt_segment: kt_segment <> '')"
    scale_set = f"len({segments}) >= 4 AND {segments}[-2] = '{_INSTANCES}' AND {segments}[-4] = '{_SCALE_SET}'"
    return f"CASE WHEN {scale_set} THEN {segments}[-3] || '/' || {segments}[-1] ELSE {segments}[-1] END"


__all__ = [
    "ALIASES",
    "CLOUD_COLUMNS",
    "CLOUD_FIELDS",
    "CLOUD_PROPERTIES",
    "FILTER_COLUMNS",
    "PROPERTY_FIELDS",
    "canonical_field",
    "resource_key_sql",
]

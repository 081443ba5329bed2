"""Values of each ``kubetally-<kind>`` format of the OpenAPI schema, registered with schemathesis.

The schema names the grammar of each parameter with a ``format`` (see :mod:`kubetally.api.schema`); schemathesis
cannot know these grammars, so its schema-valid (positive) cases draw their values here: accepted values written
by hand from the grammars in docs/api.md and docs/query-language.md, for the ``small`` ledger served at
``tests.api.conftest.NOW``. Schema-invalid (negative) cases still come from the declared patterns and lengths.
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

WINDOWS = (
    "today",
    "yesterday",
    "week",
    "lastweek",
    "month",
    "lastmonth",
    "3h",
    "90m",
    "1d",
    "7d",
    "2w",
    "1h offset 1h",
    "2026-01-01T00:00:00Z,2026-01-01T03:00:00Z",
    "1767225600,1767236400",
)
FORMATS: dict[str, tuple[str, ...]] = {
    "window": WINDOWS,
    "legacy-window": ("1d", "7d", "24h", "90m"),
    "duration": ("", "1h", "1d", "30m"),
    "step": ("", "1h", "2h", "hour", "day", "1d", "week"),
    "accumulate": ("", "true", "false", "all", "hour", "day", "week", "weeknow", "month", "quarter"),
    "boolean": ("", "true", "false", "1", "0", "TRUE", "no"),
    "idle": ("", "true", "false", "hide", "separate", "share"),
    "share-split": ("", "even", "weighted", "metric:cpu", "metric:network"),
    "legacy-split": ("", "even", "weighted"),
    "money": ("", "0", "730", "12.5"),
    "count": ("", "0", "5", "100"),
    "limit": ("", "0", "1", "25", "1000"),
    "cost-metric": ("", "ListCost", "netcost", "AmortizedNetCost", "InvoicedCost", "AmortizedCost"),
    "cloud-sort": ("", "cost", "name", "kubernetesPercent"),
    "order": ("", "asc", "desc"),
    "table-format": ("", "json", "csv"),
    "focus-format": ("", "csv", "parquet"),
    "granularity": ("", "hour", "day"),
    "cost-type": ("", "blended", "list", "billed"),
    "custom-sort": ("", "cost", "aggregate", "costType"),
    "basis": ("", "effective", "billed"),
    "filter": ("", 'namespace:"shop"', 'label[app]:"web"', 'cluster:"small"+namespace!:"data"'),
    "asset-filter": ("", 'type:"Node"', 'cluster:"small"'),
    "cloud-filter": ("", 'service:"Amazon S3"', 'provider:"AWS"'),
    "custom-filter": ("", 'domain:"AWS"'),
    "allocation-aggregate": ("", "namespace", "cluster,node", "label:app", "controller", "pod,container", "team"),
    "asset-aggregate": ("", "type", "assetType", "cluster", "category", "provider", "label:team"),
    "cloud-aggregate": ("", "service", "provider", "accountID", "category", "invoiceEntityID", "label:team"),
    "custom-aggregate": ("", "domain", "accountName", "zone", "resourceType"),
    "focus-aggregate": ("", "namespace", "cluster,node"),
    "names": ("", "data", "shop,data"),
    "share-labels": ("", "app:db"),
    "search": ("", "a", "shop"),
    "allocation-field": ("cluster", "namespace", "node", "controllerKind", "controllerName", "pod", "label:app"),
    "asset-field": ("cluster", "type", "assetType", "category", "providerID", "name"),
    "cloud-field": ("service", "provider", "accountID", "category", "invoiceEntityID"),
    "legacy-aggregation": ("namespace", "cluster", "deployment", "service", "pod", "node", "controller"),
    "legacy-subfield": ("",),
    "legacy-label-names": ("",),
    "legacy-label-values": ("",),
    "filter-fields": ("", "cpuused", "cpuused,ramreq"),
}


def register() -> None:
    """Register every format's values with schemathesis (idempotent)."""
    for kind, values in FORMATS.items():
        schemathesis.openapi.format(f"kubetally-{kind}", st.sampled_from(values))

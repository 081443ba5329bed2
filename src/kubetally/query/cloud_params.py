"""CloudCostQuery: OpenCost's ``/cloudCost`` (and ``/cloudCost/view/*``) parameters, decoded once.

The HTTP API, the CLI and the UI's JSON calls build their query with :meth:`CloudCostQuery.from_params` from the
same string parameters, so they accept the same values and report the same errors. Unknown parameters are ignored,
as OpenCost does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kubetally.domain.filter_ast import Filter
from kubetally.domain.window import DAY, Accumulate, Step, Window, parse_accumulate, split_window
from kubetally.errors import InvalidParameter
from kubetally.query.cloud_fields import CLOUD_FIELDS, CLOUD_PROPERTIES, canonical_field
from kubetally.query.filtering import parse_filter_param
from kubetally.query.params import check_set_count, window_param


class CostMetric(StrEnum):
    """OpenCost's cloud cost metrics; the value is the JSON field of a cloud cost item."""

    LIST_COST = "listCost"
    NET_COST = "netCost"
    AMORTIZED_NET_COST = "amortizedNetCost"
    INVOICED_COST = "invoicedCost"
    AMORTIZED_COST = "amortizedCost"

    @property
    def focus_column(self) -> str:
        """The FOCUS cost column the metric sums (see docs/cloud-costs.md, Cost metrics)."""
        return METRIC_COLUMNS[self]

    @staticmethod
    def parse(text: str | None, parameter: str = "costMetric") -> CostMetric:
        """``ListCost``, ``NetCost``, ``AmortizedNetCost`` (default), ``InvoicedCost`` or ``AmortizedCost``;
        case-insensitive."""
        cleaned = (text or "").strip().lower()
        if not cleaned:
            return CostMetric.AMORTIZED_NET_COST
        for metric in CostMetric:
            if metric.value.lower() == cleaned:
                return metric
        names = ", ".join(metric.value[0].upper() + metric.value[1:] for metric in CostMetric)
        raise InvalidParameter(parameter, f"unknown cost metric {text!r}; expected one of {names}")


METRIC_COLUMNS: dict[CostMetric, str] = {
    CostMetric.LIST_COST: "ListCost",
    CostMetric.NET_COST: "BilledCost",
    CostMetric.AMORTIZED_NET_COST: "EffectiveCost",
    CostMetric.INVOICED_COST: "BilledCost",
    CostMetric.AMORTIZED_COST: "EffectiveCost",
}
"""The FOCUS column behind each OpenCost cost metric."""

DEFAULT_AGGREGATE = ("invoiceEntityID", "accountID", "provider", "providerID", "category", "service")
"""OpenCost's key when no aggregate is given: one item per billed resource and service."""


@dataclass(frozen=True)
class CloudKey:
    """One aggregation property: a cloud field (``service``) or a tag (``label:<key>``)."""

    name: str
    """The property as reported in ``aggregationProperties`` (canonical spelling, or ``label:<key>``)."""
    field: str | None
    """The cloud field read (see :data:`kubetally.query.cloud_fields.CLOUD_COLUMNS`), ``None`` for a label."""
    label: str | None = None


def parse_cloud_aggregate(text: str, parameter: str = "aggregate") -> tuple[CloudKey, ...]:
    """A comma list of cloud fields and ``label:<key>``; empty → :data:`DEFAULT_AGGREGATE`."""
    keys: list[CloudKey] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower().startswith("label:"):
            label = part[len("label:") :].strip()
            if not label:
                raise InvalidParameter(parameter, f"{part!r} needs a tag name after 'label:' (e.g. label:team)")
            keys.append(CloudKey(f"label:{label}", None, label))
            continue
        field = canonical_field(part)
        if field is None:
            raise InvalidParameter(
                parameter,
                f"unknown cloud cost aggregate {part!r}; expected a comma list of "
                f"{', '.join(CLOUD_PROPERTIES)} or label:<key>",
            )
        keys.append(CloudKey(field, field))
    if not keys:
        return tuple(CloudKey(name, name) for name in DEFAULT_AGGREGATE)
    unique = {key.name: key for key in keys}
    return tuple(unique.values())


def _nonnegative(params: Mapping[str, str], name: str) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or len(raw) > 9:
        raise InvalidParameter(name, f"invalid value {raw[:40]!r}; expected a whole number from 0 to 999999999")
    return int(raw)


def cloud_sets(window: Window, accumulate: Accumulate, parameter: str) -> tuple[Window, ...]:
    """The sets of a cloud cost query: one per day by default (OpenCost's cloud cost resolution), one for the
    whole window with ``true``/``all``, else one per accumulation period."""
    if accumulate is Accumulate.ALL:
        return (window,)
    period: Step = accumulate.step or DAY
    check_set_count(window, period, parameter)
    try:
        return tuple(split_window(window, period))
    except (OverflowError, ValueError) as exc:
        raise InvalidParameter(parameter, "the sets of the window run past the supported range of dates") from exc


class SortField(StrEnum):
    """Columns ``/cloudCost/view/table`` sorts by (OpenCost ``sortBy``)."""

    NAME = "name"
    COST = "cost"
    KUBERNETES_PERCENT = "kubernetesPercent"


@dataclass(frozen=True)
class CloudCostQuery:
    """One cloud cost request: window and sets, aggregation, filter, and the views' metric and table options."""

    window: Window
    sets: tuple[Window, ...]
    aggregate: tuple[CloudKey, ...]
    filter: Filter | None = None
    cost_metric: CostMetric = CostMetric.AMORTIZED_NET_COST
    sort_by: SortField = SortField.COST
    descending: bool = True
    limit: int = 0
    """Table rows to return after ``offset``; 0 = all."""
    offset: int = 0

    @property
    def aggregation_properties(self) -> list[str]:
        """OpenCost's ``aggregationProperties`` of every set."""
        return [key.name for key in self.aggregate]

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> CloudCostQuery:
        """Decode OpenCost cloud cost parameters; a bad value raises InvalidParameter naming it."""
        window = window_param(params, now)
        accumulate_name = "accumulateBy" if params.get("accumulateBy") else "accumulate"
        accumulate = parse_accumulate(params.get(accumulate_name), accumulate_name)
        if accumulate_name == "accumulateBy":
            parse_accumulate(params.get("accumulate"), "accumulate")
        raw_filter = (params.get("filter") or "").strip()
        raw_sort = (params.get("sortBy") or "").strip().lower()
        sort_by = next((field for field in SortField if field.value.lower() == raw_sort), None)
        if raw_sort and sort_by is None:
            raise InvalidParameter("sortBy", f"invalid value {raw_sort!r}; expected name, cost or kubernetesPercent")
        order = (params.get("sortByOrder") or "desc").strip().lower()
        if order not in ("asc", "desc"):
            raise InvalidParameter("sortByOrder", f"invalid value {order!r}; expected asc or desc")
        return CloudCostQuery(
            window=window,
            sets=cloud_sets(window, accumulate, accumulate_name),
            aggregate=parse_cloud_aggregate(params.get("aggregate") or ""),
            filter=parse_filter_param(raw_filter, "filter", CLOUD_FIELDS) if raw_filter else None,
            cost_metric=CostMetric.parse(params.get("costMetric")),
            sort_by=sort_by or SortField.COST,
            descending=order == "desc",
            limit=_nonnegative(params, "limit"),
            offset=_nonnegative(params, "offset"),
        )


__all__ = [
    "DEFAULT_AGGREGATE",
    "METRIC_COLUMNS",
    "CloudCostQuery",
    "CloudKey",
    "CostMetric",
    "SortField",
    "cloud_sets",
    "parse_cloud_aggregate",
]

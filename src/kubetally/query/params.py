"""AllocationQuery and AssetQuery: OpenCost's /allocation and /assets parameters, decoded once.

Every surface (HTTP API, CLI, MCP) builds its query with ``from_params`` from the same string parameters, so
they accept the same values and report the same errors. Unknown parameters are ignored, as OpenCost does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from kubetally.domain.aggregation import AggregateKey, parse_aggregate
from kubetally.domain.filter_ast import Filter
from kubetally.domain.window import (
    Accumulate,
    CalendarStep,
    Step,
    Window,
    parse_accumulate,
    parse_step,
    parse_window,
    split_window,
)
from kubetally.errors import InvalidParameter, InvalidWindow
from kubetally.query.filtering import parse_asset_filter, parse_filter_param

if TYPE_CHECKING:
    from kubetally.query.scope import Scope

MAX_SHARE_COST = 1e12
"""The largest ``shareCost`` accepted ($ per month): beyond it sums of costs lose their cents, then overflow."""

MAX_SETS = 10_000
"""The most sets (steps or accumulation periods) one query may ask for."""

_TRUE = frozenset({"true", "t", "1", "yes"})
_FALSE = frozenset({"false", "f", "0", "no"})


class IdleMode(StrEnum):
    """What happens to idle cost: dropped, reported as ``__idle__`` rows, or shared onto the allocations."""

    HIDE = "hide"
    SEPARATE = "separate"
    SHARE = "share"


class SplitMethod(StrEnum):
    """How shared (and shared idle) cost is divided among the receiving allocations."""

    EVEN = "even"
    """Equal parts per aggregate name."""
    WEIGHTED = "weighted"
    """In proportion to cost (per resource for idle, total cost for shared cost)."""
    METRIC = "metric"
    """In proportion to a usage metric (:data:`SPLIT_METRICS`)."""
    REQUEST = "request"
    """Idle of each resource in proportion to that resource's requests over time (core-minutes requested for
    CPU idle, byte-minutes for RAM, GPU-minutes for GPU), never to anyone's cost or usage: how a
    namespace-scoped identity's idle share is computed."""


SPLIT_METRICS: dict[str, str] = {
    "cpu": "cpu_core_hours",
    "ram": "ram_byte_hours",
    "gpu": "gpu_hours",
    "pv": "pv_byte_hours",
    "network": "network_transfer_bytes",
}
"""``shareSplit=metric:<name>`` names and the ledger quantity each one splits by."""


@dataclass(frozen=True)
class ShareSplit:
    """A split method and, for ``metric``, the ledger quantity column it weighs by."""

    method: SplitMethod = SplitMethod.WEIGHTED
    metric: str | None = None

    @staticmethod
    def parse(text: str, parameter: str = "shareSplit") -> ShareSplit:
        """``even``, ``weighted`` or ``metric:<cpu|ram|gpu|pv|network>``."""
        cleaned = text.strip().lower()
        if cleaned in ("", "weighted"):
            return ShareSplit(SplitMethod.WEIGHTED)
        if cleaned == "even":
            return ShareSplit(SplitMethod.EVEN)
        if cleaned.startswith("metric:") and cleaned[len("metric:") :] in SPLIT_METRICS:
            return ShareSplit(SplitMethod.METRIC, SPLIT_METRICS[cleaned[len("metric:") :]])
        raise InvalidParameter(
            parameter,
            f"invalid value {text!r}; expected even, weighted or metric:<name> with name one of "
            + ", ".join(SPLIT_METRICS),
        )


def parse_bool(params: Mapping[str, str], name: str, default: bool) -> bool:
    """A boolean parameter (true/false, t/f, 1/0, yes/no); absent or empty → ``default``."""
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return default
    cleaned = raw.strip().lower()
    if cleaned in _TRUE:
        return True
    if cleaned in _FALSE:
        return False
    raise InvalidParameter(name, f"invalid value {raw!r}; expected true or false")


def _list(params: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = params.get(name) or ""
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _labels(params: Mapping[str, str], name: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for part in _list(params, name):
        key, sep, value = part.partition(":")
        if not sep or not key.strip() or not value.strip():
            raise InvalidParameter(name, f"invalid label {part!r}; expected key:value[,key2:value2]")
        pairs.append((key.strip(), value.strip()))
    return tuple(pairs)


def _money(params: Mapping[str, str], name: str) -> float:
    raw = (params.get(name) or "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise InvalidParameter(name, f"invalid amount {raw!r}; expected a number of dollars per month") from None
    if not math.isfinite(value) or value < 0:
        raise InvalidParameter(name, f"invalid amount {raw[:40]!r}; expected a finite amount >= 0")
    if value > MAX_SHARE_COST:
        raise InvalidParameter(name, f"invalid amount {raw[:40]!r}; at most {MAX_SHARE_COST:g} per month is allowed")
    return value


def _filter(params: Mapping[str, str], name: str) -> Filter | None:
    raw = (params.get(name) or "").strip()
    return parse_filter_param(raw, name) if raw else None


def _sets(params: Mapping[str, str], window: Window) -> tuple[Window, ...]:
    """The windows of the sets: the accumulation period if any, else the step, else the whole window.

    ``accumulate`` (beside ``accumulateBy``) and ``step`` are checked even when another parameter overrides them:
    a malformed value is refused, never silently unused."""
    accumulate_name = "accumulateBy" if params.get("accumulateBy") else "accumulate"
    accumulate = parse_accumulate(params.get(accumulate_name), accumulate_name)
    if accumulate_name == "accumulateBy":
        parse_accumulate(params.get("accumulate"), "accumulate")
    raw_step = (params.get("step") or "").strip()
    step: Step | None = parse_step(raw_step, "step") if raw_step else None
    if accumulate is Accumulate.ALL:
        return (window,)
    period = accumulate.step
    if period is None:
        period = step
    if period is None:
        return (window,)
    parameter = "step" if accumulate.step is None else accumulate_name
    check_set_count(window, period, parameter)
    try:
        return tuple(split_window(window, period))
    except (OverflowError, ValueError) as exc:
        raise InvalidParameter(parameter, "the steps of the window run past the supported range of dates") from exc


def check_set_count(window: Window, period: Step, parameter: str) -> None:
    """Refuse a window that ``period`` would cut into more than :data:`MAX_SETS` sets."""
    if isinstance(period, timedelta):
        if period <= timedelta():
            raise InvalidParameter(parameter, "must be greater than zero")
        count = -(-window.duration // period)
    elif period is CalendarStep.WEEK:
        count = -(-window.duration // timedelta(weeks=1)) + 1
    else:
        months = 1 if period is CalendarStep.MONTH else 3
        span = (window.end.year - window.start.year) * 12 + window.end.month - window.start.month
        count = span // months + 1
    if count > MAX_SETS:
        raise InvalidParameter(
            parameter, f"the window would be cut into {count} sets; at most {MAX_SETS} are allowed (use a longer step)"
        )


def window_param(params: Mapping[str, str], now: datetime) -> Window:
    """The required ``window`` parameter; InvalidParameter when missing, InvalidWindow when malformed."""
    raw = (params.get("window") or "").strip()
    if not raw:
        raise InvalidParameter("window", "missing; e.g. window=7d or window=2026-11-01T00:00:00Z,2026-11-02T00:00:00Z")
    try:
        return parse_window(raw, now)
    except (OverflowError, ValueError) as exc:
        raise InvalidWindow(f"invalid window {raw!r}: outside the supported range of dates") from exc


def _idle_mode(params: Mapping[str, str]) -> IdleMode:
    """``idle`` (true/false or hide/separate/share), ``includeIdle`` and ``shareIdle``; default separate."""
    raw = (params.get("idle") or "").strip().lower()
    if raw in {mode.value for mode in IdleMode}:
        mode = IdleMode(raw)
    elif raw:
        mode = IdleMode.SEPARATE if parse_bool(params, "idle", True) else IdleMode.HIDE
    else:
        mode = IdleMode.SEPARATE if parse_bool(params, "includeIdle", True) else IdleMode.HIDE
    return IdleMode.SHARE if parse_bool(params, "shareIdle", False) else mode


@dataclass(frozen=True)
class AllocationQuery:
    """One /allocation request: the window and its sets, aggregation, filter, idle and sharing options."""

    window: Window
    sets: tuple[Window, ...]
    """The windows of the response's sets, in order (one per step or accumulation period)."""
    aggregate: tuple[AggregateKey, ...]
    """Empty: unaggregated (``cluster/node/namespace/pod/container``)."""
    filter: Filter | None = None
    idle: IdleMode = IdleMode.SEPARATE
    idle_by_node: bool = False
    split_idle: bool = False
    share_namespaces: tuple[str, ...] = ()
    share_labels: tuple[tuple[str, str], ...] = ()
    share_filter: Filter | None = None
    share_split: ShareSplit = ShareSplit()
    share_cost_per_month: float = 0.0
    """Fixed overhead in $ per month (730 hours) spread over the hours of each set (``shareCost``)."""
    share_tenancy_costs: bool = False
    """Share the ClusterManagement (overhead) assets of the window onto the allocations."""
    include_aggregated_metadata: bool = False
    scope: Scope | None = None
    """Set by :func:`kubetally.query.scope.scope_allocation`: only the scope's own workload rows are returned."""

    @property
    def shares_anything(self) -> bool:
        return bool(
            self.share_namespaces
            or self.share_labels
            or self.share_filter is not None
            or self.share_cost_per_month
            or self.share_tenancy_costs
        )

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> AllocationQuery:
        """Decode OpenCost /allocation parameters (and kubetally's ``idle=hide|separate|share``,
        ``shareFilter`` and ``shareSplit=metric:<name>``); a bad value raises InvalidParameter naming it."""
        window = window_param(params, now)
        return AllocationQuery(
            window=window,
            sets=_sets(params, window),
            aggregate=tuple(parse_aggregate(params.get("aggregate") or "")),
            filter=_filter(params, "filter"),
            idle=_idle_mode(params),
            idle_by_node=parse_bool(params, "idleByNode", False),
            split_idle=parse_bool(params, "splitIdle", False),
            share_namespaces=_list(params, "shareNamespaces"),
            share_labels=_labels(params, "shareLabels"),
            share_filter=_filter(params, "shareFilter"),
            share_split=ShareSplit.parse(params.get("shareSplit") or ""),
            share_cost_per_month=_money(params, "shareCost"),
            share_tenancy_costs=parse_bool(params, "shareTenancyCosts", False),
            include_aggregated_metadata=parse_bool(params, "includeAggregatedMetadata", False),
        )


ASSET_AGGREGATES: dict[str, str] = {
    "type": "type",
    "assettype": "type",
    "cluster": "cluster",
    "category": "category",
    "service": "service",
    "name": "name",
    "providerid": "provider_id",
    "nodetype": "node_type",
    "storageclass": "storage_class",
    "region": "region",
    "zone": "zone",
    "provider": "",
    "account": "",
    "project": "",
}
"""Asset aggregate keys (case-insensitive) and their ledger columns; ``label:<name>`` is accepted too. The cloud
provider, account and project of an asset are not in the ledger (its properties leave them empty, as OpenCost
does for unknown parts): aggregating by them gives one ``__unallocated__`` entry."""


@dataclass(frozen=True)
class AssetKey:
    """One asset aggregation key: a ledger column, a label (``label:<name>``), or neither (a property the ledger
    does not hold: every asset is ``__unallocated__`` for it)."""

    name: str
    column: str | None
    label: str | None = None


def parse_asset_aggregate(text: str) -> tuple[AssetKey, ...]:
    """``type``, ``cluster``, ``label:team``, ... comma-separated; empty → unaggregated."""
    keys = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        if part.lower().startswith("label:"):
            label = part[len("label:") :].strip()
            if not label:
                raise InvalidParameter("aggregate", f"{part!r} needs a name after 'label:' (e.g. label:team)")
            keys.append(AssetKey(part, None, label))
        elif part.lower() in ASSET_AGGREGATES:
            keys.append(AssetKey(part, ASSET_AGGREGATES[part.lower()] or None))
        else:
            raise InvalidParameter(
                "aggregate",
                f"unknown asset aggregate {part!r}; expected one of {', '.join(ASSET_AGGREGATES)} or label:<name>",
            )
    return tuple(keys)


@dataclass(frozen=True)
class AssetQuery:
    """One /assets request: window and sets, aggregation and filter."""

    window: Window
    sets: tuple[Window, ...]
    aggregate: tuple[AssetKey, ...]
    filter: Filter | None = None
    scope: Scope | None = None
    """Set by :func:`kubetally.query.scope.scope_assets` (its clusters are in ``filter``); part of cache keys."""

    @staticmethod
    def from_params(params: Mapping[str, str], now: datetime) -> AssetQuery:
        """Decode OpenCost /assets parameters; a bad value raises InvalidParameter naming it."""
        window = window_param(params, now)
        return AssetQuery(
            window=window,
            sets=_sets(params, window),
            aggregate=parse_asset_aggregate(params.get("aggregate") or ""),
            filter=parse_asset_filter(params["filter"]) if (params.get("filter") or "").strip() else None,
        )

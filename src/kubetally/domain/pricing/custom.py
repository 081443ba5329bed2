"""The custom pricing file: OpenCost's custom pricing JSON, accepted as-is, plus kubetally extensions.

OpenCost writes every value as a string (``"CPU": "0.031611"``); numbers are accepted too. Keys match
case-insensitively, as Go's JSON decoder does for OpenCost. Unknown OpenCost keys are ignored; missing or empty
keys take OpenCost's defaults (``DefaultPricing``: GCP us-central1). kubetally's own settings live under one
object, ``"kubetally"``, whose keys are checked strictly. See docs/pricing.md for the format.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kubetally.errors import InvalidPricing

HOURS_PER_MONTH = 730.0
"""OpenCost's month: storage $0.04/GiB-month = 0.00005479452 $/GiB-h."""

EXTENSION_KEY = "kubetally"

# OpenCost key -> (CustomPricing field, default). The one table the parser, the defaults and the docs share.
PRICE_KEYS: tuple[tuple[str, str, float], ...] = (
    ("CPU", "cpu_price_per_core_hour", 0.031611),
    ("spotCPU", "spot_cpu_price_per_core_hour", 0.006655),
    ("RAM", "ram_price_per_gib_hour", 0.004237),
    ("spotRAM", "spot_ram_price_per_gib_hour", 0.000892),
    ("GPU", "gpu_price_per_gpu_hour", 0.95),
    ("spotGPU", "spot_gpu_price_per_gpu_hour", 0.308),
    ("storage", "storage_price_per_gib_hour", 0.00005479452),
    ("zoneNetworkEgress", "zone_egress_price_per_gib", 0.01),
    ("regionNetworkEgress", "region_egress_price_per_gib", 0.01),
    ("internetNetworkEgress", "internet_egress_price_per_gib", 0.12),
    ("defaultLBPrice", "lb_price_per_hour", 0.025),
    ("sharedOverhead", "shared_overhead_per_month", 0.0),
)
PERCENT_KEYS: tuple[tuple[str, str], ...] = (
    ("discount", "discount"),
    ("negotiatedDiscount", "negotiated_discount"),
)
LIST_KEYS: tuple[tuple[str, str], ...] = (
    ("sharedNamespaces", "shared_namespaces"),
    ("sharedLabelNames", "shared_label_names"),
    ("sharedLabelValues", "shared_label_values"),
)
TEXT_KEYS: tuple[tuple[str, str, str], ...] = (
    ("provider", "provider", "custom"),
    ("currencyCode", "currency", "USD"),
    ("spotLabel", "spot_label", ""),
    ("spotLabelValue", "spot_label_value", ""),
)
# kubetally extension key -> CustomPricing field, for scalar prices.
EXTENSION_PRICE_KEYS: tuple[tuple[str, str], ...] = (
    ("clusterManagementPerHour", "cluster_management_price_per_hour"),
    ("unclassifiedNetworkEgress", "unclassified_egress_price_per_gib"),
)
EXTENSION_KEYS = frozenset(
    {"instanceTypes", "nodes", "storageClassesPerGiBMonth"} | {key for key, _ in EXTENSION_PRICE_KEYS}
)
OVERRIDE_UNIT_KEYS: tuple[tuple[str, str], ...] = (
    ("CPU", "cpu_price_per_core_hour"),
    ("RAM", "ram_price_per_gib_hour"),
    ("GPU", "gpu_price_per_gpu_hour"),
)
OVERRIDE_TOTAL_KEY = "hourly"


@dataclass(frozen=True)
class NodeOverride:
    """An explicit price for a node or instance type: unit prices ($/vCPU-h, $/GiB-h, $/GPU-h) or a node total.

    With ``price_per_hour`` set the node's total is split by Appendix A; otherwise each unit price given is used
    and a missing one takes the (undiscounted) default. Overrides are final: no discount applies.
    """

    cpu_price_per_core_hour: float | None = None
    ram_price_per_gib_hour: float | None = None
    gpu_price_per_gpu_hour: float | None = None
    price_per_hour: float | None = None


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class CustomPricing:
    """The decoded custom pricing file. Prices per hour, storage per GiB-hour, egress per GiB, overhead per month.

    Defaults are OpenCost's ``DefaultPricing`` (``configs/default.json`` plus ``spotGPU`` 0.308 and
    ``defaultLBPrice`` 0.025).
    """

    provider: str = "custom"
    currency: str = "USD"
    cpu_price_per_core_hour: float = 0.031611
    spot_cpu_price_per_core_hour: float = 0.006655
    ram_price_per_gib_hour: float = 0.004237
    spot_ram_price_per_gib_hour: float = 0.000892
    gpu_price_per_gpu_hour: float = 0.95
    spot_gpu_price_per_gpu_hour: float = 0.308
    storage_price_per_gib_hour: float = 0.00005479452
    zone_egress_price_per_gib: float = 0.01
    region_egress_price_per_gib: float = 0.01
    internet_egress_price_per_gib: float = 0.12
    lb_price_per_hour: float = 0.025
    discount: float = 0.0
    negotiated_discount: float = 0.0
    shared_overhead_per_month: float = 0.0
    shared_namespaces: tuple[str, ...] = ()
    shared_label_names: tuple[str, ...] = ()
    shared_label_values: tuple[str, ...] = ()
    spot_label: str = ""
    spot_label_value: str = ""
    # kubetally extensions
    cluster_management_price_per_hour: float = 0.0
    unclassified_egress_price_per_gib: float = 0.0
    storage_class_price_per_gib_month: Mapping[str, float] = field(default_factory=lambda: _frozen({}))
    instance_type_overrides: Mapping[str, NodeOverride] = field(default_factory=lambda: _frozen({}))
    node_overrides: Mapping[str, NodeOverride] = field(default_factory=lambda: _frozen({}))

    def __post_init__(self) -> None:
        if len(self.shared_label_names) != len(self.shared_label_values):
            raise InvalidPricing(
                f"pricing keys 'sharedLabelNames' and 'sharedLabelValues' must list as many items "
                f"({len(self.shared_label_names)} names, {len(self.shared_label_values)} values)"
            )

    @property
    def combined_discount(self) -> float:
        """The fraction taken off CPU and RAM: ``1 − (1 − discount)·(1 − negotiatedDiscount)``.

        The two compound, as in OpenCost's custom provider (``CombinedDiscountForNode``), for on-demand and spot
        nodes alike. GPU prices are never discounted.
        """
        return 1.0 - (1.0 - self.discount) * (1.0 - self.negotiated_discount)


def parse_price(key: str, value: object) -> float:
    """A non-negative finite price from a JSON string or number; InvalidPricing naming ``key`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidPricing(f"pricing key {key!r}: expected a number or numeric string, got {value!r}")
    try:
        number = float(value)
    except ValueError as exc:
        raise InvalidPricing(f"pricing key {key!r}: {value!r} is not a number") from exc
    if not math.isfinite(number) or number < 0:
        raise InvalidPricing(f"pricing key {key!r}: {value!r} must be a finite number >= 0")
    return number


def parse_percent(key: str, value: object) -> float:
    """A discount fraction in [0, 1) from OpenCost's percent form: ``"30%"``, ``"30"`` or ``30`` all mean 30 %.

    As in OpenCost (``ParsePercentString``), a bare number is always a percentage: ``"0.3"`` is 0.3 %, not 30 %.
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.endswith("%"):
        text = text[:-1].strip()
    fraction = parse_price(key, text) / 100.0
    if fraction >= 1.0:
        raise InvalidPricing(f"pricing key {key!r}: {value!r} must be a discount below 100%")
    return fraction


def parse_list(key: str, value: object) -> tuple[str, ...]:
    """A comma-separated string (OpenCost's form) or a JSON list of strings, as a tuple of trimmed names."""
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        items = value
    else:
        raise InvalidPricing(f"pricing key {key!r}: expected a comma-separated string, got {value!r}")
    return tuple(item.strip() for item in items if item.strip())


def _fold_keys(document: Mapping[str, object], where: str) -> dict[str, object]:
    """Keys lower-cased (Go's JSON decoding matches field names case-insensitively); collisions rejected."""
    folded: dict[str, object] = {}
    for key, value in document.items():
        if key.lower() in folded:
            raise InvalidPricing(f"{where}: key {key!r} is given twice (keys are case-insensitive)")
        folded[key.lower()] = value
    return folded


def _present(folded: Mapping[str, object], key: str) -> object | None:
    """The value of ``key`` or None when absent, null or an empty string (OpenCost writes ``""`` for unset)."""
    value = folded.get(key.lower())
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _text(key: str, value: object) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise InvalidPricing(f"pricing key {key!r}: expected a string, got {value!r}")
    return str(value).strip()


def _object(key: str, value: object) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise InvalidPricing(f"pricing key {key!r}: expected a JSON object, got {value!r}")
    return value


def parse_override(key: str, value: object) -> NodeOverride:
    """One entry of ``kubetally.instanceTypes`` or ``kubetally.nodes``: ``{"hourly": ...}`` or unit prices."""
    document = _object(key, value)
    folded = _fold_keys(document, f"pricing key {key!r}")
    allowed = {OVERRIDE_TOTAL_KEY.lower()} | {unit.lower() for unit, _ in OVERRIDE_UNIT_KEYS}
    unknown = sorted(name for name in document if name.lower() not in allowed)
    if unknown:
        raise InvalidPricing(
            f"pricing key {key!r}: unknown key {unknown[0]!r}; allowed: "
            f"{OVERRIDE_TOTAL_KEY!r} or any of {[unit for unit, _ in OVERRIDE_UNIT_KEYS]}"
        )
    units = {
        attribute: parse_price(f"{key}.{unit}", folded[unit.lower()])
        for unit, attribute in OVERRIDE_UNIT_KEYS
        if _present(folded, unit) is not None
    }
    total = _present(folded, OVERRIDE_TOTAL_KEY)
    if total is not None and units:
        raise InvalidPricing(f"pricing key {key!r}: give either {OVERRIDE_TOTAL_KEY!r} or unit prices, not both")
    if total is None and not units:
        raise InvalidPricing(f"pricing key {key!r}: an override needs {OVERRIDE_TOTAL_KEY!r} or a unit price")
    if total is not None:
        return NodeOverride(price_per_hour=parse_price(f"{key}.{OVERRIDE_TOTAL_KEY}", total))
    return NodeOverride(**units)


def _overrides(key: str, value: object) -> Mapping[str, NodeOverride]:
    return _frozen({name: parse_override(f"{key}.{name}", entry) for name, entry in _object(key, value).items()})


def _parse_extension(value: object) -> dict[str, Any]:
    """The strict ``"kubetally"`` object: unknown keys are errors."""
    document = _object(EXTENSION_KEY, value)
    folded = _fold_keys(document, f"pricing key {EXTENSION_KEY!r}")
    allowed = {key.lower() for key in EXTENSION_KEYS}
    unknown = sorted(key for key in document if key.lower() not in allowed)
    if unknown:
        raise InvalidPricing(
            f"pricing key {EXTENSION_KEY}.{unknown[0]}: unknown kubetally key; allowed: {sorted(EXTENSION_KEYS)}"
        )
    fields: dict[str, Any] = {}
    for key, attribute in EXTENSION_PRICE_KEYS:
        given = _present(folded, key)
        if given is not None:
            fields[attribute] = parse_price(f"{EXTENSION_KEY}.{key}", given)
    if (given := _present(folded, "instanceTypes")) is not None:
        fields["instance_type_overrides"] = _overrides(f"{EXTENSION_KEY}.instanceTypes", given)
    if (given := _present(folded, "nodes")) is not None:
        fields["node_overrides"] = _overrides(f"{EXTENSION_KEY}.nodes", given)
    if (given := _present(folded, "storageClassesPerGiBMonth")) is not None:
        where = f"{EXTENSION_KEY}.storageClassesPerGiBMonth"
        fields["storage_class_price_per_gib_month"] = _frozen(
            {name: parse_price(f"{where}.{name}", price) for name, price in _object(where, given).items()}
        )
    return fields


def parse_custom_pricing(document: object) -> CustomPricing:
    """A CustomPricing from a decoded custom pricing JSON document (OpenCost keys plus ``"kubetally"``).

    Raises InvalidPricing naming the offending key.
    """
    if not isinstance(document, dict):
        raise InvalidPricing(f"the custom pricing document must be a JSON object, got {type(document).__name__}")
    folded = _fold_keys(document, "custom pricing")
    fields: dict[str, Any] = {}
    for key, attribute, _ in PRICE_KEYS:
        if (given := _present(folded, key)) is not None:
            fields[attribute] = parse_price(key, given)
    for key, attribute in PERCENT_KEYS:
        if (given := _present(folded, key)) is not None:
            fields[attribute] = parse_percent(key, given)
    for key, attribute in LIST_KEYS:
        if (given := _present(folded, key)) is not None:
            fields[attribute] = parse_list(key, given)
    for key, attribute, _ in TEXT_KEYS:
        if (given := _present(folded, key)) is not None:
            fields[attribute] = _text(key, given)
    if (given := _present(folded, EXTENSION_KEY)) is not None:
        fields.update(_parse_extension(given))
    return CustomPricing(**fields)


def load_custom_pricing(path: Path) -> CustomPricing:
    """Read and decode a custom pricing JSON file; InvalidPricing names the file and the key or line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidPricing(f"cannot read custom pricing file {path}: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidPricing(
            f"custom pricing file {path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    except RecursionError as exc:
        raise InvalidPricing(f"custom pricing file {path}: invalid JSON: nested too deeply") from exc
    try:
        return parse_custom_pricing(document)
    except InvalidPricing as exc:
        raise InvalidPricing(f"custom pricing file {path}: {exc.message}") from exc

"""Prices: the PriceBook and the formats it reads (OpenCost custom pricing JSON, price sheet CSV).

See docs/pricing.md for the formats, the defaults, the resolution order, spot detection and discounts.
"""

from __future__ import annotations

from kubetally.domain.pricing.book import LOAD_BALANCER, PriceBook
from kubetally.domain.pricing.custom import (
    HOURS_PER_MONTH,
    CustomPricing,
    NodeOverride,
    load_custom_pricing,
    parse_custom_pricing,
)
from kubetally.domain.pricing.schemas import (
    CLUSTER_PRICES,
    GIB,
    LB_PRICES,
    NODE_PRICES,
    PRICE_SOURCES,
    VOLUME_PRICES,
    ClusterPrices,
    NodePrice,
    NodeSpec,
)
from kubetally.domain.pricing.sheet import PriceSheet, load_price_sheet, parse_price_sheet
from kubetally.domain.pricing.split import UnitPrices, split_node_price
from kubetally.domain.pricing.spot import SPOT_LABELS, is_spot

__all__ = [
    "CLUSTER_PRICES",
    "GIB",
    "HOURS_PER_MONTH",
    "LB_PRICES",
    "LOAD_BALANCER",
    "NODE_PRICES",
    "PRICE_SOURCES",
    "SPOT_LABELS",
    "VOLUME_PRICES",
    "ClusterPrices",
    "CustomPricing",
    "NodeOverride",
    "NodePrice",
    "NodeSpec",
    "PriceBook",
    "PriceSheet",
    "UnitPrices",
    "is_spot",
    "load_custom_pricing",
    "load_price_sheet",
    "parse_custom_pricing",
    "parse_price_sheet",
    "split_node_price",
]

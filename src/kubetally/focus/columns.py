"""The FOCUS columns kubetally reads: their kinds, the mandatory ones per version, and version detection.

One table drives reading, validation, docs and tests: every ``cloud_costs`` column (but ``source``) is read from
the FOCUS column of the same name, and its ledger type says how the text is parsed (:class:`Kind`).

The FOCUS version of a file is detected from its header, as the newest version that introduced one of its columns
(:data:`INTRODUCED`): ``ServiceProviderName`` or ``HostProviderName`` → 1.3; ``BillingAccountType``,
``SubAccountType``, ``InvoiceId`` or a ``PricingCurrency*`` column → 1.2; ``ServiceSubcategory``, ``SkuMeter``,
``SkuPriceDetails``, ``CapacityReservation*`` or ``CommitmentDiscountQuantity/Unit`` → 1.1; otherwise 1.0. A file
that omits every optional column of its version is therefore read as an older version, whose mandatory columns
are the same 21.
"""

from __future__ import annotations

from enum import Enum

import polars as pl

from kubetally.history import STRING_MAP, TIME
from kubetally.ledger.schema import CLOUD_COSTS, TABLES


class Kind(Enum):
    """How a FOCUS column's text becomes a ledger value."""

    TEXT = "text"
    """A string; an empty string is NULL."""
    DECIMAL = "decimal"
    """A finite decimal number, stored as Float64."""
    DATETIME = "datetime"
    """A UTC date-time ``YYYY-MM-DDTHH:mm:ssZ``."""
    TAGS = "tags"
    """A JSON object of tag names to values, stored as ``MAP(VARCHAR, VARCHAR)``."""


def _kind(dtype: pl.DataType) -> Kind:
    if dtype == TIME:
        return Kind.DATETIME
    if dtype == pl.Float64():
        return Kind.DECIMAL
    if dtype == STRING_MAP:
        return Kind.TAGS
    return Kind.TEXT


SOURCE_COLUMN = "source"
"""The ``cloud_costs`` column naming the file or endpoint, not read from the file."""

COLUMNS: dict[str, Kind] = {name: _kind(dtype) for name, dtype in CLOUD_COSTS.items() if name != SOURCE_COLUMN}
"""Every FOCUS column kept in the ledger, with its kind; other columns of a file are ignored."""

VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2", "1.3")
"""The FOCUS versions read."""

INTRODUCED: dict[str, tuple[str, ...]] = {
    "1.1": (
        "ServiceSubcategory",
        "SkuMeter",
        "SkuPriceDetails",
        "CapacityReservationId",
        "CapacityReservationStatus",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountUnit",
    ),
    "1.2": (
        "BillingAccountType",
        "SubAccountType",
        "InvoiceId",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
    ),
    "1.3": ("ServiceProviderName", "HostProviderName"),
}
"""Columns by the version that introduced them: the evidence for :func:`detect_version`."""

MANDATORY: tuple[str, ...] = (
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeClass",
    "ChargeDescription",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "PricingQuantity",
    "PricingUnit",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
)
"""The 21 columns every FOCUS 1.0–1.2 file has (some of them nullable)."""

REQUIRED: dict[str, tuple[tuple[str, ...], ...]] = {
    "1.0": tuple((name,) for name in MANDATORY),
    "1.1": tuple((name,) for name in MANDATORY),
    "1.2": tuple((name,) for name in MANDATORY),
    "1.3": (
        *((name,) for name in MANDATORY if name not in ("ProviderName", "PublisherName")),
        ("ProviderName", "ServiceProviderName"),
    ),
}
"""Per version, the header requirements: each is satisfied by any one of its names. 1.3 deprecates
``ProviderName`` (replaced by ``ServiceProviderName``) and ``PublisherName`` (``InvoiceIssuerName`` and
``ServiceProviderName`` name the parties)."""

NOT_NULL: tuple[str, ...] = (
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "BilledCost",
    "EffectiveCost",
)
"""Columns a row must fill: the periods keying it, its category and the costs that are summed."""

CHARGE_CATEGORIES: tuple[str, ...] = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
"""The allowed ``ChargeCategory`` values (case-sensitive)."""

FALLBACKS: dict[str, str] = {"ProviderName": "ServiceProviderName"}
"""A column filled from another one when the file lacks it (1.3 files without the deprecated ``ProviderName``)."""

KEY: tuple[str, ...] = TABLES["cloud_costs"].key
"""The line key of a cost row (the ``cloud_costs`` key: every kept column but the amounts); rows of one file
sharing it (they differ only in columns the ledger does not keep) are folded into one."""

MEASURE_SUFFIXES: tuple[str, ...] = ("Cost", "Quantity", "UnitPrice")
"""How the names of a FOCUS file's amount columns end (``BilledCost``, ``PricingCurrencyEffectiveCost``,
``CommitmentDiscountQuantity``, ``ListUnitPrice``, ``x_...Cost``): every other column of a file names the line."""

CONTRACT_COMMITMENT_PREFIX = "ContractCommitment"
"""The prefix of the columns of FOCUS 1.3's Contract Commitment dataset (``ContractCommitmentId``, ...)."""

SUMMED: tuple[str, ...] = (
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ContractedCost",
    "PricingQuantity",
    "ConsumedQuantity",
)
"""Columns added up when rows are folded; every other column comes from the group's first row."""


def detect_version(columns: list[str]) -> str:
    """The FOCUS version of a file with these header ``columns`` (see the module docstring)."""
    present = set(columns)
    for version in reversed(VERSIONS[1:]):
        if present.intersection(INTRODUCED[version]):
            return version
    return VERSIONS[0]


def missing_columns(columns: list[str], version: str) -> list[str]:
    """The mandatory columns of ``version`` absent from ``columns`` (alternatives joined by ``or``)."""
    present = set(columns)
    return [" or ".join(names) for names in REQUIRED[version] if not present.intersection(names)]

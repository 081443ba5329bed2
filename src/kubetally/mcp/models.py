"""The structured output of each MCP tool (its ``outputSchema``); amounts are in the ledger's currency."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class TimeRange(BaseModel):
    """A half-open time range ``[start, end)``, RFC 3339 UTC."""

    start: str
    end: str


class AllocationSetOut(BaseModel):
    """One step of an allocation answer: its window, total and allocations by name (OpenCost's fields)."""

    window: TimeRange
    total_cost: float
    allocations: dict[str, dict[str, Any]]


class AllocationCosts(BaseModel):
    """Every step of an allocation query, in order, and the total over all of them."""

    window: TimeRange
    aggregate: str
    filter: str
    total_cost: float
    sets: list[AllocationSetOut]


class AssetSetOut(BaseModel):
    """One step of an asset answer: its window, total and assets by key (OpenCost's fields)."""

    window: TimeRange
    total_cost: float
    assets: dict[str, dict[str, Any]]


class AssetCosts(BaseModel):
    """Every step of an asset query and the total over all of them."""

    window: TimeRange
    type: str
    filter: str
    total_cost: float
    sets: list[AssetSetOut]


class CloudCostRow(BaseModel):
    """Billed costs of one aggregate value (FOCUS ``BilledCost``, ``EffectiveCost``, ``ListCost``)."""

    name: str
    billed_cost: float
    effective_cost: float
    list_cost: float
    currency: str


class CloudCosts(BaseModel):
    """Cloud bill costs of a window (FOCUS rows whose charge period starts in it), aggregated."""

    window: TimeRange
    aggregate: str
    filter: str
    total_billed_cost: float
    rows: list[CloudCostRow]
    note: str | None = Field(default=None, description="Why the answer is empty, when it is.")


class IdleShareOut(BaseModel):
    """Idle cost of a part of the cost and its share of that part's total (percent; null for a zero total)."""

    name: str
    total_cost: float
    idle_cost: float
    idle_percent: float | None


class IdleCosts(BaseModel):
    """Idle (unallocated capacity) cost: overall, per resource and per cluster or node."""

    window: TimeRange
    by: str
    overall: IdleShareOut
    resources: list[IdleShareOut]
    breakdown: list[IdleShareOut]


class WorkloadEfficiency(BaseModel):
    """Requests against usage of one workload, the recommended requests and what they would save."""

    name: str
    total_cost: float
    cpu_core_request_average: float
    cpu_core_usage_average: float
    cpu_efficiency: float | None
    cpu_recommended_request: float
    ram_byte_request_average: float
    ram_byte_usage_average: float
    ram_efficiency: float | None
    ram_recommended_request: float
    saving: float = Field(description="Saving over the window; negative when the requests should be raised.")
    monthly_saving: float = Field(description="The saving scaled to a 730-hour month.")


class Efficiency(BaseModel):
    """Right-sizing of every workload of a window, largest monthly saving first."""

    window: TimeRange
    aggregate: str
    headroom: float
    total_monthly_saving: float = Field(description="Sum of the positive monthly savings.")
    workloads: list[WorkloadEfficiency]


class AggregationValues(BaseModel):
    """The values that exist in a window, to build aggregates and filters from."""

    window: TimeRange
    clusters: list[str]
    nodes: list[str]
    namespaces: list[str]
    controller_kinds: list[str]
    controllers: list[str] = Field(description="As `kind:name`, the value of the `controller` aggregate.")
    labels: dict[str, list[str]] = Field(description="Label key → the values seen.")

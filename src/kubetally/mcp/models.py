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
    total_cost: float = Field(description="Exact total of the set, including rows left out by the row cap.")
    allocations: dict[str, dict[str, Any]] = Field(description="The largest allocations of the set by cost.")
    more_rows: int = Field(default=0, description="How many allocations of the set the row cap left out.")


class ClusterShare(BaseModel):
    """The matching allocations' cost in one cluster and its share of that cluster's whole cost (idle included)."""

    cluster: str
    cost: float
    cluster_total_cost: float
    share_percent: float | None


class AllocationCosts(BaseModel):
    """Every step of an allocation query, in order, and the total over all of them."""

    window: TimeRange
    aggregate: str
    filter: str
    currency: str
    idle_mode: str = Field(
        default="separate",
        description="What was done with idle: `separate` rows, `hide`, or `share` onto the allocations (always for "
        "a scoped identity).",
    )
    total_cost: float = Field(description="Every returned row of every set, exact (idle rows included when shown).")
    allocated_cost: float = Field(description="The total without `__idle__` rows (idle included when shared).")
    idle_cost: float = Field(description="The `__idle__` rows' total (idle of the clusters holding a match).")
    all_costs_total: float | None = Field(
        default=None, description="The unfiltered total of the window: every allocation and idle of every cluster."
    )
    share_of_total: float | None = Field(
        default=None, description="allocated_cost as a percentage of all_costs_total (null for scoped identities)."
    )
    share_by_cluster: list[ClusterShare] = Field(default_factory=list)
    step: str = Field(description="The step the sets were cut with (coarsened when too many were asked for).")
    empty_sets_dropped: int = 0
    notes: list[str] = Field(default_factory=list)
    sets: list[AllocationSetOut]


class AssetSetOut(BaseModel):
    """One step of an asset answer: its window, total and assets by key (OpenCost's fields)."""

    window: TimeRange
    total_cost: float
    assets: dict[str, dict[str, Any]]
    more_rows: int = 0


class AssetCosts(BaseModel):
    """Every step of an asset query and the total over all of them."""

    window: TimeRange
    type: str
    filter: str
    currency: str
    total_cost: float = Field(description="Every asset of every set, exact (rows left out by the row cap included).")
    step: str = Field(description="The step the sets were cut with (coarsened when too many were asked for).")
    empty_sets_dropped: int = 0
    notes: list[str] = Field(default_factory=list)
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
    total_billed_cost: float = Field(description="Every row, exact (rows left out by the row cap included).")
    rows: list[CloudCostRow] = Field(description="The largest rows by billed cost.")
    more_rows: int = Field(default=0, description="How many rows the row cap left out.")
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
    currency: str
    overall: IdleShareOut
    resources: list[IdleShareOut]
    breakdown: list[IdleShareOut] = Field(description="Per cluster or node, largest idle cost first.")
    more_rows: int = Field(default=0, description="How many clusters or nodes the row cap left out.")
    cluster_management_cost: float | None = Field(
        default=None, description="Cluster-management fees of the window: outside the total, null when not read."
    )


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
    currency: str
    headroom: float
    total_monthly_saving: float = Field(description="Sum of the positive monthly savings (of every workload).")
    workloads: list[WorkloadEfficiency] = Field(description="The largest savings first (at most the row cap).")
    more_workloads: int = Field(default=0, description="How many workloads the row cap left out.")
    notes: list[str] = Field(default_factory=list, description="Why it is empty, when a filter matches nothing.")


class AggregationValues(BaseModel):
    """The values that exist in a window, to build aggregates and filters from."""

    window: TimeRange
    clusters: list[str]
    nodes: list[str]
    namespaces: list[str]
    controller_kinds: list[str]
    controllers: list[str] = Field(description="As `kind:name`, the value of the `controller` aggregate.")
    labels: dict[str, list[str]] = Field(description="Label key → the values seen.")
    more: dict[str, int] = Field(
        default_factory=dict, description="Kind (`nodes`, `label:<key>`, `labels`, ...) → values left out by the cap."
    )

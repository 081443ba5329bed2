"""Cloud costs, right-sizing and the values an assistant builds filters from."""

from __future__ import annotations

import pytest

from kubetally.mcp.models import CloudCostRow, CloudCosts, TimeRange
from kubetally.mcp.text import cloud_text
from tests.mcp.conftest import Served


def test_cloud_costs_are_empty_with_a_note_until_bills_are_ingested(served: Served) -> None:
    answer = served.structured("get_cloud_costs", {"window": "7d", "aggregate": "service", "filter": 'region:"x"'})
    assert answer["rows"] == [] and answer["total_billed_cost"] == 0
    assert "ingested" in answer["note"]


def test_efficiency_follows_the_documented_rule_on_the_api_figures(served: Served) -> None:
    params = {"window": "7d", "aggregate": "namespace,controller", "accumulate": "true", "idle": "hide"}
    api = served.api("/allocation", params)[0]
    answer = served.structured("get_efficiency", {"window": "7d", "headroom": 0.5})
    workloads = {w["name"]: w for w in answer["workloads"]}
    assert set(workloads) == set(api)
    savings = [w["monthly_saving"] for w in answer["workloads"]]
    assert savings == sorted(savings, reverse=True)
    for name, row in api.items():
        mine = workloads[name]
        assert mine["cpu_core_request_average"] == row["cpuCoreRequestAverage"]
        assert mine["cpu_recommended_request"] == pytest.approx(1.5 * row["cpuCoreUsageAverage"], abs=1e-4)
        cpu_billed = max(row["cpuCoreRequestAverage"], row["cpuCoreUsageAverage"])
        ram_billed = max(row["ramByteRequestAverage"], row["ramByteUsageAverage"])
        cpu_new = row["cpuCost"] * 1.5 * row["cpuCoreUsageAverage"] / cpu_billed if cpu_billed else row["cpuCost"]
        ram_new = row["ramCost"] * 1.5 * row["ramByteUsageAverage"] / ram_billed if ram_billed else row["ramCost"]
        saving = row["cpuCost"] - cpu_new + row["ramCost"] - ram_new
        assert mine["saving"] == pytest.approx(saving, abs=1e-4)
        assert mine["monthly_saving"] == pytest.approx(saving * 730 * 60 / row["minutes"], abs=0.01)
    over = next(w for w in answer["workloads"] if w["cpu_efficiency"] and w["cpu_efficiency"] < 0.5)
    assert over["monthly_saving"] > 0
    assert answer["total_monthly_saving"] == pytest.approx(sum(s for s in savings if s > 0), abs=0.05)


RESERVED = {"__unallocated__", "__unmounted__", "__idle__"}


def test_aggregation_values_are_the_values_the_api_aggregates_by(served: Served) -> None:
    values = served.structured("list_aggregation_values", {"window": "7d"})
    params = {"window": "7d", "accumulate": "true", "idle": "hide"}
    namespaces = set(served.api("/allocation", {**params, "aggregate": "namespace"})[0])
    assert set(values["namespaces"]) == namespaces - RESERVED
    controllers = set(served.api("/allocation", {**params, "aggregate": "controller"})[0])
    assert set(values["controllers"]) == controllers - RESERVED
    apps = set(served.api("/allocation", {**params, "aggregate": "label:app"})[0])
    assert set(values["labels"]["app"]) == apps - RESERVED
    assert set(values["clusters"]) == set(served.api("/allocation", {**params, "aggregate": "cluster"})[0])


def test_assets_matching_nothing_name_the_filter_and_list_the_types_and_clusters(served: Served) -> None:
    text = served.text("get_asset_costs", {"window": "7d", "type": "disk", "filter": 'cluster:"nowhere"'})
    assert "no asset matches type 'Disk' and filter 'cluster:\"nowhere\"'" in text
    api = served.api("/assets", {"window": "7d"})
    listed = text.split("types: ")[1]
    for asset in api.values():
        assert asset["type"] in listed.split(";")[0] and asset["properties"]["cluster"] in listed.split("clusters: ")[1]


def test_cloud_cost_text_names_the_bills_currency() -> None:
    window = TimeRange(start="2026-12-01T00:00:00Z", end="2026-12-08T00:00:00Z")
    row = CloudCostRow(name="AmazonEC2", billed_cost=12.5, effective_cost=11.0, list_cost=14.0, currency="EUR")
    one = CloudCosts(window=window, aggregate="service", filter="", total_billed_cost=12.5, rows=[row])
    assert "billed 12.50 EUR in all (1 row(s))" in cloud_text(one)
    mixed = one.model_copy(update={"rows": [row, row.model_copy(update={"name": "S3", "currency": "USD"})]})
    assert "see each row's currency" in cloud_text(mixed)

"""The billed_cost gauge: labels from the file's columns, Tags flattened, scraped over HTTP, rows removed."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from kubetally.errors import FocusFileError
from kubetally.focus.exporter import BilledCostCollector, Series, billed_cost_series, flatten_tags, label_name, merge
from kubetally.focus.pipeline import Pipeline
from kubetally.ledger import Ledger
from tests.focus_pipeline.conftest import DATA, SEED_BILL_PATH, BillApi, build_pipeline, seed_api

BILL = (DATA / "bill.csv").read_bytes()


def scrape(port: int) -> dict[str, list[Sample]]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


@pytest.fixture
def metrics_port(bill_api: BillApi, ledger: Ledger) -> Iterator[tuple[int, Pipeline]]:
    seed_api(bill_api)
    pipeline = build_pipeline([DATA / "seed.yaml"], ledger, {"BILLS_SERVER": bill_api.address})
    registry = CollectorRegistry()
    registry.register(pipeline.collector)
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    yield server.server_port, pipeline
    server.shutdown()
    thread.join(timeout=5)


def test_gauge_over_http_has_one_sample_per_row_with_file_labels(metrics_port: tuple[int, Pipeline]) -> None:
    port, pipeline = metrics_port
    assert all(r.ok for r in pipeline.poll_all())
    samples = scrape(port)["billed_cost"]
    rows = list(csv.DictReader(io.StringIO(BILL.decode())))
    assert len(samples) == len(rows)
    by_name = {s.labels["ResourceName"]: s for s in samples}
    for row in rows:
        sample = by_name[row["ResourceName"]]
        assert sample.value == pytest.approx(float(row["BilledCost"]))
        assert "x_CostCenter" not in sample.labels
        assert set(sample.labels) == {c for c in row if not c.startswith("x_")}
        assert sample.labels["ResourceId"] == row["ResourceId"]
    assert by_name["vm-web-1"].labels["Tags"] == "team: web;env: prod"
    assert by_name["ip-web-1"].labels["Tags"] == ""
    assert by_name["ip-web-1"].labels["ChargeClass"] == ""
    up = {s.labels["config"]: s.value for s in scrape(port)["kubetally_pipeline_up"]}
    assert up == {"finops/azure-costs": 1.0, "finops/vm-web-1-usage": 1.0}


def test_rows_that_disappear_leave_the_gauge(metrics_port: tuple[int, Pipeline], bill_api: BillApi) -> None:
    port, pipeline = metrics_port
    pipeline.poll(pipeline.targets[0])
    lines = BILL.decode().splitlines(keepends=True)
    bill_api.routes[SEED_BILL_PATH].body = "".join(line for line in lines if "disk-web-1" not in line).encode()
    assert pipeline.poll(pipeline.targets[0]).ok
    names = sorted(s.labels["ResourceName"] for s in scrape(port)["billed_cost"])
    assert names == ["ip-web-1", "vm-web-1"]


def test_failed_poll_keeps_the_gauge_and_marks_the_endpoint_down(
    metrics_port: tuple[int, Pipeline], bill_api: BillApi
) -> None:
    port, pipeline = metrics_port
    pipeline.poll(pipeline.targets[0])
    bill_api.routes[SEED_BILL_PATH].failures = 3
    assert not pipeline.poll(pipeline.targets[0]).ok
    metrics = scrape(port)
    assert len(metrics["billed_cost"]) == 3
    assert {s.labels["config"]: s.value for s in metrics["kubetally_pipeline_up"]} == {"finops/azure-costs": 0.0}


def test_flatten_tags() -> None:
    assert flatten_tags('{"team": "web", "env": "prod"}') == "team: web;env: prod"
    assert flatten_tags('{"replicas": 3, "spot": true}') == "replicas: 3;spot: true"
    assert flatten_tags("{}") == ""
    assert flatten_tags("not json") == "not json"


def test_label_name_makes_valid_prometheus_names() -> None:
    assert label_name("BilledCost") == "BilledCost"
    assert label_name("Cost Center.eu") == "Cost_Center_eu"
    assert label_name("1st") == "_1st"


def test_identical_rows_are_summed_into_one_sample() -> None:
    labels = (("ResourceId", "a"),)
    merged = merge([Series(labels, 1.5), Series((("ResourceId", "b"),), 2.0), Series(labels, 0.25)])
    assert merged == (Series(labels, 1.75), Series((("ResourceId", "b"),), 2.0))


def test_collector_replaces_an_endpoints_rows() -> None:
    collector = BilledCostCollector()
    collector.replace("a/x", billed_cost_series(BILL, "bill.csv"))
    collector.replace("a/y", (Series((("ResourceId", "other"),), 9.0),))
    assert len(next(iter(collector.collect())).samples) == 4
    collector.replace("a/x", ())
    assert [s.value for s in next(iter(collector.collect())).samples] == [9.0]


def test_series_without_billed_cost_column_is_refused() -> None:
    with pytest.raises(FocusFileError, match="BilledCost"):
        billed_cost_series(b"ResourceId,ListCost\nr1,2\n", "nocost.csv")

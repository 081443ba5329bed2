"""End-to-end polls against a local bill API: the seed's configuration, auth, failures, idempotence, usage join."""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import pytest

from kubetally.focus.pipeline import PollResult
from kubetally.ledger import Ledger
from tests.focus_pipeline.conftest import (
    DATA,
    LATER_TOKEN,
    SEED_BILL_PATH,
    SEED_USAGE_PATH,
    VM_ID,
    BillApi,
    FakeTime,
    Route,
    build_pipeline,
    seed_api,
)

SEED = DATA / "seed.yaml"
LATER = DATA / "later.yaml"


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def ledger_costs(ledger: Ledger) -> tuple[int, float]:
    frame = ledger.fetch("SELECT count(*) AS n, coalesce(sum(BilledCost), 0) AS total FROM cloud_costs")
    return int(frame["n"][0]), float(frame["total"][0])


def usage_count(ledger: Ledger) -> int:
    return int(ledger.fetch("SELECT count(*) AS n FROM cloud_usage")["n"][0])


def test_seed_configuration_polls_both_endpoints(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    results = {r.config: r for r in pipeline.poll_all()}
    assert results["finops/azure-costs"].ok and results["finops/vm-web-1-usage"].ok
    bill = csv_rows(DATA / "bill.csv")
    count, total = ledger_costs(ledger)
    assert count == len(bill)
    assert total == pytest.approx(sum(float(r["BilledCost"]) for r in bill))
    sources = ledger.fetch("SELECT DISTINCT source FROM cloud_costs")["source"].to_list()
    assert sources == ["azure_focus_costs"]
    # the usage JSON has 5 points with an average and 1 without
    assert usage_count(ledger) == 5
    bill_requests = [auth for path, auth, _ in bill_api.requests if path == SEED_BILL_PATH]
    assert bill_requests == ["Bearer seed-token-7f3a"]


def test_later_form_with_endpoint_secret_from_secrets_dir(bill_api: BillApi, ledger: Ledger, tmp_path: Path) -> None:
    endpoint = tmp_path / "secrets" / "finops-test" / "bill-api-endpoint"
    endpoint.mkdir(parents=True)
    (endpoint / "server-url").write_text(f"http://{bill_api.address}/\n")
    bill_api.routes["/subscriptions/sub-1/focus/latest.csv"] = Route((DATA / "bill.csv").read_bytes(), LATER_TOKEN)
    bill_api.routes["/metrics/vm-web-1.json"] = Route((DATA / "usage.json").read_bytes())
    pipeline = build_pipeline([LATER], ledger, {}, secrets_dir=tmp_path / "secrets")
    assert all(r.ok for r in pipeline.poll_all())
    headers = next(h for path, _, h in bill_api.requests if path == "/subscriptions/sub-1/focus/latest.csv")
    assert headers["Accept"] == "text/csv"
    assert headers["x-ms-client-tenant"] == "contoso-tenant"
    assert ledger_costs(ledger)[0] == 3
    assert ledger.fetch("SELECT DISTINCT source FROM cloud_usage")["source"].to_list() == ["vm-web-1-cpu"]


def test_wrong_token_is_reported_and_nothing_written(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    bill_api.routes[SEED_BILL_PATH].token = "another-token"
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    result = pipeline.poll(pipeline.targets[0])
    assert not result.ok
    assert result.error is not None and "401" in result.error
    assert result.attempts == 1  # a 4xx is not retried
    assert ledger_costs(ledger) == (0, 0.0)


def test_transient_503_is_retried_within_the_poll(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    bill_api.routes[SEED_BILL_PATH].failures = 2
    time = FakeTime()
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address}, time=time)
    result = pipeline.poll(pipeline.targets[0])
    assert result.ok and result.attempts == 3
    assert time.sleeps == [2.0, 4.0]
    assert ledger_costs(ledger)[0] == 3


def test_failing_endpoint_recovers_at_the_next_poll(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    bill_api.routes[SEED_BILL_PATH].failures = 3  # every attempt of the first poll
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    first = pipeline.poll(pipeline.targets[0])
    assert not first.ok and first.attempts == 3
    assert first.error is not None and "503" in first.error
    assert ledger_costs(ledger) == (0, 0.0)
    second = pipeline.poll(pipeline.targets[0])
    assert second.ok and second.inserted == 3
    assert ledger_costs(ledger)[0] == 3


def test_unreachable_endpoint_fails_after_retries(ledger: Ledger) -> None:
    time = FakeTime()
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": "127.0.0.1:9"}, time=time)
    result = pipeline.poll(pipeline.targets[0])
    assert not result.ok and result.attempts == 3
    assert result.error is not None and "cannot reach" in result.error
    assert len(time.sleeps) == 2


def test_malformed_file_is_rejected_whole_and_last_good_data_kept(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    assert pipeline.poll(pipeline.targets[0]).ok
    before = ledger_costs(ledger)
    bill_api.routes[SEED_BILL_PATH].body = (DATA / "malformed.csv").read_bytes()
    result = pipeline.poll(pipeline.targets[0])
    assert not result.ok
    assert {row for row, _ in result.problems} == {2, 3}
    assert "BilledCost" in dict(result.problems)[2]
    assert "ChargePeriodStart" in dict(result.problems)[3]
    assert ledger_costs(ledger) == before
    assert len(next(iter(pipeline.collector.collect())).samples) == 3


def test_malformed_file_on_first_poll_writes_nothing(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api, (DATA / "malformed.csv").read_bytes())
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    assert not pipeline.poll(pipeline.targets[0]).ok
    assert ledger_costs(ledger) == (0, 0.0)
    assert next(iter(pipeline.collector.collect())).samples == []


def test_repeated_polls_do_not_duplicate_rows(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    first = pipeline.poll_all()
    after_first = (ledger_costs(ledger), usage_count(ledger))
    second = pipeline.poll_all()
    assert (ledger_costs(ledger), usage_count(ledger)) == after_first
    assert [r.inserted for r in first] == [3, 5]
    assert [(r.inserted, r.updated) for r in second] == [(0, 3), (0, 5)]


def test_usage_joins_costs_on_resource_id(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    assert all(r.ok for r in pipeline.poll_all())
    joined = ledger.fetch(
        """
        SELECT c.ResourceName, c.BilledCost, u.metricName, avg(u.average) AS mean, count(*) AS points
        FROM cloud_costs c JOIN cloud_usage u ON c.ResourceId = u.ResourceId
        GROUP BY ALL ORDER BY u.metricName
        """
    )
    assert joined["ResourceName"].to_list() == ["vm-web-1", "vm-web-1"]
    assert joined["metricName"].to_list() == ["Available Memory Bytes", "Percentage CPU"]
    assert joined["points"].to_list() == [2, 3]
    assert joined["mean"][1] == pytest.approx((21.5 + 35.0 + 28.5) / 3)
    assert ledger.fetch("SELECT DISTINCT ResourceId FROM cloud_usage")["ResourceId"].to_list() == [VM_ID]


def test_malformed_usage_json_is_rejected_with_its_path(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    bill_api.routes[SEED_USAGE_PATH].body = b'{"value": [{"name": {"value": "cpu"}, "timeseries": [{"data": [{}]}]}]}'
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    result = pipeline.poll(pipeline.targets[1])
    assert not result.ok
    assert result.error is not None and "$.value[0].timeseries[0].data[0].timeStamp" in result.error
    assert usage_count(ledger) == 0


def test_schedule_polls_each_endpoint_at_its_interval(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    time = FakeTime()
    start = time.now
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address}, time=time)
    stop = threading.Event()

    def sleep(seconds: float) -> None:
        time.sleep(seconds)
        if time.now - start >= 25 * 3600:
            stop.set()

    pipeline.sleep = sleep
    pipeline.run(stop)
    # bill every 24 h (0, 24 h), usage every hour (0 … 24 h); the sleep that reaches 25 h stops the loop
    assert bill_api.hits(SEED_BILL_PATH) == 2
    assert bill_api.hits(SEED_USAGE_PATH) == 25
    assert all(seconds == pytest.approx(3600.0) for seconds in time.sleeps)


def test_schedule_recovers_a_failing_endpoint_without_restart(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    bill_api.routes[SEED_BILL_PATH].failures = 3
    time = FakeTime()
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address}, time=time)
    stop = threading.Event()
    outcomes: list[tuple[str, bool]] = []

    def record(result: PollResult) -> None:
        outcomes.append((result.config, result.ok))
        if sum(1 for config, _ in outcomes if config == "finops/azure-costs") == 2:
            stop.set()

    pipeline.run(stop, on_result=record)
    assert [ok for config, ok in outcomes if config == "finops/azure-costs"] == [False, True]
    assert ledger_costs(ledger)[0] == 3


def test_bill_rows_as_written_match_the_file(bill_api: BillApi, ledger: Ledger) -> None:
    seed_api(bill_api)
    pipeline = build_pipeline([SEED], ledger, {"BILLS_SERVER": bill_api.address})
    pipeline.poll(pipeline.targets[0])
    stored = ledger.fetch("SELECT ResourceName, BilledCost FROM cloud_costs ORDER BY ResourceName")
    expected = sorted((r["ResourceName"], float(r["BilledCost"])) for r in csv_rows(DATA / "bill.csv"))
    assert list(stored.iter_rows()) == expected

"""Hardening of the bills a real ``kubetally serve`` polls (``--pipeline-config``): a bill whose lines repeat and
malformed bills (a duplicated header column, a NUL byte, too many fields, an unbalanced quote) are refused whole
with the row that is wrong, the endpoint is reported down on ``/metrics``, and the served cloud costs are those of
the good bill alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.focus_pipeline.conftest import DATA, SEED_BILL_PATH, SEED_TOKEN, BillApi, Route, bill_handler, seed_api
from tests.focus_pipeline.conftest import serving as serving_bills
from tests.runner import serving

HEADER, *LINES = (DATA / "bill.csv").read_text().splitlines(keepends=True)
GOOD_TOTAL = 12.5 + 3.25 + 0.8
"""The BilledCost of the good bill's three lines (tests/focus_pipeline/data/bill.csv), added by hand."""

BAD_BILLS = {
    "repeated": (HEADER + LINES[0] * 40 + "".join(LINES[1:]), "row 2: repeats row 1 exactly"),
    "nul": (HEADER + LINES[0] + LINES[1].replace("disk-web-1,", "disk\x00web,") + LINES[2], "row 2: field 22 holds"),
    "header": (
        HEADER.replace("x_CostCenter", "BilledCost") + "".join(LINES),
        "column 'BilledCost' appears twice in the header",
    ),
    "fields": (HEADER + LINES[0] + LINES[1] + LINES[2].rstrip("\n") + ",surplus\n", "row 3: too many fields"),
    "quote": (HEADER + LINES[0] + LINES[1] + LINES[2].replace(",ip-web-1,", ',"ip-web-1,', 1), "row 3: not valid CSV"),
}
"""Each bad bill and what the refusal must say (the row numbers count the lines after the header from 1)."""


@dataclass(frozen=True)
class Served:
    url: str
    log: Path


def _config(folder: Path) -> Path:
    """The seed configuration with one more bill endpoint (and table) per bad bill."""
    documents = (DATA / "seed.yaml").read_text().split("\n---\n")
    (costs,) = [doc for doc in documents if "name: azure-costs" in doc]
    extra = [
        costs.replace("name: azure-costs", f"name: bill-{case}")
        .replace("billName: november", f"billName: {case}")
        .replace("tableName: azure_focus_costs", f"tableName: bill_{case}")
        for case in BAD_BILLS
    ]
    path = folder / "pipeline.yaml"
    path.write_text("\n---\n".join([*documents, *extra]))
    return path


def _pipeline_up(url: str) -> dict[str, float]:
    text = httpx.get(f"{url}/metrics", timeout=10).text
    return {
        sample.labels["config"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "kubetally_pipeline_up"
        for sample in family.samples
    }


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("bills")
    api = BillApi()
    with (
        serving_bills(ThreadingHTTPServer(("127.0.0.1", 0), bill_handler(api)), api),
        pytest.MonkeyPatch.context() as env,
    ):
        seed_api(api)
        for case, (bill, _) in BAD_BILLS.items():
            api.routes[SEED_BILL_PATH.replace("november", case)] = Route(bill.encode(), SEED_TOKEN)
        env.setenv("BILLS_SERVER", api.address)  # inherited by the serve process
        log = folder / "serve.log"
        with serving(["--db", str(folder / "served.duckdb"), "--pipeline-config", str(_config(folder))], log) as url:
            deadline = time.monotonic() + 60
            while len(_pipeline_up(url)) < 2 + len(BAD_BILLS):
                assert time.monotonic() < deadline, "the pipeline did not poll every endpoint"
                time.sleep(0.3)
            yield Served(url, log)


def test_every_bad_bill_is_refused_naming_its_row_and_reported_down(served: Served) -> None:
    up = _pipeline_up(served.url)
    assert up["finops/azure-costs"] == 1.0
    log = " ".join(served.log.read_text().split())
    for case, (_, message) in BAD_BILLS.items():
        assert up[f"finops/bill-{case}"] == 0.0, case
        assert f"bill_{case} rejected" in log, case
        refusal = log[log.index(f"bill_{case} rejected") :][:300]
        assert message in refusal, (case, refusal)


def test_the_costs_served_are_the_good_bill_alone(served: Served) -> None:
    status = httpx.get(f"{served.url}/cloudCost/status", timeout=10).json()["data"]
    assert [row["rows"] for row in status] == [3]
    window = "2026-11-01T00:00:00Z,2026-12-01T00:00:00Z"
    totals = httpx.get(f"{served.url}/cloudCost/view/totals", params={"window": window}, timeout=10)
    assert totals.status_code == 200, totals.text
    assert totals.json()["data"]["combined"]["cost"] == pytest.approx(GOOD_TOTAL)

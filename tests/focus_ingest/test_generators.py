"""Bills shaped like a public FOCUS sample generator's (GCP 1.2, Azure 1.3): every line is kept, so the ledger's
``/cloudCost`` totals equal the files' ``BilledCost`` sums."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.focus_ingest.conftest import csv_rows, csv_total, ingest
from tests.runner import kubetally

PERIOD = {"BillingPeriodStart": "2026-05-01T00:00:00Z", "BillingPeriodEnd": "2026-06-01T00:00:00Z"}
CHARGE = {"ChargePeriodStart": "2026-05-02T00:00:00Z", "ChargePeriodEnd": "2026-05-03T00:00:00Z"}


def _line(provider: str, account: str, category: str, cost: float, **extra: str) -> dict[str, str]:
    amount = f"{cost:.6f}"
    return {
        **PERIOD,
        **CHARGE,
        "BilledCost": amount,
        "EffectiveCost": amount,
        "ListCost": amount,
        "ContractedCost": amount,
        "BillingAccountId": account,
        "BillingAccountName": f"{provider} account",
        "BillingCurrency": "USD",
        "ChargeCategory": category,
        "ChargeClass": "",
        "ChargeDescription": f"{category} line",
        "InvoiceIssuerName": provider,
        "PricingQuantity": "1",
        "PricingUnit": "Hours",
        "ServiceCategory": "Compute",
        "ServiceName": "Compute Engine" if provider == "Google Cloud" else "Virtual Machines",
        "ResourceId": "",
        "ResourceName": "",
        "SkuId": "",
        "SkuPriceId": "",
        "Tags": "{}",
        **extra,
    }


def _generated(provider: str, account: str, version: str) -> list[dict[str, str]]:
    """The row kinds of the generator: several SKUs per resource, a tax line and a credit per resource with no
    SKU, tax rows without a resource, a purchase; the same resource ids in both providers' bills."""
    rows: list[dict[str, str]] = []
    for r in range(1, 9):
        resource = {"ResourceId": f"res-{r}", "ResourceName": f"resource {r}"}
        for sku in ("cpu", "ram", "disk"):
            rows.append(_line(provider, account, "Usage", 1.0 + r * 0.37 + len(sku) * 0.011, SkuId=sku, **resource))
        rows.append(_line(provider, account, "Tax", 0.123 * r, **resource))
        rows.append(_line(provider, account, "Credit", -0.05 * r, ChargeClass="", **resource))
    for region in ("us", "eu", "asia"):
        rows.append(_line(provider, account, "Tax", 0.77, ChargeDescription=f"sales tax {region}"))
    rows.append(_line(provider, account, "Purchase", 120.0, ChargeDescription="commitment purchase"))
    rows.append(_line(provider, account, "Tax", 0.77, ChargeDescription="sales tax us", ChargeClass="Correction"))
    if version == "1.3":
        for row in rows:
            row["ServiceProviderName"] = provider
            row["HostProviderName"] = provider
    else:
        for row in rows:
            row["ProviderName"] = provider
            row["PublisherName"] = provider
            row["InvoiceId"] = "inv-1"
    return rows


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue())
    return path


def test_cloud_cost_totals_equal_the_files_billed_cost_sums(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    gcp = _write(tmp_path / "gcp-1.2.csv", _generated("Google Cloud", "gcp-billing-1", "1.2"))
    azure = _write(tmp_path / "azure-1.3.csv", _generated("Microsoft", "azure-billing-1", "1.3"))
    run = ingest(capsys, monkeypatch, db, gcp, azure)
    assert run.code == 0, run.err
    expected = csv_total(csv_rows(gcp), "BilledCost") + csv_total(csv_rows(azure), "BilledCost")
    answer = kubetally(
        capsys,
        monkeypatch,
        "cloud-costs",
        "--db",
        str(db),
        "--window",
        "2026-05-01T00:00:00Z,2026-06-01T00:00:00Z",
        "--aggregate",
        "provider",
        "--format",
        "json",
    )
    assert answer.code == 0, answer.err
    data = json.loads(answer.out)
    items = [item for cloud_set in data["sets"] for item in cloud_set["cloudCosts"].values()]
    total = sum(item["netCost"]["cost"] for item in items)
    assert total == pytest.approx(expected, abs=1e-6)
    assert len(items) == 2

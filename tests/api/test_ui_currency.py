"""The UI pages show costs in the served price book's currency (OpenCost ``currencyCode``)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from kubetally.api.app import create_app
from kubetally.domain.pricing import PriceBook
from kubetally.domain.pricing.custom import parse_custom_pricing
from tests.api.conftest import NOW


def test_pages_use_the_price_books_currency(small_ledger: Path) -> None:
    euros = PriceBook(parse_custom_pricing({"currencyCode": "EUR"}))
    with TestClient(create_app(small_ledger, prices=euros, clock=lambda: NOW)) as client:
        for page in ("/", "/ui/assets", "/ui/cloud"):
            assert 'data-currency="EUR"' in client.get(page).text
    with TestClient(create_app(small_ledger, clock=lambda: NOW)) as client:
        assert 'data-currency="USD"' in client.get("/").text

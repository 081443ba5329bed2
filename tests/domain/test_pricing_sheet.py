"""The price sheet CSV: the documented columns and precise errors naming file, line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetally.domain.pricing import PriceBook, load_price_sheet
from kubetally.errors import InvalidPricing

from .test_pricing_support import m5_large

GOOD = """instance_type,region,capacity_type,price_per_hour
m5.large,us-east-1,on_demand,0.096
m5.large,us-east-1,spot,0.0384
m5.large,,on_demand,0.11
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sheet.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_sheet(tmp_path: Path) -> None:
    sheet = load_price_sheet(_write(tmp_path, GOOD))
    assert len(sheet) == 3
    assert sheet.price_per_hour("m5.large", "us-east-1", spot=False) == 0.096
    assert sheet.price_per_hour("m5.large", "us-east-1", spot=True) == 0.0384
    assert sheet.price_per_hour("m5.large", "eu-west-1", spot=False) == 0.11
    assert sheet.price_per_hour("m5.large", "eu-west-1", spot=True) is None
    assert sheet.price_per_hour(None, "us-east-1", spot=False) is None


def test_header_case_column_order_and_extra_columns(tmp_path: Path) -> None:
    text = "Price_Per_Hour, Capacity_Type ,Region,Instance_Type,note\n0.5,SPOT,r1,x1,cheap\n"
    sheet = load_price_sheet(_write(tmp_path, text))
    assert sheet.price_per_hour("x1", "r1", spot=True) == 0.5


def test_sheet_feeds_the_price_book(tmp_path: Path) -> None:
    price = PriceBook.from_files(sheet=_write(tmp_path, GOOD)).node_price(m5_large())
    assert price.source == "price_sheet"
    assert price.cpu_price_per_core_hour == pytest.approx(0.0312471, abs=5e-8)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "instance_type,region,price_per_hour\nm5.large,r,0.1\n",
            "missing column 'capacity_type' (required columns: instance_type, region, capacity_type, price_per_hour)",
        ),
        (
            GOOD + "m5.xlarge,us-east-1,on_demand,0.19O\n",
            "line 5, column 'price_per_hour': price is not a number (got '0.19O')",
        ),
        (
            GOOD + "m5.xlarge,us-east-1,on_demand,-0.19\n",
            "line 5, column 'price_per_hour': price must be a finite number >= 0 (got '-0.19')",
        ),
        (
            GOOD + "m5.large,us-east-1,on_demand,0.097\n",
            "line 5: duplicate row for instance_type='m5.large', region='us-east-1', capacity_type='on_demand' "
            "(first on line 2)",
        ),
        (
            "instance_type,region,capacity_type,price_per_hour\nm5.large,r,reserved,0.1\n",
            "line 2, column 'capacity_type': capacity type must be one of on_demand, spot (got 'reserved')",
        ),
        (
            "instance_type,region,capacity_type,price_per_hour\nm5.large,r,spot,0.1\n,r,spot,0.2\n",
            "line 3, column 'instance_type': empty instance type (got '')",
        ),
        (
            "instance_type,region,capacity_type,price_per_hour\nm5.large,r,spot,\n",
            "line 2, column 'price_per_hour': empty price (got '')",
        ),
        (
            "instance_type,region,capacity_type,price_per_hour\nm5.large,r,spot,inf\n",
            "line 2, column 'price_per_hour': price must be a finite number >= 0 (got 'inf')",
        ),
    ],
)
def test_malformed_sheets(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidPricing) as caught:
        load_price_sheet(path)
    assert caught.value.message == f"price sheet {path}: {message}"


def test_unreadable_sheets(tmp_path: Path) -> None:
    with pytest.raises(InvalidPricing, match=r"cannot read price sheet .*missing\.csv"):
        load_price_sheet(tmp_path / "missing.csv")
    header = "instance_type,region,capacity_type,price_per_hour\n"
    ragged = _write(tmp_path, header + "a,b,spot,1\na,c,spot,1,extra,more\n")
    with pytest.raises(InvalidPricing, match=r"sheet\.csv: line 3: expected 4 fields, found 6$"):
        load_price_sheet(ragged)
    with pytest.raises(InvalidPricing, match="price sheet"):
        load_price_sheet(_write(tmp_path, ""))

"""Hostile pricing files: each gives InvalidPricing naming the file, never a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetally.domain.pricing import PriceBook
from kubetally.errors import InvalidPricing


def test_deeply_nested_json_is_invalid_pricing(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000, encoding="utf-8")
    with pytest.raises(InvalidPricing, match=r"deep\.json: invalid JSON: nested too deeply"):
        PriceBook.from_files(custom=path)


def test_binary_pricing_file_is_invalid_pricing(tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b"\x00\xff\xfe garbage")
    with pytest.raises(InvalidPricing, match=r"cannot read custom pricing file .*binary\.json"):
        PriceBook.from_files(custom=path)


def test_a_directory_is_not_a_price_sheet(tmp_path: Path) -> None:
    folder = tmp_path / "sheet.csv"
    folder.mkdir()
    with pytest.raises(InvalidPricing, match=r"cannot read price sheet .*sheet\.csv: it is a directory"):
        PriceBook.from_files(sheet=folder)


def test_binary_price_sheet_is_invalid_pricing(tmp_path: Path) -> None:
    path = tmp_path / "sheet.csv"
    path.write_bytes(b"instance_type,region,capacity_type,price_per_hour\n\xff\xfe,us,on_demand,1\n")
    with pytest.raises(InvalidPricing, match=r"cannot read price sheet .*sheet\.csv"):
        PriceBook.from_files(sheet=path)

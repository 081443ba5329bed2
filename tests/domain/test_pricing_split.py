"""Appendix A: a node's total price split into CPU, RAM and GPU unit prices."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubetally.domain.pricing import UnitPrices, split_node_price


def test_appendix_a_m5_large_with_default_prices() -> None:
    # opencost-compat.md §8: m5.large $0.096/h, 2 vCPU, 8 GiB, defaults -> RAM 0.0041882, CPU 0.0312471.
    units = split_node_price(0.096, UnitPrices(0.031611, 0.004237, 0.95), cpu_cores=2, ram_gib=8, gpu_count=0)
    assert units is not None
    assert units.cpu_price_per_core_hour == pytest.approx(0.0312471, abs=5e-8)
    assert units.ram_price_per_gib_hour == pytest.approx(0.0041882, abs=5e-8)


def test_appendix_a_spec_example_with_a_gpu() -> None:
    # Spec example: $35 node, 1 GPU, 1 CPU, 1 GB; base GPU 30, CPU 30, RAM 10 -> GPU 15, CPU 15, RAM 5.
    units = split_node_price(35.0, UnitPrices(30.0, 10.0, 30.0), cpu_cores=1, ram_gib=1, gpu_count=1)
    assert units == UnitPrices(15.0, 5.0, 15.0)


def test_shape_that_prices_to_zero_cannot_be_split() -> None:
    assert split_node_price(1.0, UnitPrices(0.03, 0.004, 0.95), cpu_cores=0, ram_gib=0, gpu_count=0) is None
    assert split_node_price(1.0, UnitPrices(0.0, 0.0, 0.0), cpu_cores=4, ram_gib=16, gpu_count=1) is None


positive = st.floats(min_value=1e-6, max_value=1e3, allow_nan=False, allow_infinity=False)
capacity = st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=512.0))


@given(
    price=st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1e4)),
    base=st.builds(UnitPrices, positive, positive, positive),
    cpu_cores=capacity,
    ram_gib=capacity,
    gpu_count=st.integers(min_value=0, max_value=16).map(float),
)
def test_split_sums_back_to_the_node_price_and_keeps_ratios(
    price: float, base: UnitPrices, cpu_cores: float, ram_gib: float, gpu_count: float
) -> None:
    units = split_node_price(price, base, cpu_cores, ram_gib, gpu_count)
    if cpu_cores + ram_gib + gpu_count == 0:
        assert units is None
        return
    assert units is not None
    total = cpu_cores * units.cpu_price_per_core_hour
    total += ram_gib * units.ram_price_per_gib_hour + gpu_count * units.gpu_price_per_gpu_hour
    assert math.isclose(total, price, rel_tol=1e-9, abs_tol=1e-12)
    ratio = base.cpu_price_per_core_hour / base.ram_price_per_gib_hour
    if units.ram_price_per_gib_hour > 0:
        assert math.isclose(units.cpu_price_per_core_hour / units.ram_price_per_gib_hour, ratio, rel_tol=1e-9)

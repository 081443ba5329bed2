"""The load benchmark's interleaving arithmetic (benchmarks/api_load.py), on hand-made slices."""

from __future__ import annotations

import pytest
from benchmarks.api_load import LoadResult, Slice, merge, pair_ratios, throughput_ratio


def _load(requests: int, p99: float, seconds: int = 10) -> LoadResult:
    return LoadResult(1.0, 2.0, 3.0, p99, requests, requests / seconds, 0, 1)


# clean 1000, hostile 900, then hostile 600, clean 500: the machine slowed by half between the pairs.
SLICES = [
    Slice("clean", _load(1000, 50.0), 1.0, 0),
    Slice("hostile", _load(900, 80.0), 1.0, 30),
    Slice("hostile", _load(600, 70.0), 2.0, 20),
    Slice("clean", _load(500, 60.0), 2.0, 0),
]


def test_each_pair_is_its_hostile_over_its_clean_throughput() -> None:
    assert pair_ratios(SLICES) == pytest.approx([0.9, 1.2])


def test_the_summed_ratio_weighs_the_slices_by_their_requests() -> None:
    assert throughput_ratio(SLICES) == pytest.approx((900 + 600) / (1000 + 500))


def test_merged_slices_sum_requests_and_errors_and_keep_the_largest_p99() -> None:
    merged = merge([s.load for s in SLICES if s.phase == "hostile"])
    assert (merged.requests, merged.non_2xx, merged.p99_ms) == (1500, 2, 80.0)
    assert merged.requests_per_second == pytest.approx((90 + 60) / 2)

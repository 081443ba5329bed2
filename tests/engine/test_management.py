"""R10: the ClusterManagement asset is overhead: no allocation row carries it."""

from __future__ import annotations

import pytest

from kubetally.domain.policy import BillingPolicy
from kubetally.engine import compute, invariant_gap
from tests.engine.conftest import FixedPrices, history, node, select, total


def test_management_fee_per_cluster_and_hour() -> None:
    h = history(3, nodes=[node(end=180.0)])
    result = compute(h, FixedPrices(management=0.25), BillingPolicy())
    fees = select(result.assets, type="ClusterManagement")
    assert fees.height == 3
    assert total(fees) == pytest.approx(3 * 0.25)
    # assets = nodes 3 h x (4 x 1.0 + 16 x 0.5) = 36 plus 0.75 of fees; allocations hold the 36 as idle
    assert total(result.assets) == pytest.approx(36.0 + 0.75)
    assert total(result.allocations) == pytest.approx(36.0)
    assert invariant_gap(result) < 1e-9


def test_no_management_asset_without_a_fee() -> None:
    result = compute(history(1, nodes=[node()]), FixedPrices(), BillingPolicy())
    assert select(result.assets, type="ClusterManagement").height == 0

"""PriceBook frame methods: one row per priced thing, exactly the published schemas."""

from __future__ import annotations

import polars as pl
import pytest

from kubetally.domain.pricing import CLUSTER_PRICES, GIB, LB_PRICES, NODE_PRICES, VOLUME_PRICES, PriceBook
from kubetally.history import empty

from .test_pricing_support import T0, T1, book, nodes_frame, table

CPU, RAM, GPU, STORAGE = 0.031611, 0.004237, 0.95, 0.00005479452


def test_node_prices_one_row_per_node_from_its_latest_row() -> None:
    mid = T0.replace(hour=3)
    nodes = nodes_frame(
        [
            {"node": "b", "labels": {"karpenter.sh/capacity-type": "spot"}, "start": T0, "end": mid},
            {"node": "b", "labels": {}, "start": mid.replace(hour=4), "end": T1},
            {"node": "a", "labels": {"label_cloud_google_com_gke_spot": "true"}},
            {"node": "a", "cluster": "c0"},
        ]
    )
    prices = PriceBook.default().node_prices(nodes, empty("observed_node_prices"))
    assert prices.schema == NODE_PRICES
    assert prices.select("cluster", "node", "preemptible").rows() == [
        ("c0", "a", False),
        ("c1", "a", True),
        ("c1", "b", False),
    ]
    assert set(prices["price_source"]) == {"default"}


def test_node_prices_observed_rows_averaged_and_partial_rows_fall_through() -> None:
    nodes = nodes_frame([{"node": "a"}, {"node": "b"}, {"node": "g", "gpu_count": 1.0}])
    observed = table(
        "observed_node_prices",
        [
            {"cluster": "c1", "node": "a", "cpu_price_per_core_hour": 0.04, "ram_price_per_gib_hour": 0.004},
            {"cluster": "c1", "node": "a", "cpu_price_per_core_hour": 0.06, "ram_price_per_gib_hour": 0.006},
            {"cluster": "c1", "node": "b", "cpu_price_per_core_hour": 0.04, "ram_price_per_gib_hour": None},
            {"cluster": "c1", "node": "g", "cpu_price_per_core_hour": 0.1, "ram_price_per_gib_hour": 0.01},
        ],
    )
    prices = PriceBook.default().node_prices(nodes, observed)
    assert prices.rows() == [
        ("c1", "a", pytest.approx(0.05), pytest.approx(0.005), GPU, False, 0.0, "prometheus"),
        ("c1", "b", CPU, RAM, GPU, False, 0.0, "default"),
        ("c1", "g", 0.1, 0.01, GPU, False, 0.0, "prometheus"),
    ]


def test_node_prices_of_no_nodes_is_empty_with_schema() -> None:
    prices = PriceBook.default().node_prices(empty("nodes"), empty("observed_node_prices"))
    assert prices.schema == NODE_PRICES and prices.height == 0


def _volumes(rows: list[tuple[str, str | None]]) -> pl.DataFrame:
    return table(
        "volumes",
        [
            {"cluster": "c1", "pv": pv, "storage_class": sc, "capacity_bytes": 10 * GIB, "start": T0, "end": T1}
            for pv, sc in rows
        ],
    )


def test_volume_prices_observed_then_storage_class_then_default() -> None:
    prices = book({"storage": "0.0001", "kubetally": {"storageClassesPerGiBMonth": {"gp3": "0.073"}}})
    volumes = _volumes([("p1", "gp3"), ("p2", "gp3"), ("p3", "standard"), ("p4", None), ("p1", "gp3")])
    observed = table("observed_volume_prices", [{"cluster": "c1", "pv": "p2", "price_per_gib_hour": 0.0002}])
    priced = prices.volume_prices(volumes, observed)
    assert priced.schema == VOLUME_PRICES
    assert priced.rows() == [
        ("c1", "p1", pytest.approx(0.073 / 730), "override"),
        ("c1", "p2", 0.0002, "prometheus"),
        ("c1", "p3", 0.0001, "default"),
        ("c1", "p4", 0.0001, "default"),
    ]


def test_volume_default_is_opencost_storage_price() -> None:
    priced = PriceBook.default().volume_prices(_volumes([("p", "x")]), empty("observed_volume_prices"))
    assert priced["price_per_gib_hour"].to_list() == [STORAGE]


def test_lb_prices_only_load_balancer_services() -> None:
    services = table(
        "services",
        [
            {"cluster": "c1", "namespace": "web", "service": s, "service_type": kind, "start": T0, "end": T1}
            for s, kind in [("lb", "LoadBalancer"), ("lb", "LoadBalancer"), ("ip", "ClusterIP"), ("np", "NodePort")]
        ]
        + [
            {
                "cluster": "c1",
                "namespace": "api",
                "service": "lb2",
                "service_type": "LoadBalancer",
                "start": T0,
                "end": T1,
            }
        ],
    )
    observed = table(
        "observed_lb_prices", [{"cluster": "c1", "namespace": "api", "service": "lb2", "price_per_hour": 0.5}]
    )
    priced = book({"defaultLBPrice": "0.03"}).lb_prices(services, observed)
    assert priced.schema == LB_PRICES
    assert priced.rows() == [("c1", "api", "lb2", 0.5), ("c1", "web", "lb", 0.03)]


def test_cluster_prices_observed_columns_override_configured() -> None:
    prices = book(
        {
            "zoneNetworkEgress": "0.02",
            "kubetally": {"clusterManagementPerHour": "0.1", "unclassifiedNetworkEgress": 0.05},
        }
    )
    observed = table(
        "observed_cluster_prices",
        [{"cluster": "b", "management_price_per_hour": 0.2, "internet_egress_price_per_gib": None}],
    )
    priced = prices.cluster_prices(["b", "a", "b"], observed)
    assert priced.schema == CLUSTER_PRICES
    assert priced.rows() == [("a", 0.1, 0.02, 0.01, 0.12, 0.05), ("b", 0.2, 0.02, 0.01, 0.12, 0.05)]


def test_default_cluster_prices() -> None:
    priced = PriceBook.default().cluster_prices(["a"], empty("observed_cluster_prices"))
    assert priced.rows() == [("a", 0.0, 0.01, 0.01, 0.12, 0.0)]

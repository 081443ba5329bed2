"""PriceBook node prices: the resolution order, discounts and spot detection."""

from __future__ import annotations

import pytest

from kubetally.domain.pricing import GIB, SPOT_LABELS, NodePrice, NodeSpec, PriceBook

from .test_pricing_support import book, m5_large

# OpenCost defaults (opencost-compat.md §8), written out independently of the code under test.
CPU, RAM, GPU = 0.031611, 0.004237, 0.95
SPOT_CPU, SPOT_RAM = 0.006655, 0.000892

SHEET = {
    ("m5.large", "us-east-1", "on_demand"): 0.096,
    ("m5.large", "us-east-1", "spot"): 0.0384,
    ("m5.large", "", "on_demand"): 0.2,
}
OBSERVED = NodePrice(0.05, 0.006, 2.0, preemptible=False, discount=0.0, source="prometheus")


def test_defaults_are_opencost_defaults() -> None:
    price = PriceBook.default().node_price(m5_large())
    assert price == NodePrice(CPU, RAM, GPU, preemptible=False, discount=0.0, source="default")
    assert PriceBook.default().currency == "USD"


def test_level_1_override_beats_everything() -> None:
    prices = book({"kubetally": {"instanceTypes": {"m5.large": {"CPU": "0.1", "RAM": 0.02}}}}, SHEET)
    price = prices.node_price(m5_large(), OBSERVED)
    assert price == NodePrice(0.1, 0.02, GPU, preemptible=False, discount=0.0, source="override")


def test_level_2_prometheus_beats_sheet() -> None:
    price = book(None, SHEET).node_price(m5_large(), OBSERVED)
    assert price == NodePrice(0.05, 0.006, 2.0, preemptible=False, discount=0.0, source="prometheus")


def test_level_3_price_sheet_is_split_by_appendix_a() -> None:
    price = book(None, SHEET).node_price(m5_large())
    assert price.source == "price_sheet"
    assert price.cpu_price_per_core_hour == pytest.approx(0.0312471, abs=5e-8)
    assert price.ram_price_per_gib_hour == pytest.approx(0.0041882, abs=5e-8)


def test_spec_example_through_the_price_book() -> None:
    # Appendix A: $35 node with 1 GPU, 1 CPU, 1 GiB and base prices CPU 30, RAM 10, GPU 30 -> 15, 5, 15.
    prices = book({"CPU": "30", "RAM": "10", "GPU": "30"}, {("g1", "r", "on_demand"): 35.0})
    node = NodeSpec("c", "n", "g1", "r", {}, cpu_cores=1, ram_bytes=GIB, gpu_count=1)
    assert prices.node_price(node) == NodePrice(15.0, 5.0, 15.0, False, 0.0, "price_sheet")


def test_sheet_region_falls_back_to_any_region_row() -> None:
    node = NodeSpec("c1", "n1", "m5.large", "eu-west-1", {}, 2.0, 8 * GIB, 0.0)
    price = book(None, SHEET).node_price(node)
    scale = 0.2 / (2 * CPU + 8 * RAM)
    assert price.source == "price_sheet"
    assert price.cpu_price_per_core_hour == pytest.approx(CPU * scale, rel=1e-12)


def test_level_4_defaults_when_the_sheet_has_no_row() -> None:
    node = NodeSpec("c1", "n1", "c5.xlarge", "us-east-1", {}, 4.0, 8 * GIB, 0.0)
    assert book(None, SHEET).node_price(node).source == "default"


def test_node_override_order_cluster_node_then_node_then_instance_type() -> None:
    prices = book(
        {
            "kubetally": {
                "nodes": {"c1/n1": {"CPU": 1}, "n1": {"CPU": 2}, "n2": {"CPU": 3}},
                "instanceTypes": {"m5.large": {"CPU": 4}},
            }
        }
    )
    cpu = [
        prices.node_price(m5_large(node=node, cluster=cluster)).cpu_price_per_core_hour
        for cluster, node in [("c1", "n1"), ("c2", "n1"), ("c1", "n2"), ("c1", "n3")]
    ]
    assert cpu == [1.0, 2.0, 3.0, 4.0]


def test_hourly_override_is_split_with_spot_base_for_a_spot_node() -> None:
    prices = book({"kubetally": {"instanceTypes": {"m5.large": {"hourly": "0.05"}}}})
    price = prices.node_price(m5_large({"karpenter.sh/capacity-type": "spot"}))
    scale = 0.05 / (2 * SPOT_CPU + 8 * SPOT_RAM)
    assert price.source == "override" and price.preemptible
    assert price.cpu_price_per_core_hour == pytest.approx(SPOT_CPU * scale, rel=1e-12)
    assert price.ram_price_per_gib_hour == pytest.approx(SPOT_RAM * scale, rel=1e-12)


def test_discounts_compound_on_cpu_and_ram_of_defaults_only() -> None:
    # 30 % and 10 %: 1 - 0.7 * 0.9 = 0.37 off CPU and RAM; GPU untouched.
    prices = book({"discount": "30%", "negotiatedDiscount": "10"})
    price = prices.node_price(m5_large())
    assert price.discount == pytest.approx(0.37, rel=1e-12)
    assert price.cpu_price_per_core_hour == pytest.approx(CPU * 0.63, rel=1e-12)
    assert price.ram_price_per_gib_hour == pytest.approx(RAM * 0.63, rel=1e-12)
    assert price.gpu_price_per_gpu_hour == GPU


def test_discounts_apply_to_sheet_prices_and_spot_nodes() -> None:
    prices = book({"discount": "20%"}, SHEET)
    on_demand = prices.node_price(m5_large())
    assert on_demand.cpu_price_per_core_hour == pytest.approx(0.0312471 * 0.8, abs=5e-8)
    spot = prices.node_price(m5_large({"eks.amazonaws.com/capacityType": "SPOT"}))
    scale = 0.0384 / (2 * SPOT_CPU + 8 * SPOT_RAM)
    assert spot.source == "price_sheet"
    assert spot.discount == pytest.approx(0.2)
    assert spot.ram_price_per_gib_hour == pytest.approx(SPOT_RAM * scale * 0.8, rel=1e-12)


def test_discounts_never_touch_overrides_or_observed_prices() -> None:
    prices = book({"discount": "50%", "kubetally": {"nodes": {"n2": {"CPU": "0.1"}}}})
    assert prices.node_price(m5_large(), OBSERVED).cpu_price_per_core_hour == 0.05
    assert prices.node_price(m5_large(node="n2")).cpu_price_per_core_hour == 0.1
    assert prices.node_price(m5_large(node="n2")).discount == 0.0


@pytest.mark.parametrize(
    "labels",
    [
        {"eks.amazonaws.com/capacityType": "SPOT"},
        {"label_eks_amazonaws_com_capacityType": "SPOT"},
        {"eks_amazonaws_com_capacityType": "spot"},
        {"cloud.google.com/gke-spot": "true"},
        {"label_cloud_google_com_gke_spot": "true"},
        {"cloud.google.com/gke-preemptible": "true"},
        {"label_cloud_google_com_gke_preemptible": "TRUE"},
        {"kubernetes.azure.com/scalesetpriority": "spot"},
        {"label_kubernetes_azure_com_scalesetpriority": "spot"},
        {"karpenter.sh/capacity-type": "spot"},
        {"label_karpenter_sh_capacity_type": "spot"},
        {"karpenter_sh_capacity_type": "spot"},
    ],
)
def test_spot_conventions_use_spot_defaults(labels: dict[str, str]) -> None:
    price = PriceBook.default().node_price(m5_large(labels))
    assert price == NodePrice(SPOT_CPU, SPOT_RAM, 0.308, preemptible=True, discount=0.0, source="default")


def test_every_documented_convention_is_tested() -> None:
    tested = {"eks.amazonaws.com/capacityType", "cloud.google.com/gke-spot", "cloud.google.com/gke-preemptible"}
    tested |= {"kubernetes.azure.com/scalesetpriority", "karpenter.sh/capacity-type"}
    assert {key for _, key, _ in SPOT_LABELS} == tested


@pytest.mark.parametrize(
    "labels",
    [
        {},
        {"eks.amazonaws.com/capacityType": "ON_DEMAND"},
        {"karpenter.sh/capacity-type": "on-demand"},
        {"cloud.google.com/gke-spot": "false"},
        {"kubernetes.azure.com/scalesetpriority": "regular"},
        {"node.kubernetes.io/instance-type": "spot"},
    ],
)
def test_non_spot_nodes_use_on_demand_defaults(labels: dict[str, str]) -> None:
    price = PriceBook.default().node_price(m5_large(labels))
    assert (price.cpu_price_per_core_hour, price.preemptible) == (CPU, False)


def test_opencost_spot_label_in_both_name_forms() -> None:
    prices = book({"spotLabel": "kops.k8s.io/instancegroup", "spotLabelValue": "spotinstance-nodes"})
    assert prices.node_price(m5_large({"kops.k8s.io/instancegroup": "spotinstance-nodes"})).preemptible
    assert prices.node_price(m5_large({"label_kops_k8s_io_instancegroup": "spotinstance-nodes"})).preemptible
    assert not prices.node_price(m5_large({"kops.k8s.io/instancegroup": "nodes"})).preemptible


def test_zero_capacity_node_falls_through_sheet_to_defaults() -> None:
    node = NodeSpec("c1", "n1", "m5.large", "us-east-1", {}, 0.0, 0.0, 0.0)
    assert book(None, SHEET).node_price(node).source == "default"

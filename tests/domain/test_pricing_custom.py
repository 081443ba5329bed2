"""The custom pricing file: OpenCost JSON as-is, the strict kubetally extension, precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubetally.domain.pricing import PriceBook, load_custom_pricing, parse_custom_pricing
from kubetally.errors import InvalidPricing

from .test_pricing_support import m5_large, write_json

# An OpenCost custom pricing file as its Helm chart writes it: every value a string, extra keys we do not use.
OPENCOST_FILE = {
    "provider": "custom",
    "description": "Modified pricing configuration.",
    "CPU": "1.25",
    "spotCPU": "0.006655",
    "RAM": "0.50",
    "spotRAM": "0.000892",
    "GPU": "0.95",
    "storage": "0.25",
    "zoneNetworkEgress": "0.01",
    "regionNetworkEgress": "0.01",
    "internetNetworkEgress": "0.12",
    "awsSpotDataRegion": "us-east-2",
    "firstFiveForwardingRulesCost": "",
    "discount": "",
    "negotiatedDiscount": "",
    "currencyCode": "EUR",
    "sharedNamespaces": "kube-system, monitoring",
    "sharedLabelNames": "team,app",
    "sharedLabelValues": "platform,prometheus",
    "sharedOverhead": "730",
}


def test_opencost_file_as_is(tmp_path: Path) -> None:
    prices = PriceBook.from_files(write_json(tmp_path, OPENCOST_FILE))
    price = prices.node_price(m5_large())
    assert (price.cpu_price_per_core_hour, price.ram_price_per_gib_hour, price.gpu_price_per_gpu_hour) == (
        1.25,
        0.5,
        0.95,
    )
    assert prices.storage_price_per_gib_hour == 0.25
    assert prices.currency == "EUR"
    assert prices.shared_namespaces == ("kube-system", "monitoring")
    assert prices.shared_labels == (("team", "platform"), ("app", "prometheus"))
    assert prices.shared_overhead_per_month == 730.0
    assert prices.shared_overhead_per_hour == 1.0
    assert price.discount == 0.0


def test_numbers_and_case_insensitive_keys() -> None:
    custom = parse_custom_pricing({"cpu": 0.5, "Ram": "0.25", "SPOTcpu": 0.1, "DEFAULTLBPRICE": 1})
    assert (custom.cpu_price_per_core_hour, custom.ram_price_per_gib_hour) == (0.5, 0.25)
    assert (custom.spot_cpu_price_per_core_hour, custom.lb_price_per_hour) == (0.1, 1.0)


def test_missing_and_empty_keys_take_opencost_defaults() -> None:
    custom = parse_custom_pricing({"CPU": "", "RAM": None})
    assert (custom.cpu_price_per_core_hour, custom.ram_price_per_gib_hour) == (0.031611, 0.004237)
    assert (custom.spot_cpu_price_per_core_hour, custom.spot_ram_price_per_gib_hour) == (0.006655, 0.000892)
    assert (custom.gpu_price_per_gpu_hour, custom.storage_price_per_gib_hour) == (0.95, 0.00005479452)
    assert (custom.zone_egress_price_per_gib, custom.internet_egress_price_per_gib) == (0.01, 0.12)
    assert custom.currency == "USD" and custom.shared_namespaces == ()


@pytest.mark.parametrize(
    ("given", "fraction"),
    [("30%", 0.3), ("30", 0.3), (30, 0.3), ("0.5", 0.005), (" 12.5 % ", 0.125), ("", 0.0)],
)
def test_discount_is_a_percentage_like_opencost(given: object, fraction: float) -> None:
    assert parse_custom_pricing({"discount": given}).discount == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"CPU": "abc"}, "pricing key 'CPU': 'abc' is not a number"),
        ({"RAM": "-1"}, "pricing key 'RAM': '-1' must be a finite number >= 0"),
        ({"GPU": True}, "pricing key 'GPU': expected a number or numeric string"),
        ({"storage": "nan"}, "pricing key 'storage'"),
        ({"discount": "100%"}, "pricing key 'discount': '100%' must be a discount below 100%"),
        ({"negotiatedDiscount": "ten"}, "pricing key 'negotiatedDiscount'"),
        ({"sharedNamespaces": 3}, "pricing key 'sharedNamespaces'"),
        ({"currencyCode": ["EUR"]}, "pricing key 'currencyCode': expected a string"),
        ({"sharedLabelNames": "a,b", "sharedLabelValues": "x"}, "2 names, 1 values"),
        ({"CPU": "1", "cpu": "2"}, "key 'cpu' is given twice"),
        ({"kubetally": {"instanceType": {}}}, "kubetally.instanceType: unknown kubetally key"),
        ({"kubetally": []}, "pricing key 'kubetally': expected a JSON object"),
        ({"kubetally": {"nodes": {"n1": {"cpu": "x"}}}}, "pricing key 'kubetally.nodes.n1.CPU': 'x' is not a number"),
        ({"kubetally": {"nodes": {"n1": {"memory": 1}}}}, "pricing key 'kubetally.nodes.n1': unknown key 'memory'"),
        ({"kubetally": {"nodes": {"n1": {}}}}, "an override needs 'hourly' or a unit price"),
        ({"kubetally": {"instanceTypes": {"m5": {"hourly": 1, "CPU": 1}}}}, "not both"),
        (
            {"kubetally": {"storageClassesPerGiBMonth": {"gp3": "-0.1"}}},
            "pricing key 'kubetally.storageClassesPerGiBMonth.gp3'",
        ),
        ({"kubetally": {"clusterManagementPerHour": "free"}}, "pricing key 'kubetally.clusterManagementPerHour'"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, document: object, message: str) -> None:
    path = write_json(tmp_path, document)
    with pytest.raises(InvalidPricing) as caught:
        load_custom_pricing(path)
    assert str(path) in caught.value.message
    assert message in caught.value.message


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "pricing.json"
    path.write_text('{\n  "CPU": "0.03",\n  "RAM": 0.004,,\n}\n', encoding="utf-8")
    with pytest.raises(InvalidPricing, match=r"pricing\.json: invalid JSON at line 3 column"):
        PriceBook.from_files(path)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(InvalidPricing, match="must be a JSON object, got list"):
        PriceBook.from_files(write_json(tmp_path, [1, 2]))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidPricing, match=r"cannot read custom pricing file .*nope\.json"):
        PriceBook.from_files(tmp_path / "nope.json")


def test_extension_keys_are_read() -> None:
    custom = parse_custom_pricing(
        {
            "kubetally": {
                "instanceTypes": {"m5.large": {"hourly": "0.096"}},
                "nodes": {"prod/n1": {"CPU": 0.1, "GPU": "2"}},
                "storageClassesPerGiBMonth": {"gp3": 0.08},
                "clusterManagementPerHour": "0.10",
                "unclassifiedNetworkEgress": "0.05",
            }
        }
    )
    assert custom.instance_type_overrides["m5.large"].price_per_hour == 0.096
    override = custom.node_overrides["prod/n1"]
    assert (override.cpu_price_per_core_hour, override.ram_price_per_gib_hour, override.gpu_price_per_gpu_hour) == (
        0.1,
        None,
        2.0,
    )
    assert custom.storage_class_price_per_gib_month == {"gp3": 0.08}
    assert (custom.cluster_management_price_per_hour, custom.unclassified_egress_price_per_gib) == (0.1, 0.05)

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kubetally.domain.provider_ids import resource_key, resource_key_expr

SAME_MACHINE = [
    ("aws:///us-east-1a/i-0abc", "i-0abc"),
    ("arn:aws:ec2:us-east-1:123456789012:instance/i-0abc", "i-0abc"),
    ("arn:aws:ec2:us-east-1:123456789012:instance:i-0ABC", "i-0abc"),
    ("i-0abc", "i-0abc"),
    ("  I-0ABC  ", "i-0abc"),
    ("aws://us-east-1a/i-0abc/", "i-0abc"),
    ("gce://my-project/europe-west1-b/gke-pool-1-abcd", "gke-pool-1-abcd"),
    ("//compute.googleapis.com/projects/my-project/zones/europe-west1-b/instances/gke-pool-1-abcd", "gke-pool-1-abcd"),
    ("azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/Worker-1", "worker-1"),
    ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/worker-1", "worker-1"),
    ("arn:aws:ec2:eu-west-1:123456789012:volume/vol-0123", "vol-0123"),
    ("aws://eu-west-1a/vol-0123", "vol-0123"),
]


@pytest.mark.parametrize(("value", "key"), SAME_MACHINE)
def test_every_spelling_of_a_resource_gives_its_key(value: str, key: str) -> None:
    assert resource_key(value) == key


def test_an_azure_scale_set_instance_is_named_by_its_set_and_number() -> None:
    first = "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/pool-a/virtualMachines/0"
    other = "azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachineScaleSets/pool-b/virtualMachines/0"
    assert resource_key(first) == "pool-a/0"
    assert resource_key(first) != resource_key(other)


@pytest.mark.parametrize("value", [None, "", "   ", "///", "::"])
def test_no_identity_gives_none(value: str | None) -> None:
    assert resource_key(value) is None


def test_different_machines_have_different_keys() -> None:
    assert resource_key("aws:///us-east-1a/i-0abc") != resource_key("aws:///us-east-1a/i-0abd")


def _keys_of_column(values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"id": pl.Series(values, dtype=pl.String)})
    return frame.select(key=resource_key_expr("id")).get_column("key").to_list()


def test_the_column_expression_gives_the_same_keys() -> None:
    values: list[str | None] = [value for value, _ in SAME_MACHINE] + [None, "", "///"]
    assert _keys_of_column(values) == [resource_key(v) for v in values]


def test_the_column_expression_accepts_an_expression() -> None:
    frame = pl.DataFrame({"id": ["AWS:///Z/I-1"]})
    assert frame.select(resource_key_expr(pl.col("id"))).item() == "i-1"


_TEXT = st.text(alphabet="abcXYZ019-_./: ", max_size=40)
_PARTS = st.lists(
    st.sampled_from(["virtualMachineScaleSets", "virtualMachines", "pool", "7", "i-0a", "", ":", "arn"]), max_size=8
)


@given(st.lists(st.one_of(st.none(), _TEXT, _PARTS.map("/".join)), max_size=20))
def test_the_column_expression_agrees_with_the_function_on_any_text(values: list[str | None]) -> None:
    assert _keys_of_column(values) == [resource_key(v) for v in values]

"""The SQL form of ``resource_key`` (used to join bills to nodes and disks in DuckDB) agrees with the Python one."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kubetally.domain.provider_ids import resource_key
from kubetally.query.cloud_fields import resource_key_sql

EXAMPLES = [
    "aws:///us-east-1a/i-0ABC",
    "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
    "i-0abc",
    "  gce://project/zone/Node-1 \t",
    "//compute.googleapis.com/projects/p/zones/z/instances/node-1",
    "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachines/vm-1",
    "azure:///subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/virtualMachineScaleSets/pool/virtualMachines/3",
    "vol-0123/",
    "//",
    "::",
    "",
    " ",
    None,
]


CONNECTION = duckdb.connect()
SQL = f"SELECT {resource_key_sql('v')} FROM unnest(?::VARCHAR[]) WITH ORDINALITY AS t(v, i) ORDER BY i"


def sql_keys(values: list[str | None]) -> list[str | None]:
    return [row[0] for row in CONNECTION.execute(SQL, [values]).fetchall()]


def test_examples_agree() -> None:
    assert sql_keys(EXAMPLES) == [resource_key(value) for value in EXAMPLES]
    assert sql_keys(["arn:aws:ec2:us-east-1:1:instance/I-0ABC"]) == ["i-0abc"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="aZ0-_/: \tvirtualMachineScaleSets", max_size=40), min_size=1, max_size=20))
def test_random_values_agree(values: list[str]) -> None:
    assert sql_keys(list(values)) == [resource_key(value) for value in values]


@pytest.mark.parametrize("value", ["x/virtualMachineScaleSets/pool/virtualMachines/7", "virtualmachines/1"])
def test_scale_set_instances(value: str) -> None:
    assert sql_keys([value]) == [resource_key(value)]

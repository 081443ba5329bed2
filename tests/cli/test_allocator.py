"""The server's C allocator keeps large blocks mapped (glibc's mallopt), unless the operator set it already."""

from __future__ import annotations

import ctypes.util

from kubetally.cli.allocator import return_large_blocks


def test_glibc_takes_the_fixed_threshold() -> None:
    assert ctypes.util.find_library("c") is not None, "these machines run glibc"
    assert return_large_blocks({}) is True


def test_an_operator_setting_is_left_alone() -> None:
    assert return_large_blocks({"MALLOC_MMAP_THRESHOLD_": "65536"}) is False
    assert return_large_blocks({"GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=65536"}) is False

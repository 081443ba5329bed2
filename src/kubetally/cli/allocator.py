"""The C allocator of a long-running server, tuned so that large answers give their memory back when freed.

An answer of thousands of allocation rows is built, serialised and dropped in a few large blocks (the JSON text,
its bytes, column buffers). glibc's allocator serves blocks above its mmap threshold with their own mappings,
returned to the system on free, but it raises that threshold each time such a block is freed, up to 32 MiB, after
which the large blocks of later answers come from the heap, where freed space stays resident and is reused only
when the next block fits. Under a stream of large queries the server's resident size then creeps up answer after
answer (about 30 MiB over the cache attack of tests/serve/test_hardening.py). Fixing the threshold at 128 KiB (its
initial value) keeps large blocks mapped and returned.

Only glibc has ``mallopt``; elsewhere (musl, macOS) nothing is changed. ``MALLOC_MMAP_THRESHOLD_`` or
``GLIBC_TUNABLES`` in the environment take precedence: the threshold is then left as the operator set it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Mapping

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number for the mmap threshold (malloc.h)."""

MMAP_THRESHOLD_BYTES = 128 * 1024
"""Blocks at least this large are mapped on their own and unmapped when freed."""

OPERATOR_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")


def return_large_blocks(environ: Mapping[str, str]) -> bool:
    """Fix the C allocator's mmap threshold at :data:`MMAP_THRESHOLD_BYTES`; False when it was left alone (an
    operator setting in ``environ``, or a C library without ``mallopt``)."""
    if any(name in environ for name in OPERATOR_VARIABLES):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))


__all__ = ["MMAP_THRESHOLD_BYTES", "return_large_blocks"]

"""Giving freed heap memory back to the system between the steps of `dca validate` and `dca build`.

glibc's allocator keeps the pages that Python objects (rows, tuples, documents) freed, for later
allocations; Arrow and polars allocate elsewhere (mimalloc, jemalloc) and do not reuse them. So after a
step that made and dropped millions of small objects the process stays as large as that step's peak,
and the next step's peak comes on top of it. At 100k agreements: ≈ 170 MB after the validation and
≈ 250 MB after the documents (bench/README.md, "Issue #15, session 7").
"""
from __future__ import annotations

import ctypes
import ctypes.util


def give_back_freed_memory() -> None:
    """Return the heap pages freed so far to the system (glibc's malloc_trim); a no-op where the C library
    has no malloc_trim."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass

"""The memory policies of `dca validate` and `dca build`: when the garbage collector runs, and giving freed
heap memory back to the system between steps.

glibc's allocator keeps the pages that Python objects (rows, tuples, documents) freed, for later
allocations; Arrow and polars allocate elsewhere (mimalloc, jemalloc) and do not reuse them. So after a
step that made and dropped millions of small objects the process stays as large as that step's peak,
and the next step's peak comes on top of it. At 100k agreements: ≈ 170 MB after the validation and
≈ 250 MB after the documents (bench/README.md, "Issue #15, session 7").
"""
from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc


def give_back_freed_memory() -> None:
    """Return the heap pages freed so far to the system (glibc's malloc_trim); a no-op where the C library
    has no malloc_trim."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def fewer_gc_passes():
    """The cyclic garbage collector run less often during `dca build` (validation and build: the command
    owns the process, so it sets the policy). A build allocates millions of
    short-lived tuples and bytes (rows, documents) and few reference cycles; at the default threshold
    every 700 allocations start a collection, and the older generations' passes rescan every live object.
    The objects alive when the build starts (the modules, the validation's results) are frozen out of the
    collector's scans, and a collection waits for 50,000 allocations. Switching the collector off saved
    no more CPU and held ~110 MB more at the peak (uncollected cycles), so it stays on (bench/README.md)."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()

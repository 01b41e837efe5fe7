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
import os
import sys

# polars' own allocator (jemalloc, built with the `_rjem_` prefix) keeps the pages of freed frames for a while:
# polars sets `_RJEM_MALLOC_CONF` to "dirty_decay_ms:500,muzzy_decay_ms:1000" on import, with a value found
# there already appended (so it wins). A build frees frames of hundreds of MB every second or so (the text
# frames after the validation, each export table once written), so those pages pile up under the next
# step's peak. Returning them at once costs page faults (≈ 3 s of system CPU over a 100k build) and lowers
# the peak by ≈ 120-270 MB (bench/README.md, "Issue #15, session 11").
POLARS_ALLOCATOR_CONF = "dirty_decay_ms:0,muzzy_decay_ms:0"


def return_freed_pages_promptly() -> bool:
    """Set polars' allocator to give freed pages back at once (POLARS_ALLOCATOR_CONF), unless the user set
    `_RJEM_MALLOC_CONF` already. polars reads the variable on import and jemalloc starts then, so this must
    run first; False (and nothing changed) when polars is already imported."""
    if "polars" in sys.modules:
        return False
    os.environ.setdefault("_RJEM_MALLOC_CONF", POLARS_ALLOCATOR_CONF)
    return True


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

"""`dca`'s allocator policy: polars' freed pages go back to the system at once (scripts/memory.py).

The policy is an environment variable that jemalloc reads once, when polars is imported, so what can
break it is an import of polars before `dca`'s entry point runs, or a policy that jemalloc ignores.
Each case runs in a fresh interpreter, since this one has imported polars long ago.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scripts.memory import POLARS_ALLOCATOR_CONF

ROOT = Path(__file__).resolve().parent.parent
VAR = "_RJEM_MALLOC_CONF"


def _run(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != VAR} | env
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=clean,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


_MAIN = """
    import os, sys
    import scripts.cli as cli
    print("polars imported before main:", "polars" in sys.modules)
    sys.argv = ["dca", "--version"]
    try:
        cli.main()
    except SystemExit:
        pass
    print("policy:", os.environ.get("_RJEM_MALLOC_CONF"))
"""


def test_the_entry_point_sets_the_policy_before_anything_imports_polars():
    out = _run(_MAIN).splitlines()
    assert "polars imported before main: False" in out
    assert f"policy: {POLARS_ALLOCATOR_CONF}" in out


def test_a_users_own_allocator_setting_is_kept():
    out = _run(_MAIN, **{VAR: "dirty_decay_ms:5000"}).splitlines()
    assert "policy: dirty_decay_ms:5000" in out


def test_the_policy_is_not_set_once_polars_is_imported():
    out = _run("""
        import os, polars
        from scripts.memory import return_freed_pages_promptly
        before = os.environ.get("_RJEM_MALLOC_CONF")
        print(return_freed_pages_promptly(), os.environ.get("_RJEM_MALLOC_CONF") == before)
    """)
    assert out == "False True"


_FREE = """
    import os, sys
    if sys.argv[-1] == "on":
        from scripts.memory import return_freed_pages_promptly
        assert return_freed_pages_promptly()
    import polars as pl
    def rss_mb():
        return int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20
    base = rss_mb()
    df = pl.select(pl.int_range(0, 40_000_000, dtype=pl.Int64).alias("x")).with_columns(y=pl.col("x") * 2)
    peak = rss_mb()
    del df
    print(base, peak, rss_mb())
"""


@pytest.mark.skipif(platform.system() != "Linux", reason="reads /proc; polars uses jemalloc on Linux")
def test_with_the_policy_a_freed_frame_leaves_the_process_at_once():
    """A 640 MB frame: freed under the policy, the resident size falls back near where it was; under polars'
    default (pages kept for 0.5-1.5 s) it is still there just after the frame is dropped."""
    def sizes(mode):
        code = _FREE.replace('sys.argv[-1]', repr(mode))
        return [int(x) for x in _run(code).split()]

    base, peak, after = sizes("on")
    assert peak - base > 400
    assert after - base < 100
    base, peak, kept = sizes("off")
    assert kept - base > 400

#!/usr/bin/env python3
"""Time and peak memory of `dca validate` and `dca build` at 1k, 10k and 100k agreements.

Generates the synthetic packages (bench/make_package.py) if they are missing, then
runs each command REPS times as a separate process and reports the median wall
time and peak RSS (from wait4's rusage, so no external `time` binary is needed).
The same data in the reference validator took ~40 s and 150 MB at 100k
(../shared/bench/ANCHORS.md); the target for `dca validate` is <= 15 s and 1.5 GB.

    python bench/run_cli.py [--sizes 1000 10000 100000] [--reps 3] [--reference]
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = ROOT / ".venv" / "bin"


def ensure_package(n: int) -> Path:
    out = HERE / "data" / f"n{n}"
    if not (out / "datapackage.json").exists():
        subprocess.run([sys.executable, str(HERE / "make_package.py"), "--n", str(n), "--out", str(out)], check=True)
    return out


def measure(cmd: list[str], cwd: Path) -> tuple[float, float, int, float]:
    """(wall seconds, peak RSS in MB, exit code, CPU seconds) of one run.

    CPU seconds (user + system, all threads) move much less than wall time on a shared machine."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    return wall, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--reference", action="store_true", help="also time `frictionless validate` (slow: ~40 s at 100k)")
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        pkg = ensure_package(n)
        out = Path(tempfile.mkdtemp(prefix="dca-bench-build-"))
        commands = {
            "dca validate": [str(BIN / "dca"), "validate", str(pkg)],
            "dca build": [str(BIN / "dca"), "build", str(pkg), "--out", str(out / "build"), "-q"],
        }
        if args.reference:
            commands["frictionless validate"] = [str(BIN / "frictionless"), "validate", "datapackage.json"]
        for name, cmd in commands.items():
            runs = [measure(cmd, pkg) for _ in range(args.reps)]
            codes = {r[2] for r in runs}
            walls = [r[0] for r in runs]
            rss = [r[1] for r in runs]
            cpu = statistics.median(r[3] for r in runs)
            rows.append((name, n, statistics.median(walls), min(walls), max(walls), statistics.median(rss), codes, cpu))
            print(f"{name:24} n={n:>7}  {statistics.median(walls):6.2f} s [{min(walls):.2f}-{max(walls):.2f}]  "
                  f"cpu {cpu:6.2f} s  {statistics.median(rss):7.0f} MB  exit {sorted(codes)}  load {os.getloadavg()[0]:.1f}",
                  flush=True)
        shutil.rmtree(out, ignore_errors=True)
    print("\n| command | agreements | wall s (median [min-max]) | CPU s | peak RSS MB | exit |")
    print("|---|---|---|---|---|---|")
    for name, n, med, lo, hi, rss, codes, cpu in rows:
        print(f"| `{name}` | {n:,} | {med:.2f} [{lo:.2f}-{hi:.2f}] | {cpu:.1f} | {rss:.0f} | {','.join(map(str, sorted(codes)))} |")


if __name__ == "__main__":
    main()

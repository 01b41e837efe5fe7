#!/usr/bin/env python3
"""Time `dca validate` on hostile packages at 100k agreements (the target: no slower
than validating the clean package, well under a minute).

- duplicates: 200,000 repeated rows appended to parties.csv (once took > 600 s);
- dev-zero: parties.csv a symlink to /dev/zero (once never ended).

    python bench/run_faults.py [--n 100000] [--duplicates 200000]
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from run_cli import BIN, ensure_package, measure


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--duplicates", type=int, default=200000)
    args = ap.parse_args()
    base = ensure_package(args.n)
    work = Path(tempfile.mkdtemp(prefix="dca-bench-faults-"))
    try:
        cases = {}
        dup = work / "duplicates"
        shutil.copytree(base, dup)
        parties = dup / "dataset" / "parties.csv"
        lines = parties.read_text(encoding="utf-8").splitlines(keepends=True)
        body = lines[1:]
        extra = (body * (args.duplicates // len(body) + 1))[: args.duplicates]
        with parties.open("a", encoding="utf-8") as fh:
            fh.writelines(extra)
        cases[f"{args.duplicates:,} duplicate parties rows"] = dup
        zero = work / "dev-zero"
        shutil.copytree(base, zero)
        (zero / "dataset" / "parties.csv").unlink()
        (zero / "dataset" / "parties.csv").symlink_to("/dev/zero")
        cases["parties.csv -> /dev/zero"] = zero
        cases["clean package"] = base
        for name, pkg in cases.items():
            wall, rss, code = measure([str(BIN / "dca"), "validate", str(pkg)], pkg)
            print(f"{name:36} n={args.n:>7}  {wall:6.2f} s  {rss:7.0f} MB  exit {code}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

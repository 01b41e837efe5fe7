"""Interleaved A/B of the whole `dca build` (validate included): wall, CPU (wait4 rusage) and peak RSS of each run.

Usage: .venv/bin/python bench/profile/ab_build.py TREE_A TREE_B PACKAGE REPS [OUT]
Each tree's own `scripts.cli` runs (cwd = the tree) with this venv; builds go to OUT/{A,B}-{rep}/build
(default /tmp/dca-ab); compare two of them with bench/profile/compare_builds.py.
"""
import os, shutil, subprocess, sys, time
tree_a, tree_b, package, reps = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3]), int(sys.argv[4])
root = sys.argv[5] if len(sys.argv) > 5 else "/tmp/dca-ab"
print("| run | load avg | wall s | CPU s | peak RSS MB | dca.sqlite MB |\n|---|---|---|---|---|---|")
for rep in range(reps):
    for k, tree in (("A", tree_a), ("B", tree_b)):
        out = f"{root}/{k}-{rep}"
        shutil.rmtree(out, ignore_errors=True); os.makedirs(out)
        la, t = os.getloadavg()[0], time.time()
        p = subprocess.Popen([sys.executable, "-m", "scripts.cli", "build", package, "--out", f"{out}/build", "-q"], cwd=tree,
                             stdout=subprocess.DEVNULL, stderr=open(f"{out}/stderr", "w"))
        _, status, ru = os.wait4(p.pid, 0)
        assert status == 0, f"{k} failed: see {out}/stderr"
        print(f"| {k} | {la:.1f}–{os.getloadavg()[0]:.1f} | {time.time() - t:.1f} | {ru.ru_utime + ru.ru_stime:.1f} | "
              f"{ru.ru_maxrss / 1024:,.0f} | {os.path.getsize(f'{out}/build/dca.sqlite') / 1e6:.1f} |", flush=True)

"""Profile of `build_package` alone: wall, CPU and peak RSS at every progress message.

Usage (from the repository root): .venv/bin/python bench/profile/phases.py 100000  (reads bench/data/n100000)
With --validate it first runs the validation, as `dca build` does, and builds from the frames it read.
"""
import sys, tempfile, time, resource, os
sys.path.insert(0, ".")
from pathlib import Path
from scripts.build import build_package
n = sys.argv[1]
t = time.time(); c = time.process_time(); last = [t, c]
def say(m):
    now, cpu = time.time(), time.process_time()
    print(f"{now-t:7.1f} wall {cpu-c:7.1f} cpu (+{cpu-last[1]:5.1f}) {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024:6.0f} MB  {m}", flush=True)
    last[:] = [now, cpu]
kw = {}
from scripts.memory import fewer_gc_passes  # as `dca build` runs
with fewer_gc_passes():
    if "--validate" in sys.argv:
        from scripts.validate import check_package
        say(f"validating… (load average {os.getloadavg()[0]:.1f})")
        findings, kw["text_frames"] = check_package(Path(f"bench/data/n{n}"))
        assert not findings, findings[:5]
    build_package(Path(f"bench/data/n{n}"), Path(tempfile.mkdtemp(prefix="dca-phases-")) / "build", progress=say, **kw)
say(f"(load average {os.getloadavg()[0]:.1f})")

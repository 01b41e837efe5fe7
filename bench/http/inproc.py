"""CPU time per request of the API app and of the bare ASGI server, in-process (no server, no sockets).

On the shared 2-core machine wrk's req/s move by ±30 % with other people's load; the
CPU time a request costs moves much less. This calls each ASGI app directly with
the benchmark's request paths (``bench.py`` writes them to ``results/*/paths``) and
reports process CPU microseconds per request, alternating the two apps per repeat:

    .venv/bin/python bench/http/inproc.py bench/data/http/build/dca.sqlite \\
        bench/data/http/results/STAMP/paths [--reps 3] [--scenarios get dyad list]

What it leaves out is what both servers share: uvicorn, httptools and the sockets.
Streams (the CSV scenario) are read to the end.

``--memo`` answers every statement after its first run from memory (the same rows, as
lists of tuples), so that what is left is the request path alone: parameter checks,
envelope, headers, framework. ``--api-tree DIR`` measures another version of the API
(a folder with its api/, scripts/ and schema/, e.g. ``git archive main api scripts schema``);
run it and this tree alternately for an A/B in one sitting.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


class Memo:
    """A SQLite connection whose statements run once; later calls get the same rows from memory."""

    def __init__(self, con) -> None:
        self.con, self.rows = con, {}

    def execute(self, sql: str, params=()):
        key = (sql, tuple(params.items()) if isinstance(params, dict) else tuple(params))
        if key not in self.rows:
            self.rows[key] = self.con.execute(sql, params).fetchall()
        return _Rows(self.rows[key])

    def cursor(self):
        return _MemoCursor(self)

    def close(self) -> None:
        self.con.close()


class _Rows:
    def __init__(self, rows: list) -> None:
        self.rows, self.at = rows, 0

    def fetchall(self) -> list:
        return list(self.rows)

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchmany(self, n: int) -> list:
        out = self.rows[self.at:self.at + n]
        self.at += n
        return out


class _MemoCursor:
    arraysize = 1

    def __init__(self, memo: Memo) -> None:
        self.memo, self.rows = memo, None

    def execute(self, sql, params=()):
        self.rows = self.memo.execute(sql, params)

    def fetchmany(self, n):
        return self.rows.fetchmany(n)

    def close(self) -> None:
        pass


def scope_of(url: str) -> dict:
    path, _, qs = url.partition("?")
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": path, "raw_path": path.encode(), "query_string": qs.encode(), "root_path": "",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"inproc")],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000)}


async def start(app) -> None:
    """Run the app's lifespan start-up (and leave it waiting for a shutdown that the caller sends)."""
    queue: asyncio.Queue = asyncio.Queue()
    started = asyncio.Event()

    async def send(message):
        if message["type"].endswith("startup.complete"):
            started.set()

    await queue.put({"type": "lifespan.startup"})
    app._dca_lifespan = (queue, asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}}, queue.get, send)))
    await started.wait()


async def stop(app) -> None:
    queue, task = app._dca_lifespan
    await queue.put({"type": "lifespan.shutdown"})
    await task


async def per_request(app, urls: list[str]) -> float:
    """Process CPU µs per request over ``urls`` (each response read to its end)."""
    async def receive():
        await asyncio.sleep(3600)  # no disconnect while the response is sent

    async def send(message):
        pass

    t0 = time.process_time()
    for url in urls:
        await app(scope_of(url), receive, send)
    return (time.process_time() - t0) / len(urls) * 1e6


async def main_async(args) -> None:
    os.environ["DCA_DB"] = str(args.db.resolve())
    os.environ["DCA_WATCH_INTERVAL"] = "0"
    os.environ["BENCH_DB"] = str(args.db.resolve())
    from api.main import create_app
    from bare_asgi import Bare  # this folder is on sys.path (the script's own)

    apps = {"project": create_app(), "bare": Bare(str(args.db.resolve()))}
    for app in apps.values():
        await start(app)
    if args.memo:
        from api.db import _sqlite_connect

        db = apps["project"].state.dca.current.db
        db._loop_con = Memo(db._loop_con or _sqlite_connect(db.path))
        apps["bare"].con = Memo(apps["bare"].con)
    try:
        import api

        print(f"API from {Path(api.__file__).parent}{' (statements memoised)' if args.memo else ''}")
        print("| scenario | project µs/req | bare µs/req | bare ÷ project |\n|---|---|---|---|")
        for scen in args.scenarios:
            urls = [u for u in (args.paths / f"{scen}_project.txt").read_text().splitlines() if u][:args.n]
            for app in apps.values():  # warm-up: page cache, compiled statements, count cache
                await per_request(app, urls)
            got: dict[str, list[float]] = {name: [] for name in apps}
            for rep in range(args.reps):
                for name in (list(apps) if rep % 2 == 0 else list(apps)[::-1]):
                    got[name].append(await per_request(apps[name], urls))
            p, b = statistics.median(got["project"]), statistics.median(got["bare"])
            print(f"| {scen} | {p:.0f} [{min(got['project']):.0f}–{max(got['project']):.0f}] | "
                  f"{b:.0f} [{min(got['bare']):.0f}–{max(got['bare']):.0f}] | {b / p:.2f} |")
    finally:
        for app in apps.values():
            await stop(app)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", type=Path)
    ap.add_argument("paths", type=Path, help="a results/STAMP/paths folder written by bench.py")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("-n", type=int, default=1000, help="requests per scenario and repeat")
    ap.add_argument("--scenarios", nargs="+", default=["get", "dyad", "list", "csv"])
    ap.add_argument("--memo", action="store_true", help="statements answered from memory after their first run")
    ap.add_argument("--api-tree", type=Path, default=None, help="import the API from this folder instead")
    args = ap.parse_args(argv)
    if args.api_tree:
        sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != REPO]
        sys.path.insert(0, str(args.api_tree.resolve()))
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

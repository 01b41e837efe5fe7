"""Many concurrent streamed exports against a running server: how many complete, how many break off.

    .venv/bin/python bench/http/streams.py http://127.0.0.1:8000 [--clients 32] [--seconds 8]
        [--path '/v1/agreements?country=USA&format=csv&limit=all']

Each client requests the path again and again for the given time. A response counts as
complete if its status is 200 and it does not end with the API's ``# incomplete`` line
(CSV) or ``urn:dca:problem:incomplete`` document (NDJSON), and the body was not cut off.
This is how the PostgreSQL stream deadlock was found and checked (bench/README.md): with
more streams than pooled connections, one process completed 5 requests in 8 s and broke
off the rest after the pool's 30 s timeout.
"""
from __future__ import annotations

import argparse
import asyncio
import time

import httpx


async def run(base: str, path: str, clients: int, seconds: float) -> dict:
    counts = {"complete": 0, "broken": 0, "errors": 0}
    examples: list[str] = []

    async def client(c: httpx.AsyncClient) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                r = await c.get(path, timeout=120)
            except httpx.HTTPError as e:
                counts["errors"] += 1
                examples.append(repr(e))
                continue
            tail = r.content[-400:]
            if r.status_code == 200 and b"# incomplete" not in tail and b"urn:dca:problem:incomplete" not in tail:
                counts["complete"] += 1
            else:
                counts["broken"] += 1
                examples.append(f"{r.status_code}: {tail[-120:]!r}")

    async with httpx.AsyncClient(base_url=base, limits=httpx.Limits(max_connections=clients)) as c:
        t0 = time.monotonic()
        await asyncio.gather(*(client(c) for _ in range(clients)))
        counts["seconds"] = round(time.monotonic() - t0, 1)
    counts["examples"] = examples[:3]
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=float, default=8)
    ap.add_argument("--path", default="/v1/agreements?country=USA&format=csv&limit=all")
    a = ap.parse_args()
    r = asyncio.run(run(a.base, a.path, a.clients, a.seconds))
    print(f"{a.clients} clients, {a.path}: {r['complete']} complete, {r['broken']} broken off, {r['errors']} connection "
          f"errors in {r['seconds']} s" + "".join(f"\n  e.g. {e}" for e in r["examples"]))


if __name__ == "__main__":
    main()

"""A bare ASGI reference server for the HTTP benchmark: the API's SQL with nothing around it.

It answers the benchmark's four requests (one agreement, a dyad page, a country +
date page, the filtered CSV export) with the statements ``api.queries`` compiles for
SQLite, on the same build file, with the response bodies the API gives (the stored
``detail_json`` / ``list_json`` / ``csv_record`` bytes, decoded as the API decodes them, and the list
envelope), and
nothing else: no parameter checking, no ETag, CORS, gzip or problem documents, no
router. Queries run on the event loop on one read-only, immutable connection, and
totals are cached per filter as the API caches them. What the API costs above this
server is the price of its framework and of its HTTP semantics.

    BENCH_DB=build/dca.sqlite uvicorn bench.http.bare_asgi:app --loop uvloop --http httptools --no-access-log

Only the benchmark's requests are understood; anything else is a plain 404.
"""
from __future__ import annotations

import base64
import os
import sqlite3
import sys
from pathlib import Path
from urllib.parse import parse_qs

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.doc_store import load_decoder  # noqa: E402 - the API's decoder of the stored documents


def _statements() -> dict[str, str]:
    """The API's statements as qmark SQL, with their parameter names in order."""
    from sqlalchemy.dialects import sqlite

    from api.queries import AgreementFilter, agreement_detail, agreements_count, agreements_page

    dialect = sqlite.dialect(paramstyle="named")
    dyad = AgreementFilter(parties=("AAA", "BBB"))
    country = AgreementFilter(parties=("AAA",), signed_from="x", signed_to_incl="y")
    stmts = {
        "get": agreement_detail(),
        "dyad_page": agreements_page(dyad, False, False, True),
        "dyad_count": agreements_count(dyad, False),
        "list_page": agreements_page(country, False, False, True),
        "list_count": agreements_count(country, False),
        "csv": agreements_page(country, False, False, False, csv=True),
    }
    return {k: s.compile(dialect=dialect).string for k, s in stmts.items()}


SQL = _statements()
HEAD_CSV = ("agreement_id,title,agreement_type,instrument,signed_on,signed_precision,venue_city,venue_country_iso3,"
            "venue_country_name,venue_country_cow_code,status,status_as_of,entry_into_force_on,end_on,summary,parties,"
            "party_names,party_cow_codes\r\n").encode()
JSON_HEADERS = [(b"content-type", b"application/json")]
CSV_HEADERS = [(b"content-type", b"text/csv; charset=utf-8; header=present")]
PREFIX = "/v1/agreements/"


class Bare:
    def __init__(self, db: str) -> None:
        self.db = db
        self.con: sqlite3.Connection | None = None
        self.totals: dict[tuple, int] = {}

    def connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(f"file:{self.db}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        con.execute("PRAGMA mmap_size = 4294967296")  # as the API opens it (api.db)
        con.execute("PRAGMA cache_size = -8192")
        return con

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.con = self.connect()
                    self.docs = load_decoder(self.con.execute("SELECT name, dictionary FROM doc_dicts").fetchall())
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        if path.startswith(PREFIX):
            row = self.con.execute(SQL["get"], {"agreement_id": path[len(PREFIX):]}).fetchone()
            if row is None:
                return await _reply(send, 404, JSON_HEADERS, b'{"detail":"not found"}')
            return await _reply(send, 200, JSON_HEADERS, self.docs.detail(row[0]))
        if path == "/v1/agreements":
            return await self.agreements(scope, send)
        if path == "/healthz":
            return await _reply(send, 200, JSON_HEADERS, b'{"status":"ok"}')
        return await _reply(send, 404, JSON_HEADERS, b'{"detail":"not found"}')

    async def agreements(self, scope, send) -> None:
        raw = scope["query_string"].decode("latin-1")
        q = parse_qs(raw)
        parties = sorted(q.get("party", []))
        if len(parties) == 2:
            kind, params = "dyad", {"p0": parties[0], "p1": parties[1]}
        else:
            kind = "list"
            params = {"p0": q["country"][0], "signed_from": q["signed_from"][0], "signed_to_incl": q["signed_to"][0]}
        if q.get("format") == ["csv"]:
            await send({"type": "http.response.start", "status": 200, "headers": CSV_HEADERS})
            cur = self.con.execute(SQL["csv"], params)
            chunk = HEAD_CSV
            while rows := cur.fetchmany(500):
                await send({"type": "http.response.body", "body": chunk + self.docs.csv_records(rows), "more_body": True})
                chunk = b""
            return await send({"type": "http.response.body", "body": chunk})
        key = (kind, *params.values())
        total = self.totals.get(key)
        if total is None:
            total = self.totals[key] = self.con.execute(SQL[f"{kind}_count"], params).fetchone()[0]
        limit = 50
        rows = self.con.execute(SQL[f"{kind}_page"], {**params, "limit": limit + 1, "param_1": 0}).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        base = f"http://{_host(scope)}{scope['path']}"
        nxt = base64.urlsafe_b64encode(orjson.dumps(list(rows[-1][1:]))).decode() if more else None
        envelope = orjson.dumps({"count": len(rows), "total": total, "limit": limit, "next_cursor": nxt,
                                 "links": {"self": f"{base}?{raw}", "first": f"{base}?{raw}",
                                           "next": f"{base}?{raw}&cursor={nxt}" if nxt else None}})
        body = b'{"items":[' + self.docs.list_items(rows) + b"]," + envelope[1:]
        await _reply(send, 200, JSON_HEADERS, body)


def _host(scope) -> str:
    for k, v in scope["headers"]:
        if k == b"host":
            return v.decode("latin-1")
    return "localhost"


async def _reply(send, status: int, headers: list, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


app = Bare(os.environ.get("BENCH_DB", "build/dca.sqlite"))

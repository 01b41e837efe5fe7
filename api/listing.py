"""Paged lists in JSON, CSV and NDJSON, with keyset cursors, counts and links.

Every list endpoint describes its rows with a ``ListKind`` and hands its statements
to ``respond``:

* JSON: ``{"items": [...], "count", "total", "limit", "next_cursor", "links"}``;
  agreement items are the pre-serialised ``list_json`` bytes (decoded: scripts/doc_store.py), joined.
* CSV / NDJSON: the same rows; a page (``limit`` 1-1000) is rendered at once, and
  ``limit=all`` streams the whole result with ``fetchmany`` in a worker thread.
* Headers: ``X-Total-Count`` (rows matching the filter), ``X-Row-Count`` (rows in
  this response, sent before the body), ``Link`` (``next``, ``first``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from sqlalchemy.sql import Select
from starlette.responses import Response

from scripts.build import party_cells
from scripts.doc_store import Decoder

from .state import Snapshot
from .streaming import CSV, JSON, NDJSON, BodyStream, CsvEncoder, stream_chunks


@dataclass
class ListKind:
    name: str
    fields: list[str]
    columns: list[str] | None = None  # tables: the selected columns (rows end with the sort keys)
    key_types: tuple[type, ...] = (str,)  # types of the sort keys a cursor carries
    docs: bool = False  # agreements: rows start with the pre-serialised JSON (or CSV record)
    decode: str | None = None  # tables stored encoded: the Decoder method that gives a row its exported values

    def csv_records(self, fields: list[str] | None) -> bool:
        """Whether the CSV can be the build's pre-rendered records (all columns, in order)."""
        return self.docs and (fields is None or fields == self.fields)

    def csv_columns(self, fields: list[str]) -> list[str]:
        """The CSV header: agreements' ``parties`` is three columns (codes, names, COW codes), each of which
        can also be asked for alone."""
        if self.docs:
            out: list[str] = []
            for f in fields:
                for c in (PARTY_COLUMNS if f == "parties" else [f]):
                    if c not in out and (c == f or c not in fields):
                        out.append(c)
            return out
        return fields

    def item_bytes_fn(self, fields: list[str] | None, decoder: Decoder | None = None) -> Callable[[tuple], bytes]:
        """Agreements (``decoder``: the build's, scripts/doc_store.py) decode the stored list_json."""
        if self.docs:
            item = decoder.list_item
            if fields is None:
                return lambda row: item(row[0])

            def project(row: tuple) -> bytes:
                d = orjson.loads(item(row[0]))
                return orjson.dumps({f: _doc_value(d, f) for f in fields})

            return project
        cols = self.columns or self.fields
        fix = getattr(decoder, self.decode) if self.decode else None
        if fields is None or fields == cols:
            if fix:
                return lambda row: orjson.dumps(dict(zip(cols, fix(row))))
            return lambda row: orjson.dumps(dict(zip(cols, row)))
        idx = [cols.index(f) for f in fields]
        if fix:
            def pick(row: tuple) -> bytes:
                r = fix(row)
                return orjson.dumps({f: r[i] for f, i in zip(fields, idx)})

            return pick
        return lambda row: orjson.dumps({f: row[i] for f, i in zip(fields, idx)})

    def csv_rows_fn(self, fields: list[str], decoder: Decoder | None = None) -> Callable[[list[tuple]], list[list[Any]]]:
        if self.docs:
            loads, item = orjson.loads, decoder.list_item
            columns = self.csv_columns(fields)

            def rows(chunk: list[tuple]) -> list[list[Any]]:
                out = []
                for row in chunk:
                    d = loads(item(row[0]))
                    out.append([_doc_cell(d, c) for c in columns])
                return out

            return rows
        cols = self.columns or self.fields
        idx = [cols.index(f) for f in fields]
        if self.decode:
            fix = getattr(decoder, self.decode)
            return lambda chunk: [[r[i] for i in idx] for r in map(fix, chunk)]
        if idx == list(range(len(cols))):
            n = len(cols)
            return lambda chunk: [r[:n] for r in chunk]
        return lambda chunk: [[r[i] for i in idx] for r in chunk]


PARTY_COLUMNS = ["parties", "party_names", "party_cow_codes"]


def _doc_cell(d: dict, column: str) -> Any:
    """One CSV cell of an agreement document (the party columns as in scripts/build.py: party_cells)."""
    if column in PARTY_COLUMNS:
        return party_cells(d["parties"])[PARTY_COLUMNS.index(column)]
    return d.get(column)


def _doc_value(d: dict, field: str) -> Any:
    """A JSON field of an agreement document; party_names and party_cow_codes are the CSV's cells."""
    return d.get(field) if field == "parties" else _doc_cell(d, field)


def base_url(request: Request) -> str:
    """scheme://host/path of this request, without Starlette's URL parsing (hot path)."""
    scope = request.scope
    host = None
    for k, v in scope["headers"]:
        if k == b"host":
            host = v.decode("latin-1")
            break
    if host is None:
        server = scope.get("server") or ("localhost", None)
        host = f"{server[0]}:{server[1]}" if server[1] else server[0]
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope['path']}"


def page_url(base: str, raw_query: str, cursor: str | None) -> str:
    """This request's URL with ``cursor`` replaced (the rest of the query kept as the client wrote it)."""
    return _with_cursor(base, _kept_query(raw_query), cursor)


def _kept_query(raw_query: str) -> list[str]:
    """The parts of a raw query string that a page's links keep (all but ``cursor``)."""
    if not raw_query:
        return []
    if "cursor" not in raw_query:
        return [p for p in raw_query.split("&") if p]
    return [p for p in raw_query.split("&") if p and not p.startswith("cursor=") and p != "cursor"]


def _with_cursor(base: str, kept: list[str], cursor: str | None) -> str:
    if cursor:
        return f"{base}?{'&'.join([*kept, 'cursor=' + cursor])}"  # base64url and ".": nothing to escape
    return f"{base}?{'&'.join(kept)}" if kept else base


def page_response(body: bytes, headers: list[tuple[bytes, bytes]], media_type: str) -> Response:
    """A 200 response with ``headers`` (already encoded), then Content-Length and Content-Type: the
    headers, in the order, that ``Response(body, media_type=..., headers={...})`` gives, without its
    per-request header building (the hot path of every list page)."""
    r = Response.__new__(Response)
    r.status_code = 200
    r.body = body
    r.background = None
    r.media_type = media_type
    headers.append((b"content-length", str(len(body)).encode()))
    headers.append((b"content-type", media_type.encode("latin-1")))
    r.raw_headers = headers
    return r


def _filename(state: Snapshot, kind: str, fmt: str) -> str:
    version = (state.info.version if state.info else "") or "data"
    return f"dca-{version}-{kind}.{fmt}"


async def respond(
    request: Request,
    state: Snapshot,
    kind: ListKind,
    *,
    shape: tuple,
    scope: str,
    params: dict[str, Any],
    page_stmt: Callable[..., Select],
    count_stmt: Callable[[bool], Select],
    fmt: str,
    limit: int | str,
    cursor: str | None,
    fields: list[str] | None,
    key_types: tuple[type, ...] | None = None,
    inline: bool = False,
) -> Response:
    db = state.db
    key_types = key_types or kind.key_types
    nkeys = len(key_types)
    full_scope = f"{kind.name}|{scope}"
    q = dict(params)
    cursor = cursor or None  # an empty cursor= is absent, like every other empty parameter
    if cursor is not None:
        values = state.cursors.decode(cursor, full_scope, key_types)
        q.update({f"k{i}": v for i, v in enumerate(values)})
    with_cursor = cursor is not None

    # Total rows matching the filter (cached: the data never change under a running server).
    ckey = ("count", kind.name, shape, tuple(sorted(params.items())))
    total = state.cache.get(ckey)
    if total is None:
        c = db.compiled(("count", kind.name, shape, False), lambda: count_stmt(False))
        total = (await db.fetch_one(c, params, inline=inline))[0]
        state.cache.put(ckey, total)

    headers = {"X-Total-Count": str(total)}
    base = base_url(request)
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    self_url = f"{base}?{raw_query}" if raw_query else base
    kept = _kept_query(raw_query)
    first_url = _with_cursor(base, kept, None)
    item_bytes = kind.item_bytes_fn(fields, db.docs)
    out_fields = fields or kind.fields

    if limit == "all":
        if with_cursor:
            c = db.compiled(("count", kind.name, shape, True), lambda: count_stmt(True))
            n = (await db.fetch_one(c, q, inline=inline))[0]
        else:
            n = total
        headers["X-Row-Count"] = str(n)
        records = fmt == "csv" and kind.csv_records(fields)
        c = db.compiled(("page", kind.name, shape, with_cursor, False, records), lambda: page_stmt(with_cursor, False, records))
        here = inline and db.is_sqlite and db.settings.inline
        source = lambda: db.stream(c, q, 500 if here else 2000, here=here)  # noqa: E731
        if records:
            first = CsvEncoder(kind.csv_columns(out_fields)).head()
            encode = db.docs.csv_records
            media = CSV
        elif fmt == "csv":
            enc = CsvEncoder(kind.csv_columns(out_fields))
            to_rows = kind.csv_rows_fn(out_fields, db.docs)
            first = enc.head()
            encode = lambda rows: enc.rows(to_rows(rows))  # noqa: E731
            media = CSV
        elif fmt == "json":
            # The same envelope as a page, streamed: {"items":[...], "count", "total", "limit": "all", ...}.
            first = b'{"items":['
            started = False

            def encode(rows: list[tuple]) -> bytes:
                nonlocal started
                if not rows:
                    return b""
                body = b",".join(map(item_bytes, rows))
                if started:
                    body = b"," + body
                started = True
                return body

            last = b"]," + orjson.dumps({"count": n, "total": total, "limit": "all", "next_cursor": None,
                                         "links": {"self": self_url, "first": first_url, "next": None}})[1:]
            return BodyStream(stream_chunks(source, first, encode, db.limiter, inline=here, last=last, fmt=fmt, slots=db.stream_slots),
                              media_type=JSON, headers=headers)
        else:
            first = b""
            encode = lambda rows: b"".join(item_bytes(r) + b"\n" for r in rows)  # noqa: E731
            media = NDJSON
        headers["Content-Disposition"] = f'attachment; filename="{_filename(state, kind.name, fmt)}"'
        return BodyStream(stream_chunks(source, first, encode, db.limiter, inline=here, fmt=fmt, slots=db.stream_slots), media_type=media,
                          headers=headers)

    q["limit"] = limit + 1
    records = fmt == "csv" and kind.csv_records(fields)
    c = db.compiled(("page", kind.name, shape, with_cursor, True, records), lambda: page_stmt(with_cursor, True, records))
    rows = await db.fetch_all(c, q, inline=inline)
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        next_cursor = state.cursors.encode(list(rows[-1][-nkeys:]), full_scope)
    next_url = _with_cursor(base, kept, next_cursor) if next_cursor else None
    links = f'<{next_url}>; rel="next", <{first_url}>; rel="first"' if next_url else f'<{first_url}>; rel="first"'
    headers["Link"] = links
    headers["X-Row-Count"] = str(len(rows))

    if fmt == "json":
        envelope = orjson.dumps({
            "count": len(rows),
            "total": total,
            "limit": limit,
            "next_cursor": next_cursor,
            "links": {"self": self_url, "first": first_url, "next": next_url},
        })
        if fields is None and kind.docs:
            items = db.docs.list_items(rows)  # the stored list_json, decoded
        else:
            items = b",".join(map(item_bytes, rows))
        body = b"".join((b'{"items":[', items, b"],", memoryview(envelope)[1:]))
        return page_response(body, [(b"x-total-count", headers["X-Total-Count"].encode()), (b"link", links.encode("latin-1")),
                                    (b"x-row-count", headers["X-Row-Count"].encode())], JSON)
    headers["Content-Disposition"] = f'attachment; filename="{_filename(state, kind.name, fmt)}"'
    if fmt == "csv":
        enc = CsvEncoder(kind.csv_columns(out_fields))
        if records:
            body = enc.head() + db.docs.csv_records(rows)
        else:
            body = enc.head() + enc.rows(kind.csv_rows_fn(out_fields, db.docs)(rows))
        return Response(body, media_type=CSV, headers=headers)
    body = b"".join(item_bytes(r) + b"\n" for r in rows)
    return Response(body, media_type=NDJSON, headers=headers)


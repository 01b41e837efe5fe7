"""CSV and NDJSON output: content negotiation, row encoders and streamed responses.

Streams pull rows in chunks (``fetchmany``) in a worker thread and encode each chunk
there, so memory stays constant whatever the size of the result and the event loop
only moves bytes.
"""
from __future__ import annotations

import csv
import io
from contextlib import aclosing, nullcontext
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any

import anyio
import logging

import anyio.lowlevel
import orjson
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

log = logging.getLogger("api")

JSON = "application/json"
CSV = "text/csv; charset=utf-8; header=present"
NDJSON = "application/x-ndjson"
MEDIA = {"json": JSON, "csv": CSV, "ndjson": NDJSON}
FORMATS = ("json", "csv", "ndjson")

_ACCEPT = {
    "application/json": "json",
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/problem+json": "json",
    "*/*": "json",
    "application/*": "json",
    "text/*": "csv",
}


def accept_format(accept: str | None) -> str:
    """The format an Accept header asks for (JSON unless CSV or NDJSON is preferred)."""
    if not accept:
        return "json"
    best, best_q = "json", -1.0
    for i, part in enumerate(accept.split(",")):
        media, _, params = part.strip().partition(";")
        fmt = _ACCEPT.get(media.strip().lower())
        if fmt is None:
            continue
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        # Prefer higher q; on a tie the more specific (non-wildcard) type, then the earlier one.
        rank = q - (0.0001 if "*" in media else 0.0)
        if rank > best_q:
            best, best_q = fmt, rank
    return best if best_q > 0 else "json"


def negotiate(format_param: str | None, accept: str | None) -> str:
    return format_param or accept_format(accept)


class _Line:
    """A file-like target for csv.writer that collects one chunk."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, s: str) -> None:
        self.parts.append(s)

    def take(self) -> bytes:
        out = "".join(self.parts).encode()
        self.parts.clear()
        return out


class CsvEncoder:
    """Rows (sequences of cells) to CSV bytes, RFC 4180 style (CRLF, minimal quoting)."""

    def __init__(self, header: list[str]) -> None:
        self.buf = _Line()
        self.writer = csv.writer(self.buf, lineterminator="\r\n")
        self.header = header

    def head(self) -> bytes:
        self.writer.writerow(self.header)
        return self.buf.take()

    def rows(self, rows: Iterable[Iterable[Any]]) -> bytes:
        self.writer.writerows(rows)
        return self.buf.take()


def ndjson_lines(items: Iterable[bytes]) -> bytes:
    return b"".join(i + b"\n" for i in items)


class BodyStream(StreamingResponse):
    """A streamed body that skips producing anything for HEAD requests."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("dca.head"):
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            await send({"type": "http.response.body", "body": b""})
            closer = getattr(self.body_iterator, "aclose", None)
            if closer:
                await closer()
            return
        await super().__call__(scope, receive, send)


class StreamBroken(Exception):
    """A streamed body could not be finished (the database went away part-way)."""


def broken_marker(fmt: str, rows_sent: int, reason: str) -> bytes:
    """The last line of a stream that failed part-way, as the API description documents it.

    CSV: a line starting ``# incomplete:``; NDJSON: a problem document whose ``type`` is
    ``urn:dca:problem:incomplete``; JSON: nothing (the document is left unterminated,
    which no JSON parser accepts). The connection is then closed without the final
    chunk, so HTTP clients report an incomplete body as well.
    """
    detail = (f"the response is incomplete: the database stopped answering after {rows_sent} rows ({reason}); "
              "request it again")
    if fmt == "csv":
        return f"# incomplete: {detail}\r\n".encode()
    if fmt == "ndjson":
        return orjson.dumps({"type": "urn:dca:problem:incomplete", "title": "Incomplete response", "status": 503,
                             "detail": detail}) + b"\n"
    return b""


async def stream_chunks(source: Callable[[], Iterator[list[tuple]]], first: bytes,
                        encode: Callable[[list[tuple]], bytes], limiter: anyio.CapacityLimiter,
                        inline: bool = False, last: bytes | Callable[[], bytes] = b"",
                        fmt: str = "csv", slots: anyio.CapacityLimiter | None = None) -> AsyncIterator[bytes]:
    """``first``, then each chunk of rows from ``source()``, encoded, then ``last``.

    The rows are pulled in a worker thread, or, with ``inline`` (an index range scan on
    SQLite, where each small chunk takes a few milliseconds), on the event loop with a
    checkpoint between chunks so that other requests interleave: under concurrency
    that costs a quarter of the CPU of many threads contending for the GIL.

    ``source()`` holds a pooled connection from its first chunk to its end, across
    thread hops; ``slots`` (the database's ``stream_slots``) bounds how many do at once,
    taken here on the event loop before ``source()`` is called and given back after the
    connection is. Streams beyond it wait here, holding neither a worker thread nor a
    connection (waiting in a thread for the pool instead deadlocks: see
    ``api.db.Database``). A stream ended early (client gone) closes its cursor in a
    worker thread too: on PostgreSQL that is a round trip, not for the event loop.

    If the database fails part-way (the status line and headers are long gone), the
    body ends with ``broken_marker`` and the stream raises StreamBroken, so that the
    server aborts the response instead of ending it as if it were complete.
    """
    if first:
        yield first
    # aclosing: a stream closed early closes its cursor before its slot is given back.
    async with slots if slots is not None else nullcontext():
        async with aclosing(_pull(source, encode, limiter, inline, last, fmt)) as pull:
            async for data in pull:
                yield data


async def _pull(source: Callable[[], Iterator[list[tuple]]], encode: Callable[[list[tuple]], bytes],
                limiter: anyio.CapacityLimiter, inline: bool, last: bytes | Callable[[], bytes],
                fmt: str) -> AsyncIterator[bytes]:
    it: Iterator[list[tuple]] | None = None
    sent = 0
    live = False  # ``it`` is suspended mid-way (holds its connection): only then is there anything to close

    def step() -> bytes | None:
        nonlocal it, sent, live
        if it is None:
            it = source()
        for rows in it:
            live = True
            sent += len(rows)
            data = encode(rows)
            if data:
                return data
        live = False
        return None

    try:
        while True:
            try:
                if inline:
                    data = step()
                    await anyio.lowlevel.checkpoint()
                else:
                    data = await anyio.to_thread.run_sync(step, limiter=limiter)
            except Exception as e:  # noqa: BLE001 - whatever the cause, the client must be able to tell
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                log.warning("a streamed response broke off after %d rows: %s", sent, reason)
                marker = broken_marker(fmt, sent, "database error")
                if marker:
                    yield marker
                raise StreamBroken(reason) from e
            if data is None:
                break
            yield data
        tail = last() if callable(last) else last
        if tail:
            yield tail
    finally:
        close = getattr(it, "close", None) if live else None
        if close is not None:
            if inline:
                close()
            else:
                with anyio.CancelScope(shield=True):  # the client may be gone: finish anyway
                    await anyio.to_thread.run_sync(close, limiter=limiter)


def json_bytes(obj: Any) -> bytes:
    return orjson.dumps(obj)


def make_response(body: bytes, media_type: str, headers: dict[str, str] | None = None, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type=media_type, headers=headers)

"""HTTP semantics shared by every endpoint, as one plain ASGI middleware.

* Read-only: any method but GET, HEAD and OPTIONS is a 405 problem (``Allow`` says
  what is), whatever the path; OPTIONS (outside CORS preflight) is a 204 with ``Allow``.
* HEAD is served as GET without a body (streamed bodies are not even produced).
* Caching: the data only change with a new build, so each successful response gets
  a weak ETag derived from the build's content hash (plus the API code and the
  request: path, query string, negotiated format, host) and ``Cache-Control: public``.
  ``If-None-Match`` with a matching tag is answered 304 before any database work;
  ``If-None-Match: *`` is answered 304 when the response would be a success.
* Errors carry ``Cache-Control: no-store``.
"""
from __future__ import annotations

import hashlib
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import ALLOW, PROBLEM_JSON, problem_body
from .streaming import accept_format

READ_METHODS = ("GET", "HEAD")
NO_CACHE_PATHS = ("/healthz",)
VARY = b"Accept, Accept-Encoding"


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope["headers"]:
        if k == name:
            return v.decode("latin-1")
    return None


def compute_etag(seed: str, scope: Scope) -> str:
    fmt = accept_format(_header(scope, b"accept"))
    host = _header(scope, b"host") or ""
    h = hashlib.blake2b(digest_size=10)
    h.update(b"\0".join((scope["path"].encode(), scope.get("query_string", b""), fmt.encode(), host.encode(),
                          scope.get("scheme", "http").encode())))
    return f'W/"{seed}-{h.hexdigest()}"'


def _matches(if_none_match: str, etag: str) -> bool:
    ours = etag[2:] if etag.startswith("W/") else etag
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        if tag == ours:
            return True
    return False


class HttpSemantics:
    def __init__(self, app: ASGIApp, state) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if method not in READ_METHODS:
            if method == "OPTIONS":
                await send({"type": "http.response.start", "status": 204,
                            "headers": [(b"allow", ALLOW.encode()), (b"cache-control", b"public, max-age=86400")]})
                await send({"type": "http.response.body", "body": b""})
                return
            body = problem_body(405, f"{method} is not allowed: the API is read-only (use GET or HEAD)",
                                instance=scope.get("path"))
            await send({"type": "http.response.start", "status": 405, "headers": [
                (b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                (b"allow", ALLOW.encode()), (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff")]})
            await send({"type": "http.response.body", "body": body})
            return
        head = method == "HEAD"
        if head:
            scope = dict(scope, method="GET")
            scope["dca.head"] = True
        state = self.state
        seed = state.etag_seed
        if not seed:
            # The database is not open yet (first request before start-up ran): open it now,
            # or let the endpoint answer the 503 problem.
            try:
                state.ready()
                seed = state.etag_seed
            except Exception:  # noqa: BLE001 - the endpoint reports it
                seed = ""
        path = scope["path"]
        cache_control = (b"no-cache" if path in NO_CACHE_PATHS else f"public, max-age={state.settings.max_age}".encode())
        etag = compute_etag(seed, scope) if seed else None
        inm = _header(scope, b"if-none-match")
        star = inm is not None and inm.strip() == "*"
        if etag and inm and not star and _matches(inm, etag):
            await send({"type": "http.response.start", "status": 304, "headers": [
                (b"etag", etag.encode()), (b"cache-control", cache_control), (b"vary", VARY)]})
            await send({"type": "http.response.body", "body": b""})
            return

        swallow = head
        not_modified = False

        async def wrapped(message: Message) -> None:
            nonlocal swallow, not_modified
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", [])]
                names = {k.lower() for k, _ in headers}
                if 200 <= status < 300 and etag:
                    if star:
                        not_modified = swallow = True
                        await send({"type": "http.response.start", "status": 304, "headers": [
                            (b"etag", etag.encode()), (b"cache-control", cache_control), (b"vary", VARY)]})
                        return
                    headers.append((b"etag", etag.encode()))
                    if b"cache-control" not in names:
                        headers.append((b"cache-control", cache_control))
                    if b"vary" in names:
                        headers = [(k, v) for k, v in headers if k.lower() != b"vary"]
                    headers.append((b"vary", VARY))
                elif b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                headers.append((b"x-content-type-options", b"nosniff"))
                message = dict(message, headers=headers)
                await send(message)
                return
            if message["type"] == "http.response.body" and swallow:
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
                return
            await send(message)

        await self.app(scope, receive, wrapped)


class MaybeGzip:
    """Starlette's gzip, engaged only for clients that accept it (no per-request cost otherwise)."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024, compresslevel: int = 5) -> None:
        from starlette.middleware.gzip import GZipMiddleware

        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            ae = _header(scope, b"accept-encoding")
            if ae and "gzip" in ae:
                await self.gzip(scope, receive, send)
                return
        await self.app(scope, receive, send)

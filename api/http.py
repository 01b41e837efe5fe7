"""The app's one ASGI layer: HTTP semantics, CORS, gzip and direct calls of the API's endpoints.

A get-by-id takes SQLite ~15 µs; everything else is the request path around it, so
that path is kept thin by design: one layer (``Edge``) in place of a stack of
middleware, each of which re-read the headers and wrapped ``send`` again (measured in
``bench/README.md``). Its parts:

* Lifespan: the database is opened and checked at start-up (``AppState.open``); a
  failure is reported as ``lifespan.startup.failed`` with the plain message, and the
  server exits non-zero. New builds are then watched for until shutdown.
* Read-only: any method but GET, HEAD and OPTIONS is a 405 problem (``Allow`` says
  what is), whatever the path; OPTIONS (outside CORS preflight) is a 204 with ``Allow``.
* HEAD is served as GET without a body (streamed bodies are not even produced).
* Caching: the data only change with a new build, so each successful response gets
  a weak ETag derived from the build's content hash (plus the API code and the
  request: path, query string, negotiated format, host) and ``Cache-Control: public``.
  ``If-None-Match`` with a matching tag is answered 304 before any database work;
  ``If-None-Match: *`` is answered 304 when the response would be a success.
  Errors carry ``Cache-Control: no-store``.
* CORS, open to every origin for reading: ``Access-Control-Allow-Origin: *`` and the
  exposed headers when the request has an ``Origin``; preflights are answered by
  Starlette's ``CORSMiddleware`` logic.
* gzip (Starlette's, bodies of 1 KiB or more) only for clients that accept it.
* Direct endpoints: the API's routes under ``/v1`` (and ``/healthz``) take only the
  request and plain string path parameters, so they are called straight from here,
  with the app's own exception handlers, instead of through FastAPI's router and its
  dependency solving for each request. A route that declares anything else (query
  or header parameters, dependencies, a body) is left to FastAPI, as is every other
  path (web pages, docs, ``/openapi.json``); the OpenAPI description is FastAPI's,
  from the same routes.
"""
from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .db import StartupError
from .problems import ALLOW, PROBLEM_JSON, problem_body
from .streaming import accept_format

log = logging.getLogger("api")

READ_METHODS = ("GET", "HEAD")
NO_CACHE_PATHS = ("/healthz",)
VARY = b"Accept, Accept-Encoding, Origin"
EXPOSE = ["ETag", "Link", "X-Total-Count", "X-Row-Count", "Content-Disposition"]
CORS_HEADERS = [(b"access-control-allow-origin", b"*"),
                (b"access-control-expose-headers", ", ".join(EXPOSE).encode())]
NOSNIFF = (b"x-content-type-options", b"nosniff")
GZIP_MIN, GZIP_LEVEL = 1024, 5


def compute_etag(seed: str, path: str, query: bytes, accept: str | None, host: str, scheme: str) -> str:
    h = hashlib.blake2b(digest_size=10)
    h.update(b"\0".join((path.encode(), query, accept_format(accept).encode(), host.encode(), scheme.encode())))
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


def _with_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``Origin`` added to the response's Vary (the response may differ for CORS), as Starlette's CORS does."""
    vary = [v for k, v in headers if k == b"vary"]
    if not vary:
        headers.append((b"vary", b"Origin"))
        return headers
    return [(k, v) for k, v in headers if k != b"vary"] + [(b"vary", b", ".join([*vary, b"Origin"]))]


class Exchange:
    """What one request's response headers depend on, read from the request headers in one pass."""

    __slots__ = ("etag", "cache_control", "star", "head", "origin", "gzip")

    def __init__(self, etag: bytes | None, cache_control: bytes, star: bool, head: bool, origin: bool, gzip: bool) -> None:
        self.etag, self.cache_control, self.star = etag, cache_control, star
        self.head, self.origin, self.gzip = head, origin, gzip

    def not_modified(self) -> list[tuple[bytes, bytes]]:
        headers = [(b"etag", self.etag), (b"cache-control", self.cache_control), (b"vary", VARY)]
        return headers + CORS_HEADERS if self.origin else headers

    def finish(self, status: int, headers: list[tuple[bytes, bytes]]) -> tuple[int, list[tuple[bytes, bytes]]]:
        """The status and headers to send for the endpoint's (status 304 when ``If-None-Match: *`` meets a success)."""
        if 200 <= status < 300 and self.etag:
            if self.star:
                return 304, self.not_modified()
            out = []
            cache = None
            for h in headers:
                k = h[0]
                if k == b"cache-control":
                    if cache is None:
                        cache = h[1]
                elif k != b"vary":
                    out.append(h)
            out += [(b"etag", self.etag), (b"cache-control", self.cache_control if cache is None else cache), (b"vary", VARY), NOSNIFF]
        else:
            out = list(headers)
            if not any(k == b"cache-control" for k, _ in out):
                out.append((b"cache-control", b"no-store"))
            out.append(NOSNIFF)
            out = _with_origin(out)
        if self.origin:
            out += CORS_HEADERS
        return status, out

    def wrap(self, send: Send) -> Send:
        """``send`` with the headers finished and, for HEAD or a 304, the body dropped."""
        swallow = self.head

        async def wrapped(message: Message) -> None:
            nonlocal swallow
            kind = message["type"]
            if kind == "http.response.start":
                status, headers = self.finish(message["status"], [(k.lower(), v) for k, v in message.get("headers", [])])
                if status == 304:
                    swallow = True
                await send({"type": "http.response.start", "status": status, "headers": headers})
            elif kind == "http.response.body" and swallow:
                if not message.get("more_body", False):
                    await send({"type": "http.response.body", "body": b""})
            else:
                await send(message)

        return wrapped


Endpoint = Callable[..., Any]


def direct_routes(routers: Iterable[tuple[str, APIRouter]]) -> tuple[dict[str, Endpoint], list[tuple[Any, Endpoint]]]:
    """The API routes the edge can call itself: exact paths, and patterns in declaration order.

    Only GET routes whose endpoint is a coroutine taking the request and plain ``str``
    path parameters, returning a Response; paths under ``/v1`` and ``/healthz`` (the
    web pages, whose routes come first in the app, live elsewhere).
    """
    exact: dict[str, Endpoint] = {}
    patterns: list[tuple[Any, Endpoint]] = []
    for prefix, router in routers:
        for route in router.routes:
            path = prefix + getattr(route, "path", "")
            if not isinstance(route, APIRoute) or "GET" not in route.methods or not (
                    path.startswith("/v1") or path in NO_CACHE_PATHS) or not _plain(route):
                continue
            regex, _, _ = compile_path(path)
            if route.dependant.path_params:
                patterns.append((regex, route.endpoint))
            elif path not in exact and not any(r.match(path) for r, _ in patterns):
                exact[path] = route.endpoint
    return exact, patterns


def _plain(route: APIRoute) -> bool:
    d = route.dependant
    if d.dependencies or d.query_params or d.header_params or d.cookie_params or d.body_params:
        return False
    if d.request_param_name != "request" or any(
            p.field_info.annotation is not str or p.field_info.metadata for p in d.path_params):
        return False
    fn = route.endpoint
    if not inspect.iscoroutinefunction(fn):
        return False
    ret = inspect.signature(fn, eval_str=True).return_annotation
    return inspect.isclass(ret) and issubclass(ret, Response)


async def _prepared(scope: Scope, receive: Receive, send: Send) -> None:
    """The response an endpoint already gave, as an ASGI app (for Starlette's gzip to wrap)."""
    await scope["dca.response"](scope, receive, send)


class Edge:
    """See the module's description. ``app``: FastAPI's own stack (error handling, router)."""

    def __init__(self, app: ASGIApp, fastapi: Any, state: Any, routers: Iterable[tuple[str, APIRouter]]) -> None:
        self.app = app
        self.fastapi = fastapi
        self.state = state
        self.exact, self.patterns = direct_routes(routers)
        self.gzip_app = GZipMiddleware(app, minimum_size=GZIP_MIN, compresslevel=GZIP_LEVEL)
        self.gzip_prepared = GZipMiddleware(_prepared, minimum_size=GZIP_MIN, compresslevel=GZIP_LEVEL)
        self.cors = CORSMiddleware(app, allow_origins=["*"], allow_methods=["GET", "HEAD", "OPTIONS"],
                                   allow_headers=["*"], expose_headers=EXPOSE, max_age=86400)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "lifespan":
                await self.lifespan(receive, send)
            else:
                await self.app(scope, receive, send)
            return
        accept = host = inm = origin = None
        gzip = preflight = False
        for k, v in scope["headers"]:
            if k == b"accept":
                accept = v.decode("latin-1")
            elif k == b"host":
                host = v.decode("latin-1")
            elif k == b"if-none-match":
                inm = v.decode("latin-1")
            elif k == b"accept-encoding":
                gzip = b"gzip" in v
            elif k == b"origin":
                origin = True
            elif k == b"access-control-request-method":
                preflight = True
        method = scope["method"]
        if method not in READ_METHODS:
            await self.not_read(scope, receive, send, method, bool(origin and preflight), bool(origin))
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
        cache_control = b"no-cache" if path in NO_CACHE_PATHS else state.cache_control
        etag = compute_etag(seed, path, scope.get("query_string", b""), accept, host or "",
                            scope.get("scheme", "http")).encode() if seed else None
        star = inm is not None and inm.strip() == "*"
        ex = Exchange(etag, cache_control, star, head, bool(origin), gzip)
        if etag and inm and not star and _matches(inm, etag.decode()):
            await _reply(send, 304, ex.not_modified(), b"")
            return
        query = scope.get("query_string", b"")
        if not query.isascii() and not _is_utf8(query):
            # Raw bytes that are not UTF-8 (a client that did not percent-encode): Starlette cannot even
            # build the request's URL from them, so they are refused here, for every path.
            status, headers = ex.finish(400, [(b"content-type", PROBLEM_JSON.encode()),
                                              (b"content-length", str(len(BAD_QUERY)).encode()),
                                              (b"cache-control", b"no-store")])
            await _reply(send, status, headers, b"" if head else BAD_QUERY)
            return
        endpoint = self.exact.get(path)
        params: dict[str, str] = {}
        if endpoint is None and path.startswith("/v1/"):
            for regex, fn in self.patterns:
                m = regex.match(path)
                if m:
                    endpoint, params = fn, m.groupdict()
                    break
        if endpoint is None:
            await (self.gzip_app if gzip else self.app)(scope, receive, ex.wrap(send))
            return
        await self.direct(scope, receive, send, ex, endpoint, params)

    async def direct(self, scope: Scope, receive: Receive, send: Send, ex: Exchange, endpoint: Endpoint,
                     params: dict[str, str]) -> None:
        scope["path_params"] = params
        scope["router"] = self.fastapi.router
        request = Request(scope, receive)
        try:
            response = await endpoint(request, **params)
        except Exception as exc:  # noqa: BLE001 - answered by the app's own handler for it
            response = await self.handle(request, exc)
        if ex.gzip or isinstance(response, StreamingResponse) or response.background is not None:
            if ex.gzip:
                scope["dca.response"] = response
                await self.gzip_prepared(scope, receive, ex.wrap(send))
            else:
                await response(scope, receive, ex.wrap(send))
            return
        status, headers = ex.finish(response.status_code, response.raw_headers)
        await _reply(send, status, headers, b"" if ex.head or status == 304 else response.body)

    async def handle(self, request: Request, exc: Exception) -> Response:
        """The response of the app's exception handler for ``exc`` (by class, most specific first)."""
        handlers = self.fastapi.exception_handlers
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                return await handler(request, exc)
        raise exc  # pragma: no cover - the app handles Exception itself

    async def not_read(self, scope: Scope, receive: Receive, send: Send, method: str, preflight: bool,
                       origin: bool) -> None:
        """A request other than GET or HEAD: CORS preflight, OPTIONS, or a 405 problem."""
        if preflight and method == "OPTIONS":
            response = self.cors.preflight_response(request_headers=Headers(scope=scope))
            await response(scope, receive, send)
            return
        if method == "OPTIONS":
            status, body = 204, b""
            headers = [(b"allow", ALLOW.encode()), (b"cache-control", b"public, max-age=86400")]
        else:
            status = 405
            body = problem_body(405, f"{method} is not allowed: the API is read-only (use GET or HEAD)",
                                instance=scope.get("path"))
            headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode()),
                       (b"allow", ALLOW.encode()), (b"cache-control", b"no-store"), NOSNIFF]
        headers = _with_origin(headers)
        if origin:
            headers += CORS_HEADERS
        await _reply(send, status, headers, body)

    async def lifespan(self, receive: Receive, send: Send) -> None:
        """Open and check the database at start-up; watch for new builds until shutdown."""
        state = self.state
        watcher = None
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    state.open()
                except StartupError as e:
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    # Servers stop on the message above (uvicorn exits 3, without a traceback since
                    # the failure was reported); raising also ends in-process clients' lifespan.
                    raise
                await send({"type": "lifespan.startup.complete"})
                if state.settings.watch_interval > 0:
                    watcher = asyncio.ensure_future(state.watch(state.settings.watch_interval))
            elif message["type"] == "lifespan.shutdown":
                if watcher is not None:
                    watcher.cancel()
                state.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


BAD_QUERY = problem_body(400, "the query string is not valid UTF-8: percent-encode each byte of a value "
                               "(e.g. q=caf%C3%A9 for 'café')", title="Bad request")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


async def _reply(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

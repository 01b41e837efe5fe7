"""The thin request path: which routes the edge calls itself, and one socket write per response."""
from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from api.http import direct_routes
from api.main import API_ROUTERS
from api.routes import meta
from api.serving import FLUSH_AT, CoalescingTransport


def test_the_api_routes_are_called_directly_and_nothing_else():
    exact, patterns = direct_routes([*API_ROUTERS, ("", meta.router)])
    assert {"/v1/agreements", "/v1/countries", "/v1/stats", "/v1/meta", "/healthz", "/v1"} <= set(exact)
    assert "/" not in exact  # the web page is served there first
    matched = [r.pattern for r, _ in patterns]
    assert any(r.match("/v1/agreements/pak-rus-2014-11-20") for r, _ in patterns), matched
    assert not any(r.match("/v1/agreements/a/b") for r, _ in patterns)
    assert not any(r.match("/agreements/pak-rus-2014-11-20") for r, _ in patterns)


def test_routes_that_need_fastapi_are_left_to_it():
    router = APIRouter()

    @router.get("/with-query")
    async def with_query(request: Request, n: int = Query(1)) -> Response:
        return Response(b"")

    @router.get("/typed/{n}")
    async def typed(request: Request, n: int) -> Response:
        return Response(b"")

    @router.get("/plain/{name}")
    async def plain(request: Request, name: str) -> Response:
        return Response(b"")

    exact, patterns = direct_routes([("/v1", router)])
    assert exact == {}
    assert [fn for _, fn in patterns] == [plain]


class FakeTransport:
    def __init__(self) -> None:
        self.calls: list[list[bytes]] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.calls.append([data])

    def writelines(self, parts: list[bytes]) -> None:
        self.calls.append(list(parts))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default=None):
        return ("127.0.0.1", 1) if name == "peername" else default


def test_writes_in_one_turn_of_the_loop_leave_in_one_write():
    async def run() -> FakeTransport:
        fake = FakeTransport()
        t = CoalescingTransport(fake, asyncio.get_running_loop())
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(b"")
        t.write(b"body")
        assert fake.calls == [] and t.get_write_buffer_size() == len(b"HTTP/1.1 200 OK\r\n\r\nbody")
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        t.write(b"next")
        t.close()  # what is waiting goes first
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)
        return fake

    fake = asyncio.run(run())
    assert fake.calls == [[b"HTTP/1.1 200 OK\r\n\r\n", b"body"], [b"next"]]
    assert fake.closed


def test_large_bodies_are_not_held_back():
    async def run() -> FakeTransport:
        fake = FakeTransport()
        t = CoalescingTransport(fake, asyncio.get_running_loop())
        t.write(b"head")
        t.write(b"x" * FLUSH_AT)
        assert fake.calls == [[b"head", b"x" * FLUSH_AT]]
        await asyncio.sleep(0)
        return fake

    assert len(asyncio.run(run()).calls) == 1


def test_dca_serve_with_workers_hands_the_database_to_them(synthetic_db, monkeypatch):
    import os

    import uvicorn

    from api.serving import CoalescingHttpTools
    from scripts.serve import serve

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.delenv("DCA_DB", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    serve(db=synthetic_db, workers=2, say=lambda m: None)
    app, kw = calls[0]
    assert app == "api.main:create_app" and kw["factory"] and kw["workers"] == 2
    assert kw["http"] is CoalescingHttpTools
    assert os.environ["DCA_DB"] == str(synthetic_db.resolve())
    serve(db=synthetic_db, say=lambda m: None)  # one process: the app object itself, no workers
    app, kw = calls[1]
    assert not isinstance(app, str) and "workers" not in kw

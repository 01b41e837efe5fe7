"""Query strings as raw bytes on the wire: a client that does not percent-encode.

HTTP clients (and httpx in the other tests) always percent-encode, so these requests are
made as ASGI scopes with the bytes a server such as uvicorn would pass on. Bytes that are
not UTF-8 once made Starlette fail while it built the request's URL: a 500 with a traceback.
"""
from __future__ import annotations

import orjson
import pytest


async def _get(app, path: bytes, query: bytes, method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes]:
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path.decode("latin-1"), "raw_path": path,
             "query_string": query, "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"origin", b"https://example.org")]}
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), body


@pytest.mark.parametrize("path, query", [
    (b"/v1/agreements", b"country=\xe9"),
    (b"/v1/agreements", b"\xff=1"),
    (b"/v1/agreements", b"q=caf\xe9"),
    (b"/v1/agreements", b"cursor=\xc3"),
    (b"/v1/dyads", b"state=\xe9"),
    (b"/v1/dyad-years", b"pair=PAK,\xe9"),
    (b"/v1/stats", b"by=\xe9"),
    (b"/", b"x=\xe9"),
])
def test_a_query_string_that_is_not_utf8_is_a_400_problem(client, app, path, query):
    status, headers, body = client.portal.call(_get, app, path, query)
    assert status == 400
    assert headers[b"content-type"] == b"application/problem+json"
    assert int(headers[b"content-length"]) == len(body)
    assert headers[b"access-control-allow-origin"] == b"*"  # CORS as on every other answer
    problem = orjson.loads(body)
    assert problem["status"] == 400 and "percent-encode" in problem["detail"]


def test_head_of_such_a_query_has_no_body(client, app):
    status, headers, body = client.portal.call(_get, app, b"/v1/agreements", b"country=\xe9", "HEAD")
    assert status == 400 and body == b""


def test_utf8_bytes_unencoded_still_work(client, app):
    """Raw UTF-8 (not percent-encoded) is valid text: it is read as the value, as before."""
    status, _, body = client.portal.call(_get, app, b"/v1/agreements", "q=café".encode())
    assert status == 200 and "items" in orjson.loads(body)

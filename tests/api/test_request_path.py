"""The list path's shortcuts give what the general code they replace gives (api.params, api.listing, api.cursor).

Each shortcut exists for speed only (bench/README.md, "The list path"), so each is
checked here against the Starlette / standard-library code it stands in for.
"""
from __future__ import annotations

import base64
import hmac
import os

import pytest
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response

from api.cursor import CursorCodec, _b64
from api.listing import page_response, page_url
from api.params import Param, Params, query_items
from api.problems import Problem

QUERIES = [
    "", "a=1", "a=1&b=2&a=3", "a", "a=", "=1", "&&a=1&&", "a=b=c", "a=1;b=2", "q=mi%2035", "q=a+b", "q=%C3%A9t%C3%A9",
    "q=%ZZ", "q=%e9", "country+=USA", "x%00=1", "party=USA,GBR&party=FRA", "cursor=abc.def&limit=5", "\xe9=\xe9",
]


def _request(raw: str) -> Request:
    return Request({"type": "http", "query_string": raw.encode("latin-1"), "headers": []})


@pytest.mark.parametrize("raw", QUERIES)
def test_query_items_are_starlettes_query_params(raw):
    assert query_items(_request(raw)) == list(QueryParams(raw.encode("latin-1")).multi_items())


PARAMS = Params(Param("party", "", {}, multi=True), Param("country", "", {}), Param("limit", "", {}),
                Param("sort", "", {}), Param("type", "", {}, multi=True))


def _read(params: Params, query):
    try:
        return params.read(query)
    except Problem as e:
        return (e.status, e.detail, e.errors)


@pytest.mark.parametrize("raw", QUERIES + ["party=A&country=B&limit=1", "sort=x&limit=1&limit=2&sort=y&country=1&country=2",
                                           "limit=1&limit=2&zz=1", "country=%00&party=%00", "type=&type=b"])
def test_params_read_takes_pairs_as_it_took_query_params(raw):
    starlette = QueryParams(raw.encode("latin-1"))
    assert _read(PARAMS, query_items(_request(raw))) == _read(PARAMS, starlette)


def test_repeated_parameters_are_named_in_declared_order():
    status, detail, _ = _read(PARAMS, query_items(_request("sort=1&sort=2&limit=1&limit=2&country=a&country=b")))
    assert status == 422 and detail.index("country") < detail.index("limit") < detail.index("sort")


@pytest.mark.parametrize("media", ["application/json", "text/csv; charset=utf-8; header=present", "application/x-ndjson"])
def test_page_response_has_starlettes_headers(media):
    body = b'{"items":[]}' * 7
    ours = page_response(body, [(b"x-total-count", b"12"), (b"link", b'<http://h/p?a=1>; rel="first"')], media)
    theirs = Response(body, media_type=media, headers={"X-Total-Count": "12", "Link": '<http://h/p?a=1>; rel="first"'})
    assert (ours.status_code, ours.raw_headers, ours.body, ours.background) == \
        (theirs.status_code, theirs.raw_headers, theirs.body, theirs.background)


@pytest.mark.parametrize("raw, cursor, want", [
    ("", None, "http://h/p"), ("", "c.d", "http://h/p?cursor=c.d"), ("a=1&&b=2", None, "http://h/p?a=1&b=2"),
    ("a=1&cursor=x.y&cursor&b=2", "c.d", "http://h/p?a=1&b=2&cursor=c.d"), ("cursorx=1", None, "http://h/p?cursorx=1"),
])
def test_page_url_replaces_the_cursor(raw, cursor, want):
    assert page_url("http://h/p", raw, cursor) == want


def test_cursor_mac_and_encoding_are_hmac_sha256_and_base64url():
    codec = CursorCodec(b"secret", "build")
    for payload in (b"", b'["2001-01-01","x"]', os.urandom(300)):
        assert codec._mac(payload, "scope") == hmac.digest(codec.key, payload + b"\x00scope", "sha256")[:16]
    for n in range(40):
        data = os.urandom(n)
        assert _b64(data) == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    cursor = codec.encode(["2001-01-01", "abc"], "scope")
    assert codec.decode(cursor, "scope", (str, str)) == ["2001-01-01", "abc"]

"""HTTP semantics: ETag / 304, caching headers, HEAD, OPTIONS, CORS, 405, 404, problem documents."""
from __future__ import annotations

import pytest

URLS = ["/v1/agreements", "/v1/agreements?party=USA&limit=3", "/v1/agreements/fra-ind-rus-2019-03-05", "/v1/countries",
        "/v1/countries/USA", "/v1/equipment", "/v1/sources", "/v1/stats", "/v1/meta", "/v1/datapackage.json", "/healthz",
        "/v1/agreements?format=csv&limit=all", "/openapi.json"]


@pytest.mark.parametrize("url", URLS)
def test_etag_and_304(client, url):
    r = client.get(url)
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert etag.startswith('W/"') and etag.endswith('"')
    meta = client.get("/v1/meta").json()
    assert meta["content_hash"][:16] in etag  # derived from the build's content hash
    assert "Accept" in r.headers["vary"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other", ' + etag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": etag[2:]}).status_code == 304  # weak comparison
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(url, headers={"If-None-Match": 'W/"nope"'}).status_code == 200


def test_etag_depends_on_the_query(client):
    a = client.get("/v1/agreements?party=USA").headers["etag"]
    b = client.get("/v1/agreements?party=CHN").headers["etag"]
    assert a != b
    assert client.get("/v1/agreements?party=CHN", headers={"If-None-Match": a}).status_code == 200


def test_if_none_match_star_on_a_missing_resource(client):
    r = client.get("/v1/agreements/nope", headers={"If-None-Match": "*"})
    assert r.status_code == 404


def test_cache_control(client):
    assert client.get("/v1/agreements").headers["cache-control"] == "public, max-age=300"
    assert client.get("/healthz").headers["cache-control"] == "no-cache"
    assert client.get("/v1/agreements/nope").headers["cache-control"] == "no-store"
    assert client.get("/v1/agreements?status=x").headers["cache-control"] == "no-store"
    assert "etag" not in client.get("/v1/agreements/nope").headers


@pytest.mark.parametrize("url", ["/v1/agreements?limit=2", "/v1/agreements/fra-ind-rus-2019-03-05",
                                 "/v1/agreements?format=csv&limit=all", "/v1/meta"])
def test_head(client, url):
    g = client.get(url)
    h = client.head(url)
    assert h.status_code == 200 and h.content == b""
    assert h.headers["etag"] == g.headers["etag"]
    assert h.headers["content-type"] == g.headers["content-type"]
    assert h.headers.get("x-row-count") == g.headers.get("x-row-count")


def test_head_of_errors(client):
    h = client.head("/v1/agreements/nope")
    assert h.status_code == 404 and h.content == b""


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "CONNECT", "PROPFIND"])
@pytest.mark.parametrize("url", ["/v1/agreements", "/v1/agreements/fra-ind-rus-2019-03-05", "/nowhere", "/healthz"])
def test_write_methods_are_405(client, method, url):
    r = client.request(method, url, content=b'{"x": 1}')
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 405 and "read-only" in body["detail"]


def test_options(client):
    r = client.options("/v1/agreements")
    assert r.status_code == 204
    assert r.headers["allow"] == "GET, HEAD, OPTIONS"


def test_cors(client):
    r = client.get("/v1/agreements?limit=1", headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    exposed = r.headers["access-control-expose-headers"].lower()
    for h in ("etag", "link", "x-total-count", "x-row-count", "content-disposition"):
        assert h in exposed
    pre = client.options("/v1/agreements", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "GET" in pre.headers["access-control-allow-methods"]
    bad = client.options("/v1/agreements", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "DELETE"})
    assert bad.status_code == 400
    err = client.post("/v1/agreements", headers={"Origin": "https://example.org"})
    assert err.status_code == 405 and err.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("url", ["/nowhere", "/v2/agreements", "/v1/agreement", "/v1/agreements/a/b", "/v1/countries/USA/x"])
def test_unknown_path_is_404_problem(client, url):
    r = client.get(url)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 404 and body["title"] == "Not found" and body["instance"] == url.split("?")[0]


@pytest.mark.parametrize("url", ["/v1/meta?x=1", "/healthz?verbose=1", "/v1/countries/USA?limit=3", "/v1/stats?limit=1",
                                 "/v1/equipment?party=USA", "/v1/agreements/fra-ind-rus-2019-03-05?fields=title"])
def test_unknown_parameters_are_400(client, url):
    r = client.get(url)
    assert r.status_code == 400
    assert r.json()["type"] == "urn:dca:problem:unknown-parameter"


def test_problem_documents_have_no_internals(client):
    for url in ["/v1/agreements?signed_from=2014-02-30", "/v1/agreements/nope", "/v1/agreements?cursor=abc",
                "/v1/agreements?q=%00", "/v1/countries/ZZZ"]:
        r = client.get(url)
        assert r.status_code in (400, 404, 422)
        body = r.json()
        assert set(body) <= {"type", "title", "status", "detail", "instance", "errors"}
        assert "Traceback" not in r.text and "sqlite" not in r.text.lower() and "psycopg" not in r.text.lower()


def test_root_and_index(client):
    assert client.get("/").json()["v1"] == "http://testserver/v1"
    assert "agreements" in client.get("/v1").json()


def test_docs_and_openapi(client):
    spec = client.get("/openapi.json").json()
    for path in ("/v1/agreements", "/v1/agreements/{agreement_id}", "/v1/countries", "/v1/countries/{iso3}", "/v1/equipment",
                 "/v1/sources", "/v1/stats", "/v1/meta", "/v1/datapackage.json", "/healthz"):
        assert path in spec["paths"], path
        assert list(spec["paths"][path]) == ["get"]
    params = {p["name"]: p for p in spec["paths"]["/v1/agreements"]["get"]["parameters"]}
    assert set(params) == {"party", "ccode", "country", "signed_from", "signed_to", "type", "instrument", "status", "venue_country",
                           "equipment_category", "designation", "q", "sort", "fields", "limit", "cursor", "format"}
    # Vocabularies come from the Table Schemas.
    from api import vocab

    # (plus "": an empty value is documented as absent, as the server reads it)
    assert params["status"]["schema"]["items"]["enum"] == vocab.enum("agreements", "status") + [""]
    assert params["type"]["schema"]["items"]["enum"] == vocab.enum("agreements", "agreement_type") + [""]
    assert "/v1/downloads" in spec["paths"]
    r = client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
    # Swagger UI comes from this server, not a CDN: the docs work on a closed network.
    import re

    assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert assets and all(a.startswith("/docs-assets/") for a in assets), assets
    for a in assets:
        assert client.get(a).status_code == 200, a


def test_unexpected_errors_are_bare_500_problems(app_settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    app = create_app(app_settings)

    @app.get("/boom", include_in_schema=False)
    async def boom():
        raise RuntimeError("secret internals: /etc/passwd at line 42")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Internal server error"
    assert "secret" not in r.text and "Traceback" not in r.text and "RuntimeError" not in r.text

"""The web pages without a browser (TestClient): content, filters, paging, errors, escaping, headers."""
from __future__ import annotations

import csv
import hashlib
import io
from urllib.parse import parse_qsl, urlsplit

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.web.data import DEFAULT_LIMIT
from api.settings import Settings
from api.web.render import CSP

from .conftest import FIRST_RECORD, HTML, XSS_ID, XSS_TITLE
from .dom import parse

JSON = {"Accept": "application/json"}


def page(client, url: str, status: int = 200):
    r = client.get(url)
    assert r.status_code == status, r.text[:2000]
    assert r.headers["content-type"].startswith("text/html")
    return r, parse(r.text)


def table_ids(doc) -> list[str]:
    return [a.get("href").rsplit("/", 1)[-1] for a in doc.find_all("a", cls="record-link")]


def api(client, url: str):
    r = client.get(url, headers=JSON)
    assert r.status_code == 200, r.text
    return r.json()


def api_ids(client, query: str) -> list[str]:
    sep = "&" if query else ""
    return [a["agreement_id"] for a in api(client, f"/v1/agreements?{query}{sep}limit=1000")["items"]]


PAGES = ["/", "/?party=PAK&party=RUS", f"/agreements/{FIRST_RECORD}", "/countries/PAK", "/countries",
         "/?limit=10&sort=title"]


# --------------------------------------------------------------------------- the front page and the API index

def test_browsers_get_the_page_api_clients_the_json_index(html):
    r, doc = page(html, "/")
    assert doc.find("h1").clean_text == "Defence cooperation agreements"
    for accept in ("*/*", "application/json", None):
        headers = {"Accept": accept} if accept else {"Accept": ""}
        r = html.get("/", headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        assert r.json()["v1"] == "http://testserver/v1"
    assert html.head("/").status_code == 200
    # The pages are not part of the API's description, and the API is where it was.
    paths = api(html, "/openapi.json")["paths"]
    assert not {"/", "/agreements/{agreement_id}", "/countries", "/countries/{iso3}", "/downloads/{path}"} & set(paths)
    assert api(html, "/v1/agreements?limit=1")["items"]


@pytest.mark.parametrize("url,status", [(u, 200) for u in PAGES] + [("/agreements/no-such-record", 404),
                                                                     ("/?type=bogus", 422), ("/countries/XYZ", 404)])
def test_security_headers(html, url, status):
    r, _ = page(html, url, status)
    csp = r.headers["content-security-policy"]
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("url", PAGES)
def test_no_inline_code_or_styles_and_nothing_from_elsewhere(html, url):
    r, doc = page(html, url)
    scripts = doc.find_all("script")
    assert scripts and all(s.get("src", "").startswith("/static/") and not s.text.strip() for s in scripts)
    assert not doc.find_all("style")
    for n in doc.iter():
        assert "style" not in n.attrs, n
        assert not [a for a in n.attrs if a.startswith("on")], n
    for n in doc.find_all("link") + doc.find_all("img") + scripts:
        ref = n.get("href") or n.get("src") or ""
        assert ref.startswith("/") or ref.startswith("data:") or (n.get("rel") == "canonical"), n
        assert not ref.startswith("//")


@pytest.mark.parametrize("url", PAGES)
def test_phone_viewport_language_and_title(html, url):
    _, doc = page(html, url)
    assert doc.find("html").get("lang") == "en"
    viewport = doc.find("meta", name="viewport").get("content")
    assert "width=device-width" in viewport and "initial-scale=1" in viewport
    assert doc.find("title").clean_text
    assert len(doc.find_all("h1")) == 1
    assert doc.find("a", cls="skip-link").get("href") == "#main"


def test_every_form_control_has_a_label(html):
    _, doc = page(html, "/?party=PAK&party=RUS")
    form = doc.by_id("filters")
    labels = {label.get("for") for label in form.find_all("label")}
    controls = [n for n in form.iter() if n.tag in ("input", "select") and n.get("type") != "hidden"]
    assert len(controls) >= 10
    assert all(c.get("id") in labels for c in controls), [c.get("id") for c in controls if c.get("id") not in labels]
    assert form.get("method") == "get"


# --------------------------------------------------------------------------- filters

def test_country_pair_filter_shows_the_first_record(html):
    _, doc = page(html, "/?party=PAK&party=RUS")
    assert table_ids(doc) == api_ids(html, "party=PAK&party=RUS&sort=-signed_on")[:DEFAULT_LIMIT]
    assert FIRST_RECORD in table_ids(doc)
    selected = [o.get("value") for s in doc.find_all("select", name="party") for o in s.find_all("option")
                if "selected" in o.attrs]
    assert selected == ["PAK", "RUS"]
    row = doc.find("a", cls="record-link", href=f"/agreements/{FIRST_RECORD}").parent.parent
    text = row.clean_text
    for expected in ("20 Nov 2014", "Defence and Military Cooperation Agreement", "Pakistan", "Russia",
                     "General defence cooperation", "Signed", "Rawalpindi, Pakistan", "Mi-35"):
        assert expected in text, expected
    n = len(api_ids(html, "party=PAK&party=RUS"))
    heading = f"{n} agreement matches the filters" if n == 1 else f"{n} agreements match the filters"
    assert heading in doc.by_id("results-heading").clean_text


@pytest.mark.parametrize("query", [
    "type=procurement", "status=in_force", "signed_from=2020&signed_to=2022-06", "equipment_category=helicopter",
    "q=submarine", "venue_country=USA", "designation=rafale", "party=USA", "party=IND&type=procurement",
    "signed_to=2014", "type=procurement&status=signed&equipment_category=combat_aircraft",
])
def test_filters_give_the_rows_the_api_gives(html, query):
    _, doc = page(html, f"/?{query}&limit=100")
    expected = api_ids(html, f"{query}&sort=-signed_on")
    assert table_ids(doc) == expected[:100]
    heading = doc.by_id("results-heading").clean_text
    assert heading.startswith(f"{len(expected)} agreement" if expected else "No agreements match")


def test_country_is_an_alias_of_party(html):
    _, doc = page(html, "/?country=IND")
    assert table_ids(doc)[:25] == api_ids(html, "party=IND&sort=-signed_on")[:25]


def test_a_form_sent_without_javascript_redirects_to_a_clean_address(html):
    sent = ("/?party=PAK&party=RUS&signed_from=&signed_to=&type=&status=&equipment_category=&q=&designation="
            "&venue_country=&limit=")
    r = html.get(sent, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/?party=PAK&party=RUS"
    _, doc = page(html, r.headers["location"])
    assert FIRST_RECORD in table_ids(doc)
    r = html.get("/?party=&type=", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_sort_links_keep_the_filters(html):
    _, doc = page(html, "/?party=USA")
    heads = {a.clean_text.split(" (")[0].split(",")[0]: a for a in doc.find_all("a", cls="sort-link")}
    signed, title = heads["Signed▼"], heads["Agreement"]
    assert signed.parent.get("aria-sort") == "descending"
    assert parse_qsl(urlsplit(signed.get("href")).query) == [("party", "USA"), ("sort", "signed_on")]
    assert parse_qsl(urlsplit(title.get("href")).query) == [("party", "USA"), ("sort", "title")]
    _, doc = page(html, title.get("href"))
    assert table_ids(doc) == api_ids(html, "party=USA&sort=title")[:DEFAULT_LIMIT]
    th = [a for a in doc.find_all("a", cls="sort-link") if a.clean_text.startswith("Agreement")][0]
    assert th.parent.get("aria-sort") == "ascending"
    assert ("sort", "-title") in parse_qsl(urlsplit(th.get("href")).query)
    # The form carries the sort, so that changing a filter keeps it.
    assert doc.by_id("filters").find("input", type="hidden", name="sort").get("value") == "title"


def test_keyset_paging_through_every_agreement(html):
    everything = api_ids(html, "sort=-signed_on")
    url, seen, pages = "/?limit=10", [], 0
    while url:
        _, doc = page(html, url)
        ids = table_ids(doc)
        assert 0 < len(ids) <= 10
        pages += 1
        pager = doc.find("nav", cls="pager").clean_text
        assert f"Page {pages}" in pager and f"rows {len(seen) + 1}–{len(seen) + len(ids)} of {len(everything)}" in pager
        seen += ids
        if pages > 1:
            assert doc.find("a", rel="first").get("href") == "/?limit=10"
        nxt = doc.find_all("a", rel="next")
        url = nxt[0].get("href") if nxt else None
        if url:
            q = dict(parse_qsl(urlsplit(url).query))
            assert q["limit"] == "10" and q["page"] == str(pages + 1) and q["cursor"]
    assert seen == everything
    assert pages == -(-len(everything) // 10)


def test_a_tampered_cursor_is_explained(html):
    r, doc = page(html, "/?cursor=not-a-cursor", 400)
    assert "cursor" in doc.by_id("filter-error").clean_text
    assert doc.by_id("filters")
    assert "Traceback" not in r.text


def test_bad_filter_values_are_explained_not_a_500(html):
    r, doc = page(html, "/?type=bogus&signed_from=2014-13&party=XXX&q=%3Cscript%3Ex%3C%2Fscript%3E&limit=5000", 422)
    box = doc.by_id("filter-error").clean_text
    for name in ("type", "signed from", "party", "limit"):
        assert name in box, name
    assert doc.by_id("signed_from").get("value") == "2014-13"
    assert doc.by_id("q").get("value") == "<script>x</script>"
    assert "<script>x" not in r.text
    # The rest of the page still works: the charts and downloads cover the whole dataset.
    assert doc.by_id("chart-years")
    assert "format=csv" in doc.by_id("download-selection-csv").get("href")


# --------------------------------------------------------------------------- record and country pages

def test_record_page_shows_everything(html):
    a = api(html, f"/v1/agreements/{FIRST_RECORD}")
    meta = api(html, "/v1/meta")
    r, doc = page(html, f"/agreements/{FIRST_RECORD}")
    assert doc.find("h1").clean_text == a["title"]
    text = doc.find("main").clean_text
    assert a["summary"] in text and " ".join(a["notes"].split()) in text
    for p in a["parties"]:
        assert p["name"] in text and p["signatory_name"] in text
    rows = doc.find("table", cls="equipment").find("tbody").find_all("tr")
    assert len(rows) == len(a["equipment"])
    for e in a["equipment"]:
        row = doc.by_id(f"equipment-{e['equipment_id']}").clean_text
        assert e["designation"] in row and e["status"].replace("_", " ") in row.lower()
    links = doc.find_all("a", cls="source-link")
    assert sorted(x.get("href") for x in links) == sorted(s["url"] for s in a["sources"] if s["url"])
    assert all("noopener" in x.get("rel") and "noreferrer" in x.get("rel") for x in links)
    for s in a["sources"]:
        assert doc.by_id(f"source-{s['source_id']}")
    history = doc.find("ol", cls="history").find_all("li")
    assert len(history) == len(a["status_history"])
    dates = [li.find("time").get("datetime") for li in history]
    assert dates == sorted(h["status_on"] for h in a["status_history"])
    for ref in doc.find_all("a", cls="source-ref"):
        assert doc.by_id(ref.get("href")[1:])
    # How old the status is at this build, from status_as_of and the build date.
    from api.web.labels import status_age
    age = doc.find("span", cls="status-age").clean_text
    assert age == f"confirmed {status_age(a['status_as_of'], meta['built_at'])} before this build" and "year" in age
    cite = doc.by_id("cite-line").clean_text
    assert cite == (f"{a['title']} ({FIRST_RECORD}). In: {meta['title']}, version {meta['version']} (dataset). "
                    f"http://testserver/agreements/{FIRST_RECORD}")
    # The same record as JSON and CSV.
    assert html.get(doc.by_id("record-json").get("href"), headers=JSON).json() == a
    got = html.get(doc.by_id("record-csv").get("href"))
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    everything = html.get("/v1/agreements?format=csv&limit=all").text
    header, *lines = everything.splitlines(keepends=True)
    rows = {row["agreement_id"]: row for row in csv.DictReader(io.StringIO(everything))}
    one = list(csv.DictReader(io.StringIO(got.text)))
    assert got.text.splitlines()[0] == header.rstrip("\r\n")
    assert one == [rows[FIRST_RECORD]]
    assert FIRST_RECORD in got.headers["content-disposition"]


def test_country_page(html):
    c = api(html, "/v1/countries/PAK")
    _, doc = page(html, "/countries/PAK")
    assert doc.find("h1").clean_text == "Pakistan"
    partners = [a.clean_text for a in doc.find("table", cls="partners").find_all("a")
                if a.get("href").startswith("/countries/") and "pair-link" not in a.classes]
    assert partners == [p["name"] for p in c["partners"]]
    pair = doc.find("table", cls="partners").find_all("a", href="/?party=PAK&party=RUS")
    assert pair
    assert table_ids(doc) == api_ids(html, "party=PAK&sort=-signed_on")[:DEFAULT_LIMIT]
    marks = doc.by_id("chart-timeline").find_all("rect")
    assert sum(int(m.find("title").text.rsplit(": ", 1)[1]) for m in marks) == c["agreement_count"]
    assert html.get("/countries/pak", follow_redirects=False).headers["location"] == "/countries/PAK"


def test_countries_page(html):
    expected = [c["iso3"] for c in api(html, "/v1/countries?has_agreements=true&sort=name&limit=1000")["items"]]
    _, doc = page(html, "/countries")
    assert [a.get("href").rsplit("/", 1)[-1] for a in doc.find("table").find_all("a") if a.get("href").startswith("/countries/")] == expected


@pytest.mark.parametrize("url", ["/agreements/no-such-record", "/agreements/no-such-record.csv", "/countries/XYZ",
                                 "/countries/12", "/downloads/no-such-file.csv", "/downloads/../../etc/passwd"])
def test_unknown_things_are_html_404_pages(html, url):
    r = html.get(url)
    assert r.status_code == 404
    if url.startswith("/downloads/../"):
        return  # normalised away by the client: not a page of ours
    assert r.headers["content-type"].startswith("text/html")
    doc = parse(r.text)
    assert doc.find("h1").clean_text == "Page not found"
    assert doc.find("a", href="/")


# --------------------------------------------------------------------------- charts and downloads

@pytest.mark.parametrize("query", ["", "party=PAK", "type=procurement"])
def test_charts_are_server_rendered_svg_of_the_stats(html, query):
    stats = api(html, f"/v1/stats?{query}")
    _, doc = page(html, f"/?{query}")
    years = doc.by_id("chart-years")
    assert years.tag == "svg" and years.get("role") == "img" and years.find("title").clean_text
    marks = years.find_all("rect")
    assert sum(int(m.find("title").text.rsplit(": ", 1)[1]) for m in marks) == sum(y["count"] for y in stats["by_year"])
    numbers = doc.by_id("chart-years-figure").find("table", cls="numbers").find("tbody").find_all("tr")
    assert [(tr.find("th").text, int(tr.find_all("td")[-1].text)) for tr in numbers] == \
        [(y["key"], y["count"]) for y in stats["by_year"]]
    bars = doc.by_id("chart-countries").find_all("a", cls="bar-link")
    assert [b.get("href").rsplit("/", 1)[-1] for b in bars] == [c["iso3"] for c in stats["by_country"][:10]]
    assert [int(b.find("text", cls="bar-value").text) for b in bars] == [c["count"] for c in stats["by_country"][:10]]


def test_downloads_block(html):
    _, doc = page(html, "/?party=PAK&party=RUS")
    block = doc.find("section", cls="downloads")
    csv_link = doc.by_id("download-selection-csv").get("href")
    q = parse_qsl(urlsplit(csv_link).query)
    assert ("party", "PAK") in q and ("party", "RUS") in q and ("format", "csv") in q and ("limit", "all") in q
    got = html.get(csv_link)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    assert [r["agreement_id"] for r in csv.DictReader(io.StringIO(got.text))] == api_ids(html, "party=PAK&party=RUS&sort=-signed_on")
    hrefs = [a.get("href") for a in block.find_all("a")]
    assert "/v1/datapackage.json" in hrefs
    assert "/v1/downloads" in hrefs
    files = block.find("table", cls="files").find("tbody").find_all("tr")
    names = [tr.find("a").clean_text for tr in files]
    assert "dca.sqlite" in names and "agreements_flat.csv" in names
    for tr in files:
        link = tr.find("a").get("href")
        r = html.get(link)
        assert r.status_code == 200, link
        assert tr.find("code").get("title") == hashlib.sha256(r.content).hexdigest()


def test_static_files(html):
    _, doc = page(html, "/")
    css = doc.find("link", rel="stylesheet").get("href")
    js = doc.find("script").get("src")
    for url, media in ((css, "text/css"), (js, "javascript")):
        r = html.get(url)
        assert r.status_code == 200 and media in r.headers["content-type"]
        assert len(r.headers.get_list("etag")) == 1
        assert "immutable" in r.headers["cache-control"]
    r = html.get("/static/style.css")
    assert r.status_code == 200 and "immutable" not in r.headers["cache-control"]
    assert html.get("/static/nothing.css").status_code == 404


# --------------------------------------------------------------------------- escaping

@pytest.mark.parametrize("url", [f"/agreements/{XSS_ID}", "/", "/?party=DNK&party=SWE", "/countries/DNK", "/countries",
                                 "/?q=%3Cscript%3E"])
def test_contributed_text_is_escaped(xss_html, url):
    r = xss_html.get(url)
    assert r.status_code in (200, 422)
    body = r.text
    for raw in ("<script>alert", "<svg onload", "<img src=x", "<b>Synthville", "<i>Test", 'href="javascript:'):
        assert raw not in body, raw
    doc = parse(body)
    assert all(s.get("src", "").startswith("/static/") for s in doc.find_all("script"))
    assert not [a for a in doc.find_all("a") if (a.get("href") or "").lower().startswith("javascript")]


def test_a_title_with_a_script_tag_shows_as_text(xss_html):
    r, doc = page(xss_html, f"/agreements/{XSS_ID}")
    assert doc.find("h1").clean_text == XSS_TITLE
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert XSS_TITLE in doc.find("title").text
    assert 'Synthetic test record: <img src=x onerror=alert(2)> & "quotes"' in doc.find("p", cls="summary").text
    # A source address that is not http(s) is shown as text, never as a link; a real one keeps its quotes.
    assert "javascript:alert(3)" in doc.by_id(f"source-{XSS_ID}-s1").text
    assert not doc.by_id(f"source-{XSS_ID}-s1").find_all("a")
    assert doc.by_id(f"source-{XSS_ID}-s2").find("a", cls="source-link").get("href") == 'https://example.org/synthetic/xss?a=1&b="x"'
    _, front = page(xss_html, "/")
    assert XSS_TITLE in [a.clean_text for a in front.find_all("a", cls="record-link")]


# --------------------------------------------------------------------------- failures

def test_an_unexpected_error_is_an_html_500_page(real_db, monkeypatch):
    from api.web import data

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(data, "agreement", broken)
    with TestClient(create_app(Settings(sqlite_path=real_db)), headers=HTML) as c:
        r = c.get(f"/agreements/{FIRST_RECORD}")
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "secret internal detail" not in r.text and "Traceback" not in r.text
    assert r.headers["content-security-policy"] == CSP


def test_no_database_is_an_html_503_page(tmp_path):
    c = TestClient(create_app(Settings(sqlite_path=tmp_path / "missing.sqlite")), headers=HTML)
    r = c.get("/")
    assert r.status_code == 503 and r.headers["content-type"].startswith("text/html")
    assert "dca build" in r.text
    assert c.get("/v1/meta", headers=JSON).headers["content-type"] == "application/problem+json"


# --------------------------------------------------------------------------- PostgreSQL

@pytest.fixture(scope="module")
def pg_html(real_db):
    import os

    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set (scripts/pg_test_server.sh start)")
    from scripts.pgload import load_postgres

    load_postgres(real_db, url, schema="dca_test_web")
    with TestClient(create_app(Settings(database_url=url, pg_schema="dca_test_web")), headers=HTML) as c:
        yield c


@pytest.mark.postgres
def test_the_pages_work_on_postgresql(pg_html, html):
    for url in ("/countries", f"/agreements/{FIRST_RECORD}.csv", f"/agreements/{FIRST_RECORD}", "/countries/USA",
                "/countries/PAK/RUS", "/countries?sort=-agreements&region=Asia"):
        assert pg_html.get(url).text == html.get(url).text, url
    for url in ("/?q=submarine", "/?limit=10&sort=title", "/?type=procurement&signed_from=2020"):
        pg, lite = parse(pg_html.get(url).text), parse(html.get(url).text)
        for section in ("results", "overview"):
            assert pg.find("section", cls=section).text == lite.find("section", cls=section).text, (url, section)
    _, doc = page(pg_html, "/?party=PAK&party=RUS")
    assert FIRST_RECORD in table_ids(doc)
    _, doc = page(pg_html, f"/agreements/{FIRST_RECORD}")
    assert doc.find("h1").clean_text == "Defence and Military Cooperation Agreement"
    _, doc = page(pg_html, "/countries/PAK")
    assert doc.by_id("chart-timeline")
    _, doc = page(pg_html, "/")
    assert doc.by_id("chart-years").find_all("rect")
    assert not doc.find("section", cls="downloads").find_all("table")   # no build folder behind PostgreSQL
    page(pg_html, "/?type=bogus", 422)


def test_status_age_counts_whole_months():
    from api.web.labels import status_age
    assert status_age("2014-11-22", "2026-12-02") == "12 years"
    assert status_age("2024-09-01", "2026-12-02") == "2 years 3 months"
    assert status_age("2026-11-03", "2026-12-02") == "under a month"
    assert status_age("2026-10-02", "2026-12-02") == "2 months"
    assert status_age("2025-12-03", "2026-12-02") == "11 months"
    assert status_age("not a date", "2026-12-02") == ""

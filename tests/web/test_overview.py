"""The overview pages without a browser: world map, partner network, pair pages, timelines,
countries sorting and filters, codebook and citation pages, and the map's geometry decoding."""
from __future__ import annotations

import math

import pytest

from api.web import geo, network
from api.web.data import Pair

from .conftest import FIRST_RECORD
from .dom import parse
from .test_pages import api, api_ids, page

needs_geometry = pytest.mark.skipif(geo.shapes() is None, reason="api/web/geo/world.json is missing: run make install")


def stats_counts(html, query: str = "") -> dict[str, int]:
    return {c["key"] if "key" in c else c["iso3"]: c["count"] for c in api(html, f"/v1/stats?{query}")["by_country"]}


def with_agreements(html) -> dict[str, dict]:
    return {c["iso3"]: c for c in api(html, "/v1/countries?has_agreements=true&sort=name&limit=1000")["items"]}


# --------------------------------------------------------------------------- the map's geometry

def test_topojson_is_decoded_with_its_transform_and_reversed_arcs():
    topo = {
        "type": "Topology",
        "transform": {"scale": [0.5, 0.25], "translate": [10, 20]},
        # arc 0: (0,0) -> (2,0) -> (2,4); arc 1: (2,4) -> (0,0), both delta-encoded
        "arcs": [[[0, 0], [2, 0], [0, 4]], [[2, 4], [-2, -4]]],
        "objects": {"countries": {"type": "GeometryCollection", "geometries": [
            {"type": "Polygon", "id": "040", "properties": {"name": "Square"}, "arcs": [[0, 1]]},
            {"type": "MultiPolygon", "id": "056", "properties": {"name": "Back"}, "arcs": [[[~1, ~0]]]},
            {"type": "Point", "id": "999", "coordinates": [0, 0]},
        ]}},
    }
    got = geo.decode(topo)
    assert [(i, n) for i, n, _ in got] == [("040", "Square"), ("056", "Back")]
    ring = got[0][2][0][0]
    assert ring == [(10.0, 20.0), (11.0, 20.0), (11.0, 21.0), (10.0, 20.0)]
    # The same ring walked backwards through reversed arcs.
    assert got[1][2][0][0] == ring[::-1]


def test_equal_earth_projection():
    x0, y0 = geo.equal_earth(0, 0)
    assert x0 == pytest.approx(geo.WIDTH / 2)
    assert geo.equal_earth(180, 0)[0] == pytest.approx(geo.WIDTH)
    assert geo.equal_earth(-180, 0)[0] == pytest.approx(0, abs=1e-6)
    assert geo.equal_earth(0, geo.LAT_TOP)[1] == pytest.approx(0, abs=1e-6)
    assert geo.equal_earth(0, geo.LAT_BOTTOM)[1] == pytest.approx(geo.HEIGHT, abs=0.1)
    # North is up, and parallels are straight lines.
    assert geo.equal_earth(30, 45)[1] < y0 < geo.equal_earth(30, -45)[1]
    assert geo.equal_earth(30, 45)[1] == pytest.approx(geo.equal_earth(-100, 45)[1])


def test_a_ring_across_the_antimeridian_stays_at_the_edge():
    ring = [(170.0, 60.0), (-170.0, 60.0), (-170.0, 70.0), (170.0, 70.0)]
    assert all(abs(a - b) <= 180 for (a, _), (b, _) in zip(geo._unwrap(ring), geo._unwrap(ring)[1:]))
    assert max(lon for lon, _ in geo._unwrap(ring)) == 180.0


@needs_geometry
def test_installed_geometry_has_the_states_of_the_dataset():
    codes = {s.iso3 for s in geo.shapes()}
    assert {"PAK", "RUS", "USA", "IND", "AUS", "FRA"} <= codes
    assert "BHR" in codes and next(s for s in geo.shapes() if s.iso3 == "BHR").is_point   # too small for 1:110m
    assert "ATA" not in codes
    assert all(s.d.startswith("M") for s in geo.shapes() if not s.is_point)


# --------------------------------------------------------------------------- the world map

@needs_geometry
@pytest.mark.parametrize("query", ["", "party=PAK", "type=procurement"])
def test_the_map_has_one_linked_shape_per_state_with_agreements(html, query):
    counts = stats_counts(html, query)
    _, doc = page(html, f"/?{query}")
    svg = doc.by_id("map")
    links = svg.find_all("a", cls="state-link")
    linked = {a.get("data-iso3"): a for a in links}
    assert len(linked) == len(links)   # one shape each
    shaped = {s.iso3 for s in geo.shapes()}
    assert set(linked) == {iso for iso in counts if iso in shaped}
    for iso, a in linked.items():
        assert a.get("href") == f"/countries/{iso}"
        shape = a.find_all("path") or a.find_all("circle")
        assert len(shape) == 1
        assert shape[0].find("title").clean_text.endswith(f": {counts[iso]} agreement{'s' if counts[iso] != 1 else ''}")
    # States party to nothing are drawn, not linked.
    assert len(svg.find_all("path")) > len(linked)
    # The text alternative: the same numbers as a table.
    rows = doc.by_id("map-figure").find("table", cls="map-numbers").find("tbody").find_all("tr")
    assert {tr.find("a").get("href").rsplit("/", 1)[-1]: int(tr.find("td").text) for tr in rows} == counts


def test_the_overview_comes_before_the_list(html):
    r, _ = page(html, "/")
    assert r.text.index('id="map-figure"') < r.text.index('id="chart-years"') < r.text.index('id="results-heading"')


# --------------------------------------------------------------------------- the partner network

def test_the_network_of_a_country_shows_its_partners(html):
    c = api(html, "/v1/countries/PAK")
    _, doc = page(html, "/countries/PAK")
    svg = doc.by_id("network")
    nodes = {a.get("data-iso3"): a for a in svg.find_all("a", cls="node-link")}
    assert set(nodes) == {"PAK"} | {p["iso3"] for p in c["partners"]}
    assert "focus" in nodes["PAK"].find("circle").classes
    edges = {ln.get("data-pair"): ln for ln in svg.find_all("line", cls="edge")}
    for p in c["partners"]:
        key = "-".join(sorted(("PAK", p["iso3"])))
        assert key in edges
        assert f": {p['agreements']} agreement" in edges[key].find("title").text
        link = edges[key].parent
        assert link.get("href") == "/countries/" + key.replace("-", "/")


def test_the_home_network_and_top_pairs_are_the_dyads_of_the_filtered_set(html):
    _, doc = page(html, "/?type=procurement")
    ids = api_ids(html, "type=procurement")
    pairs: dict[str, int] = {}
    for aid in ids:
        parties = sorted(p["iso3"] for p in api(html, f"/v1/agreements/{aid}")["parties"])
        for i, a in enumerate(parties):
            for b in parties[i + 1:]:
                pairs[f"{a}-{b}"] = pairs.get(f"{a}-{b}", 0) + 1
    edges = doc.by_id("network").find_all("line", cls="edge")
    assert {e.get("data-pair") for e in edges} == set(pairs)
    top = doc.find("ol", cls="pairs").find_all("a")
    assert top and len(top) == min(10, len(pairs))
    first = top[0].get("href").split("/")[-2:]
    assert pairs["-".join(first)] == max(pairs.values())


def test_the_layout_is_deterministic_and_inside_the_box():
    pairs = [Pair("AAA", "BBB", 3, {"procurement": 3}), Pair("AAA", "CCC", 1, {"other": 1}),
             Pair("DDD", "EEE", 1, {"other": 1})]
    one = network.layout(pairs)
    assert one == network.layout(pairs)
    assert set(one) == {"AAA", "BBB", "CCC", "DDD", "EEE"}
    assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in one.values())
    centred = network.layout(pairs[:2], focus="AAA")
    assert centred["AAA"] == pytest.approx((0.5, 0.5))
    net = network.network(pairs, {}, lambda i: f"/c/{i}", lambda a, b: f"/p/{a}/{b}", types=["procurement", "other"])
    widths = {e.a + e.b: e.w for e in net.edges}
    assert widths["AAABBB"] > widths["AAACCC"]
    assert {e.a + e.b: e.cls for e in net.edges}["AAABBB"] == "c0"
    assert not math.isnan(sum(n.x + n.y for n in net.nodes))


# --------------------------------------------------------------------------- pair pages

def test_a_pair_page_lists_the_pairs_agreements(html):
    expected = api_ids(html, "party=PAK&party=RUS&sort=signed_on")
    _, doc = page(html, "/countries/PAK/RUS")
    assert doc.find("h1").clean_text == "Pakistan and Russia"
    items = doc.find("ol", cls="pair-agreements").find_all("a", cls="record-link")
    assert [a.get("href").rsplit("/", 1)[-1] for a in items] == expected
    assert FIRST_RECORD in expected
    first = doc.by_id(f"a-{FIRST_RECORD}")
    assert "Mi-35" in first.clean_text   # its equipment
    record = api(html, f"/v1/agreements/{FIRST_RECORD}")
    assert record["status"].replace("_", " ") in first.clean_text.lower()
    lanes = doc.by_id("pair-timeline").find_all("a", cls="lane-link")
    assert [a.get("href").rsplit("/", 1)[-1] for a in lanes] == expected
    steps = [h for h in record["status_history"]]
    assert len(lanes[expected.index(FIRST_RECORD)].find_all("rect", cls="step")) == len(steps)


def test_pair_addresses(html):
    assert html.get("/countries/RUS/PAK", follow_redirects=False).headers["location"] == "/countries/PAK/RUS"
    assert html.get("/countries/pak/rus", follow_redirects=False).headers["location"] == "/countries/PAK/RUS"
    for url in ("/countries/PAK/PAK", "/countries/PAK/XYZ"):
        r = html.get(url)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    _, doc = page(html, "/countries/PAK/BRA")   # two states with no agreement together
    assert "No agreement in the dataset has both" in doc.find("p", cls="lead").clean_text


def test_agreement_and_country_pages_link_to_pair_pages(html):
    _, doc = page(html, "/countries/PAK")
    assert doc.find("a", cls="pair-link", href="/countries/PAK/RUS")
    _, doc = page(html, f"/agreements/{FIRST_RECORD}")
    assert doc.find_all("a", href="/countries/PAK/RUS")


# --------------------------------------------------------------------------- timelines

def test_instrument_and_status_timelines(html):
    _, doc = page(html, "/")
    total = len(api_ids(html, ""))
    marks = doc.by_id("chart-instruments").find_all("rect")
    assert sum(int(m.find("title").text.rsplit(": ", 1)[1]) for m in marks) == total
    steps = doc.by_id("chart-statuses").find_all("rect")
    assert steps and all(int(m.find("title").text.rsplit(": ", 1)[1]) > 0 for m in steps)


# --------------------------------------------------------------------------- countries

def test_countries_sort_and_filter(html):
    known = with_agreements(html)
    _, doc = page(html, "/countries?sort=-agreements")
    codes = [a.get("href").rsplit("/", 1)[-1] for a in doc.find("table").find("tbody").find_all("a")
             if a.get("href").startswith("/countries/")]
    counts = [known[c]["agreement_count"] for c in codes]
    assert counts == sorted(counts, reverse=True) and set(codes) == set(known)
    th = doc.find("th", aria_sort="descending")
    assert "Agreements" in th.clean_text
    region = known["PAK"]["region"]
    _, doc = page(html, f"/countries?region={region}&q=pak")
    rows = doc.find("table").find("tbody").find_all("tr")
    assert [r.find("a").clean_text for r in rows] == ["Pakistan"]
    _, doc = page(html, f"/countries?region={region}")
    shown = {a.get("href").rsplit("/", 1)[-1] for a in doc.find("table").find("tbody").find_all("a")
             if a.get("href").startswith("/countries/")}
    assert shown == {c for c, v in known.items() if v["region"] == region}
    _, doc = page(html, "/countries?sort=nonsense")   # an unknown sort falls back to the name
    assert doc.find("th", aria_sort="ascending")


def test_country_pages_show_cow_code_and_abbreviation(html):
    c = api(html, "/v1/countries/RUS")
    _, doc = page(html, "/countries/RUS")
    facts = {div.find("dt").clean_text: div.find("dd").clean_text for div in doc.find("dl", cls="facts").find_all("div")}
    assert facts["COW code"] == str(c["cow_code"]) and facts["COW abbreviation"] == c["cow_abbr"]
    _, doc = page(html, "/countries?q=RUS")
    assert c["cow_abbr"] in doc.find("table").clean_text


# --------------------------------------------------------------------------- codebook and citation

def test_codebook_page(html):
    from api.web.pages import CODEBOOK

    first = next(line for line in CODEBOOK.read_text(encoding="utf-8").splitlines() if line.startswith("# "))
    _, doc = page(html, "/codebook")
    assert doc.find("h1").clean_text == first[2:].strip()
    imgs = doc.find("article").find_all("img")
    assert imgs
    for img in imgs:
        r = html.get(img.get("src"))
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert html.get("/codebook/figures/..%2Fcodebook.md").status_code == 404


def test_cite_page(html):
    meta = api(html, "/v1/meta")
    _, doc = page(html, "/cite")
    assert doc.by_id("citation").clean_text == meta["citation"]
    bib = doc.by_id("bibtex").text
    assert bib.startswith("@misc{") and f"version = {{{meta['version']}}}" in bib and bib.rstrip().endswith("}")
    assert bib.count("{") == bib.count("}")
    assert meta["version"] in doc.find("p", cls="lead").clean_text


@pytest.mark.parametrize("url", ["/", "/countries", "/countries/PAK", "/countries/PAK/RUS", f"/agreements/{FIRST_RECORD}",
                                 "/codebook", "/cite", "/agreements/nope"])
def test_every_footer_links_codebook_citation_and_downloads(html, url):
    r = html.get(url)
    footer = parse(r.text).find("footer")
    hrefs = {a.get("href") for a in footer.find_all("a")}
    assert {"/codebook", "/cite", "/v1/datapackage.json"} <= hrefs
    assert "/v1/meta" not in hrefs

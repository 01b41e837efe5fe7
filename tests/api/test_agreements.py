"""/v1/agreements and /v1/agreements/{id}: filters, sorting, fields, pagination, errors."""
from __future__ import annotations

import base64

import pytest

from .conftest import TRI, all_pages


def ids(items):
    return [i["agreement_id"] for i in items]


def test_default_list(client, oracle):
    r = client.get("/v1/agreements")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["total"] == len(oracle.agreements) == int(r.headers["x-total-count"])
    assert body["limit"] == 50 and body["count"] == 50 == len(body["items"])
    assert ids(body["items"]) == oracle.ids(oracle.agreements)[:50]
    assert body["next_cursor"] and body["links"]["next"].endswith("cursor=" + body["next_cursor"])
    assert body["links"]["self"] == "http://testserver/v1/agreements"
    assert body["links"]["first"] == "http://testserver/v1/agreements"
    assert r.headers["x-row-count"] == "50"


def test_items_carry_parties_with_names(client, oracle):
    item = client.get(f"/v1/agreements?party=FRA&party=IND&party=RUS&signed_from=2019-03-05&signed_to=2019-03-05").json()["items"]
    tri = [i for i in item if i["agreement_id"] == TRI][0]
    assert tri["parties"] == [
        {"iso3": "FRA", "name": "France", "cow_code": 220},
        {"iso3": "IND", "name": "India", "cow_code": 750},
        {"iso3": "RUS", "name": "Russia", "cow_code": 365},
    ]
    assert tri["venue_country_name"] == "India"


def test_every_item_has_its_parties(client, oracle):
    for item in all_pages(client, "/v1/agreements", limit=1000):
        assert {p["iso3"] for p in item["parties"]} == oracle.parties_of(item["agreement_id"])
        assert all(p["name"] == oracle.country_names[p["iso3"]] for p in item["parties"])


@pytest.mark.parametrize("query, expect", [
    ("party=USA", dict(parties=["USA"])),
    ("country=usa", dict(parties=["USA"])),
    ("party=RUS&party=USA", dict(parties=["RUS", "USA"])),
    ("party=USA,RUS", dict(parties=["RUS", "USA"])),
    ("party=FRA&party=IND&party=RUS", dict(parties=["FRA", "IND", "RUS"])),
    ("party=USA&country=CHN", dict(parties=["USA", "CHN"])),
    ("signed_from=2010", dict(signed_from="2010")),
    ("signed_to=1999", dict(signed_to="1999")),
    ("signed_from=1999-06&signed_to=1999-06", dict(signed_from="1999-06", signed_to="1999-06")),
    ("signed_from=1999-06-15&signed_to=2001-02-28", dict(signed_from="1999-06-15", signed_to="2001-02-28")),
    ("signed_from=2015-03&signed_to=2020-11-30", dict(signed_from="2015-03", signed_to="2020-11-30")),
    ("type=procurement", dict(types=["procurement"])),
    ("type=procurement&type=mutual_defence", dict(types=["procurement", "mutual_defence"])),
    ("status=in_force", dict(statuses=["in_force"])),
    ("instrument=treaty", dict(instruments=["treaty"])),
    ("instrument=treaty&instrument=agreement", dict(instruments=["treaty", "agreement"])),
    ("party=USA&instrument=memorandum_of_understanding", dict(parties=["USA"], instruments=["memorandum_of_understanding"])),
    ("party=FRA&party=IND&instrument=treaty", dict(parties=["FRA", "IND"], instruments=["treaty"])),
    ("status=signed,ratified", dict(statuses=["signed", "ratified"])),
    ("venue_country=IND", dict(venue="IND")),
    ("equipment_category=helicopter", dict(categories=["helicopter"])),
    ("equipment_category=helicopter&equipment_category=submarine", dict(categories=["helicopter", "submarine"])),
    ("designation=mi-35", dict(designation="mi-35")),
    ("designation=SH-1", dict(designation="SH-1")),
    ("designation=x_1", dict(designation="x_1")),
    ("designation=0%25", dict(designation="0%")),
    ("equipment_category=helicopter&designation=rafale", dict(categories=["helicopter"], designation="rafale")),
    ("q=zanzibarquux", dict(words=["zanzibarquux"])),
    ("q=Joint%20Exercises", dict(words=["joint", "exercises"])),
    ("q=exerc", dict(words=["exerc"])),
    ("q=military%20technical", dict(words=["military", "technical"])),
    ("party=USA&signed_from=2000&signed_to=2020&type=general_defence_cooperation&status=in_force",
     dict(parties=["USA"], signed_from="2000", signed_to="2020", types=["general_defence_cooperation"], statuses=["in_force"])),
    ("party=USA&q=exercises&equipment_category=missile",
     dict(parties=["USA"], words=["exercises"], categories=["missile"])),
    ("party=CHN&party=RUS&signed_from=2005&venue_country=RUS", dict(parties=["CHN", "RUS"], signed_from="2005", venue="RUS")),
])
def test_filters_match_the_oracle(client, oracle, query, expect):
    got = all_pages(client, f"/v1/agreements?{query}", limit=9)
    assert ids(got) == oracle.ids(oracle.select(**expect))


def test_filters_are_not_vacuous(oracle):
    # The synthetic data exercise each filter (a filter matching nothing would test little).
    assert len(oracle.select(parties=["USA"])) > 20
    assert len(oracle.select(parties=["RUS", "USA"])) >= 2
    assert len(oracle.select(designation="mi-35")) == 1
    assert len(oracle.select(designation="x_1")) == 1
    assert len(oracle.select(words=["zanzibarquux"])) == 1
    assert len(oracle.select(categories=["helicopter"])) > 10


def test_dyad_and_mi35(client):
    body = client.get("/v1/agreements?designation=mi-35").json()
    assert ids(body["items"]) == [TRI]
    assert client.get("/v1/agreements?designation=MI-35M").json()["total"] == 1
    assert client.get("/v1/agreements?designation=mi-35x").json()["total"] == 0


def test_partial_dates_order_as_their_first_day(client):
    def got(q):
        return [i for i in ids(client.get(f"/v1/agreements?party=BHS&party=BRB&{q}").json()["items"]) if i.startswith("bhs-brb-1999")]

    assert got("signed_from=1999&signed_to=1999") == ["bhs-brb-1999", "bhs-brb-1999-06", "bhs-brb-1999-06-15"]
    assert got("signed_from=1999-06") == ["bhs-brb-1999-06", "bhs-brb-1999-06-15"]
    assert got("signed_from=1999-06-02") == ["bhs-brb-1999-06-15"]
    assert got("signed_from=1999-06-16") == []
    assert got("signed_to=1999-05") == ["bhs-brb-1999"]
    assert got("signed_to=1999-06-14") == ["bhs-brb-1999", "bhs-brb-1999-06"]


def test_full_text_ignores_accents_and_case(client):
    for q in ("uberprufung", "ÜBERPRÜFUNG", "Überprüfung", "zanzibar"):
        assert ids(client.get(f"/v1/agreements?q={q}").json()["items"]) == [TRI], q


@pytest.mark.parametrize("q", ['"', "'", "AND", "OR", "NOT", "a*", "(", ")", "NEAR(a b)", "title:x", "^x", "-x", "a & b",
                               "x:*", "!!!x", "\\", "%", "_", "😀 zanzibarquux", "col:val OR", "\u00a0x"])
def test_full_text_syntax_cannot_break(client, q):
    r = client.get("/v1/agreements", params={"q": q})
    assert r.status_code in (200, 422), r.text
    if r.status_code == 422:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["parameter"] == "q"


@pytest.mark.parametrize("sort", ["signed_on", "-signed_on", "agreement_id", "-agreement_id", "title", "-title"])
def test_sorting_and_paging_through_everything(client, oracle, sort):
    got = all_pages(client, f"/v1/agreements?sort={sort}", limit=37)
    assert len(got) == len(set(ids(got))) == len(oracle.agreements)  # nothing skipped or repeated
    assert ids(got) == oracle.ids(oracle.agreements, sort)


@pytest.mark.parametrize("limit", [1, 2, 50, 303, 304, 1000])
def test_page_edges(client, oracle, limit):
    n = len(oracle.agreements)
    got = all_pages(client, "/v1/agreements?party=USA", limit=limit)
    assert ids(got) == oracle.ids(oracle.select(parties=["USA"]))
    body = client.get(f"/v1/agreements?limit={limit}").json()
    assert body["count"] == min(limit, n)
    assert (body["next_cursor"] is None) == (limit >= n)


def test_last_page_and_empty_result(client):
    body = client.get("/v1/agreements?party=BHS&party=BRB&signed_from=1999&signed_to=1999&limit=3").json()
    assert body["count"] == 3 and body["next_cursor"] is None and body["links"]["next"] is None
    r = client.get("/v1/agreements?q=zanzibarquux&type=mutual_defence")
    assert r.status_code == 200
    assert r.json() == {"items": [], "count": 0, "total": 0, "limit": 50, "next_cursor": None,
                        "links": {"self": "http://testserver/v1/agreements?q=zanzibarquux&type=mutual_defence",
                                  "first": "http://testserver/v1/agreements?q=zanzibarquux&type=mutual_defence", "next": None}}
    assert r.headers["x-total-count"] == "0"


def test_link_header(client):
    r = client.get("/v1/agreements?party=USA&limit=5")
    body = r.json()
    assert f'<{body["links"]["next"]}>; rel="next"' in r.headers["link"]
    assert '<http://testserver/v1/agreements?party=USA&limit=5>; rel="first"' in r.headers["link"]


def test_fields(client, oracle):
    body = client.get("/v1/agreements?fields=agreement_id,signed_on&limit=3").json()
    assert [list(i) for i in body["items"]] == [["agreement_id", "signed_on"]] * 3
    body = client.get("/v1/agreements?fields=parties&fields=title&limit=2").json()
    assert [list(i) for i in body["items"]] == [["parties", "title"]] * 2
    r = client.get("/v1/agreements?fields=agreement_id,color")
    assert r.status_code == 422
    assert "'color' is not a field" in r.json()["detail"] and "signed_on" in r.json()["detail"]
    assert client.get("/v1/agreements?fields=,").status_code == 422


def _tamper(cursor: str) -> list[str]:
    head, sig = cursor.split(".")
    payload = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))
    forged = base64.urlsafe_b64encode(payload.replace(b'["', b'["0', 1)).rstrip(b"=").decode()  # an earlier key
    flipped = sig[:-1] + ("A" if sig[-1] != "A" else "B")
    return [f"{forged}.{sig}", f"{head}.{flipped}", head, f"{head}.", ".", "x.y", "!!!.???", "a" * 3000,
            f"{head}.{sig}.{sig}", base64.urlsafe_b64encode(b'["x"]').decode() + "." + sig, "%00", "é.é"]


def test_cursor_tampering_is_a_400(client):
    cursor = client.get("/v1/agreements?limit=5").json()["next_cursor"]
    head, sig = cursor.split(".")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # Every other value of the last character of the signature (it also carries padding bits).
    others = [f"{head}.{sig[:-1]}{ch}" for ch in alphabet if ch != sig[-1]]
    for bad in _tamper(cursor) + others:
        r = client.get("/v1/agreements", params={"limit": 5, "cursor": bad})
        assert r.status_code == 400, (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["parameter"] == "cursor"


def test_cursor_belongs_to_its_query(client):
    cursor = client.get("/v1/agreements?party=USA&limit=5").json()["next_cursor"]
    assert client.get(f"/v1/agreements?party=USA&limit=9&cursor={cursor}").status_code == 200  # limit may change
    for other in ("party=CHN", "party=USA&sort=-signed_on", "party=USA&sort=agreement_id", "party=USA&status=signed", ""):
        r = client.get(f"/v1/agreements?{other}&limit=5&cursor={cursor}")
        assert r.status_code == 400, other
    assert client.get(f"/v1/countries?cursor={cursor}").status_code == 400


@pytest.mark.parametrize("query, parameter", [
    ("status=singed", "status"),
    ("type=treaty", "type"),
    ("equipment_category=tank", "equipment_category"),
    ("sort=date", "sort"),
    ("format=xml", "format"),
    ("signed_from=2014-02-30", "signed_from"),
    ("signed_from=2014-13", "signed_from"),
    ("signed_to=14", "signed_to"),
    ("signed_to=yesterday", "signed_to"),
    ("party=XYZ", "party"),
    ("party=PA", "party"),
    ("country=P4K", "country"),
    ("venue_country=ZZZ", "venue_country"),
    ("limit=0", "limit"),
    ("limit=1001", "limit"),
    ("limit=-1", "limit"),
    ("limit=ten", "limit"),
    ("q=" + "x" * 101, "q"),
    ("limit=ALL", "limit"),
    ("limit=5.0", "limit"),
    ("country=PAK&country=RUS", "country"),
    ("party=" + ",".join(["USA", "CHN", "RUS", "FRA", "GBR", "IND", "DEU", "TUR", "ISR", "ITA", "JPN"]), "party"),
])
def test_bad_values_are_422_problems(client, query, parameter):
    r = client.get(f"/v1/agreements?{query}")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == 422 and body["title"] and body["type"].startswith("urn:dca:problem:")
    assert body["errors"][0]["parameter"] == parameter
    assert parameter in body["detail"]
    assert "Traceback" not in r.text


def test_unknown_status_names_the_allowed_values(client):
    body = client.get("/v1/agreements?status=singed").json()
    assert "'singed' is not a valid status" in body["detail"]
    for code in ("announced", "signed", "in_force", "superseded"):
        assert code in body["detail"]
    assert "in_force" in body["errors"][0]["allowed"]


def test_several_errors_in_one_problem(client):
    body = client.get("/v1/agreements?status=singed&limit=0&party=XYZ").json()
    assert {e["parameter"] for e in body["errors"]} == {"status", "limit", "party"}


def test_unknown_parameter_is_400(client):
    r = client.get("/v1/agreements?contry=PAK")
    assert r.status_code == 400
    assert "'contry'" in r.json()["detail"] and "country" in r.json()["detail"]


def test_empty_parameters_are_ignored(client, oracle):
    body = client.get("/v1/agreements?status=&q=&country=&signed_from=&limit=").json()
    assert body["total"] == len(oracle.agreements) and body["limit"] == 50


def test_detail(client, oracle):
    r = client.get(f"/v1/agreements/{TRI}")
    assert r.status_code == 200
    d = r.json()
    assert d["agreement_id"] == TRI
    assert d["title"] == "Synthetic <script>alert('x')</script> Trilateral Test Agreement"
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["content-type"] == "application/json"
    assert [p["iso3"] for p in d["parties"]] == ["FRA", "IND", "RUS"]
    assert d["parties"][0]["signatory_title"] == "Minister of Defence"
    assert [e["designation"] for e in d["equipment"]] == ["Mi-35M", "Rafale-M"]
    assert d["equipment"][0]["quantity"] == 4 and d["equipment"][0]["supplier_iso3"] == "RUS"
    assert [s["source_id"] for s in d["sources"]] == [f"{TRI}-s1", f"{TRI}-s2"]
    assert [h["status_on"] for h in d["status_history"]] == ["2019-03-05", "2019-06"]
    assert d["notes"] == "Synthetic, hand-written for the API tests."


def test_detail_matches_list_item(client, oracle):
    items = client.get("/v1/agreements?party=USA&limit=20").json()["items"]
    for item in items:
        d = client.get(f"/v1/agreements/{item['agreement_id']}").json()
        for k, v in item.items():
            if k != "parties":
                assert d[k] == v
        assert [p["iso3"] for p in d["parties"]] == [p["iso3"] for p in item["parties"]]


@pytest.mark.parametrize("aid", ["nope", "PAK-RUS-2014-11-20", "x" * 500, "%00", "a%20b", "fra-ind-rus-2019-03-05-", "' OR 1=1 --"])
def test_unknown_id_is_404(client, aid):
    r = client.get(f"/v1/agreements/{aid}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404 and "no agreement" in r.json()["detail"]


def test_sql_injection_attempts_are_just_values(client):
    for q in ("party=USA'--", "type=procurement' OR '1'='1", "designation=' OR 1=1 --", "q=' OR 1=1 --"):
        r = client.get(f"/v1/agreements?{q}")
        assert r.status_code in (200, 422)
        if r.status_code == 200:
            assert r.json()["total"] < 300

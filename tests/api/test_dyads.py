"""/v1/dyads and /v1/dyad-years serve the export files' rows; COW codes in and out; /v1/stats as CSV.

Expected rows come from the export files that the same build wrote (build/exports/*.csv)
and, for the attested rule, from `scripts.export.build_tables` with that rule, i.e. what
`dca export --rule attested` writes; the API's rows are compared with them cell by cell.
"""
from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from .conftest import TRI, all_pages


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture(scope="module")
def export_rows(synthetic_db):
    folder = synthetic_db.parent / "exports"
    return {name: read_csv((folder / f"{name}.csv").read_text(encoding="utf-8")) for name in ("dyads", "dyad_years")}


@pytest.fixture(scope="module")
def attested_rows(synthetic_package):
    from schema.tableschema import load_package
    from scripts.export import ExportOptions, build_tables

    rows = build_tables(load_package(synthetic_package), ExportOptions(rule="attested"))["dyad_years"]
    return [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows]


@pytest.fixture(scope="module")
def cow(oracle) -> dict[str, int]:
    return {c["iso3"]: int(c["cow_code"]) for c in oracle.tables["countries"] if c["cow_code"]}


def as_text(items: list[dict]) -> list[dict[str, str]]:
    return [{k: "" if v is None else str(v) for k, v in i.items()} for i in items]


@pytest.mark.parametrize("path, name", [("/v1/dyads", "dyads"), ("/v1/dyad-years", "dyad_years")])
def test_the_same_rows_as_the_export_files(client, export_rows, path, name):
    expected = export_rows[name]
    assert expected, "the synthetic package has pairs"
    r = client.get(f"{path}?format=csv&limit=all")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert read_csv(r.text) == expected
    assert int(r.headers["x-row-count"]) == len(expected)
    assert as_text(all_pages(client, path, limit=250)) == expected  # JSON, paged, the same rows
    lines = [line for line in client.get(f"{path}?format=ndjson&limit=all").text.split("\n") if line]
    assert len(lines) == len(expected)


def test_attested_rule_is_the_export_with_that_rule(client, attested_rows, export_rows):
    r = client.get("/v1/dyad-years?rule=attested&format=csv&limit=all")
    assert read_csv(r.text) == attested_rows
    assert len(attested_rows) < len(export_rows["dyad_years"])  # the rules differ on this package
    assert read_csv(client.get("/v1/dyad-years?rule=until-ended&format=csv&limit=all").text) == export_rows["dyad_years"]


def test_state_pair_and_year_filters(client, export_rows, cow):
    dyads, years = export_rows["dyads"], export_rows["dyad_years"]
    by_iso = Counter(s for d in dyads for s in (d["iso3_a"], d["iso3_b"]))
    state = by_iso.most_common(1)[0][0]
    want = [d for d in dyads if state in (d["iso3_a"], d["iso3_b"])]
    assert as_text(all_pages(client, f"/v1/dyads?state={state}", limit=9)) == want
    assert as_text(all_pages(client, f"/v1/dyads?state={state.lower()}", limit=50)) == want
    assert as_text(all_pages(client, f"/v1/dyads?ccode={cow[state]}", limit=50)) == want
    assert as_text(all_pages(client, f"/v1/dyads?state={cow[state]}", limit=50)) == want

    tri = [y for y in years if TRI in y["agreement_ids"].split(";") and y["iso3_a"] == "FRA" and y["iso3_b"] == "RUS"]
    assert tri
    for pair in ("FRA,RUS", "RUS,FRA", f"{cow['RUS']},FRA", "RUS&pair=FRA"):
        got = as_text(all_pages(client, f"/v1/dyad-years?pair={pair}", limit=5))
        assert got == [y for y in years if (y["iso3_a"], y["iso3_b"]) == ("FRA", "RUS")], pair
    lo, hi = 2019, 2021
    got = as_text(all_pages(client, f"/v1/dyad-years?year_from={lo}&year_to={hi}", limit=500))
    assert got == [y for y in years if lo <= int(y["year"]) <= hi]
    got = as_text(all_pages(client, f"/v1/dyads?year_from={lo}&year_to={hi}&state={state}", limit=500))
    assert got == [d for d in want if lo <= int(d["signed_year"]) <= hi]
    fields = client.get("/v1/dyad-years?fields=ccode1,ccode2,year&limit=3").json()["items"]
    assert [list(f) for f in fields] == [["ccode1", "ccode2", "year"]] * 3


@pytest.mark.parametrize("query, parameter", [
    ("pair=FRA,FRA", "pair"), ("pair=FRA,RUS,IND", "pair"), ("pair=,,645,GLP", "pair"), ("pair=FRA,RUS,", "pair"), ("state=XX", "state"),
    ("ccode=99999", "ccode"), ("ccode=RUS", "ccode"), ("state=9", "state"), ("year_from=20x0", "year_from"),
    ("rule=ever", "rule"), ("fields=rule", "fields"),
])
def test_filter_errors_are_problems(client, query, parameter):
    path = "/v1/dyad-years"
    r = client.get(f"{path}?{query}")
    assert r.status_code == 422, (query, r.text)
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["parameter"] for e in r.json()["errors"]] == [parameter]


def test_states_combine(client, export_rows, cow):
    fra_rus = [y for y in export_rows["dyad_years"] if (y["iso3_a"], y["iso3_b"]) == ("FRA", "RUS")]
    assert as_text(all_pages(client, f"/v1/dyad-years?state=FRA&ccode={cow['RUS']}", limit=50)) == fra_rus
    assert as_text(all_pages(client, "/v1/dyad-years?state=FRA&pair=FRA,RUS", limit=50)) == fra_rus
    assert client.get("/v1/dyad-years?state=IND&pair=FRA,RUS").json()["total"] == 0  # no pair has three states
    assert client.get("/v1/dyad-years?pair=FRA").json() == client.get("/v1/dyad-years?state=FRA").json() | {
        "links": client.get("/v1/dyad-years?pair=FRA").json()["links"]}
    assert client.get("/v1/dyad-years?year_from=2021&year_to=2019").json()["total"] == 0


def test_rule_is_only_for_dyad_years(client):
    assert client.get("/v1/dyads?rule=attested").status_code == 400


def test_cow_codes_query_like_iso3(client, cow):
    def ids(url):
        return [i["agreement_id"] for i in all_pages(client, url, limit=100)]

    assert ids("/v1/agreements?party=RUS") == ids(f"/v1/agreements?ccode={cow['RUS']}") == ids(f"/v1/agreements?party={cow['RUS']}")
    both = ids("/v1/agreements?party=FRA&party=RUS")
    assert TRI in both and both == ids(f"/v1/agreements?party=FRA&ccode={cow['RUS']}")
    assert ids("/v1/agreements?venue_country=IND") == ids(f"/v1/agreements?venue_country={cow['IND']}")
    assert ids("/v1/agreements?country=USA") == ids(f"/v1/agreements?country={cow['USA']}")
    eq = lambda q: [e["equipment_id"] for e in all_pages(client, f"/v1/equipment?{q}", limit=100)]  # noqa: E731
    assert eq("supplier=RUS") == eq(f"supplier={cow['RUS']}") and eq("supplier=RUS")
    assert client.get(f"/v1/countries/{cow['RUS']}").json()["iso3"] == "RUS"
    assert client.get("/v1/countries/99999").status_code == 404
    assert client.get("/v1/stats?ccode=365").json()["total"] == client.get("/v1/stats?party=RUS").json()["total"]
    r = client.get("/v1/agreements?ccode=9999")
    assert r.status_code == 422 and r.json()["errors"][0]["parameter"] == "ccode"


def test_cow_codes_in_every_response_with_a_country(client, oracle, cow):
    countries = {c["iso3"]: c for c in oracle.tables["countries"]}

    def code(iso3):
        return cow.get(iso3) if iso3 else None

    items = all_pages(client, "/v1/agreements", limit=1000)
    for i in items:
        assert i["venue_country_cow_code"] == code(i["venue_country_iso3"])
        assert all(p["cow_code"] == code(p["iso3"]) for p in i["parties"])
    detail = client.get(f"/v1/agreements/{TRI}").json()
    assert detail["venue_country_cow_code"] == cow["IND"]
    assert [p["cow_abbr"] for p in detail["parties"]] == [countries[p["iso3"]]["cow_abbr"] or None for p in detail["parties"]]
    for e in all_pages(client, "/v1/equipment", limit=1000) + detail["equipment"]:
        assert e["supplier_cow_code"] == code(e["supplier_iso3"]) and e["recipient_cow_code"] == code(e["recipient_iso3"])
    rus = client.get("/v1/countries/RUS").json()
    assert rus["partners"] and all(p["cow_code"] == code(p["iso3"]) for p in rus["partners"])
    assert all(c["cow_code"] == code(c["iso3"]) for c in client.get("/v1/stats").json()["by_country"])
    r = client.get("/v1/agreements?party=RUS&format=csv&limit=all")
    for row in read_csv(r.text):
        assert row["party_cow_codes"].split(";") == [str(code(p)) if code(p) else "" for p in row["parties"].split(";")]
        assert row["venue_country_cow_code"] == (str(code(row["venue_country_iso3"])) if code(row["venue_country_iso3"]) else "")


def test_stats_as_csv(client):
    for query in ("", "party=RUS&signed_from=2000"):
        s = client.get(f"/v1/stats?{query}").json()
        r = client.get(f"/v1/stats?{query}&format=csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.text == client.get(f"/v1/stats?{query}", headers={"Accept": "text/csv"}).text
        rows = read_csv(r.text)
        assert list(rows[0]) == ["by", "key", "name", "cow_code", "count"]
        assert [(x["key"], int(x["count"])) for x in rows if x["by"] == "year"] == [(y["key"], y["count"]) for y in s["by_year"]]
        assert [(x["key"], int(x["count"])) for x in rows if x["by"] == "type"] == [(y["key"], y["count"]) for y in s["by_type"]]
        assert [(x["key"], int(x["count"])) for x in rows if x["by"] == "status"] == [(y["key"], y["count"]) for y in s["by_status"]]
        assert [(x["key"], x["name"], x["cow_code"], int(x["count"])) for x in rows if x["by"] == "country"] == [
            (c["iso3"], c["name"], "" if c["cow_code"] is None else str(c["cow_code"]), c["count"]) for c in s["by_country"]]
        assert [int(x["count"]) for x in rows if x["by"] == "total"] == [s["total"]]
    assert client.get("/v1/stats?format=ndjson").status_code == 422

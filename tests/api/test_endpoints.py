"""/v1/countries, /v1/equipment, /v1/sources, /v1/stats, /v1/meta, /v1/datapackage.json and /healthz."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from .conftest import TRI, all_pages


def agreement_counts(oracle) -> Counter:
    return Counter(p["country_iso3"] for p in oracle.tables["parties"])


def test_countries_list(client, oracle):
    items = all_pages(client, "/v1/countries", limit=100)
    assert [c["iso3"] for c in items] == sorted(c["iso3"] for c in oracle.tables["countries"])
    counts = agreement_counts(oracle)
    for c in items:
        assert c["agreement_count"] == counts.get(c["iso3"], 0)
    usa = [c for c in items if c["iso3"] == "USA"][0]
    assert usa["name"] == "United States" and usa["cow_code"] == 2 and usa["region"] == "Americas"
    assert usa["first_signed_on"] == min(a["signed_on"] for a in oracle.select(parties=["USA"]))


def test_countries_filters_and_sorts(client, oracle):
    counts = agreement_counts(oracle)
    has = all_pages(client, "/v1/countries?has_agreements=true", limit=50)
    assert {c["iso3"] for c in has} == set(counts)
    none = all_pages(client, "/v1/countries?has_agreements=false", limit=50)
    assert len(has) + len(none) == len(oracle.tables["countries"])
    top = all_pages(client, "/v1/countries?sort=-agreement_count", limit=13)
    assert [c["iso3"] for c in top] == [c for c, _ in sorted(((c["iso3"], counts.get(c["iso3"], 0)) for c in oracle.tables["countries"]),
                                                             key=lambda x: (-x[1], x[0]))]
    by_name = all_pages(client, "/v1/countries?sort=name", limit=40)
    assert [c["name"] for c in by_name] == sorted(c["name"] for c in oracle.tables["countries"])
    europe = all_pages(client, "/v1/countries?region=Europe", limit=20)
    assert europe and all(c["region"] == "Europe" for c in europe)
    assert client.get("/v1/countries?has_agreements=maybe").status_code == 422
    assert client.get("/v1/countries?sort=-name").status_code == 422


def test_country_detail(client, oracle):
    r = client.get("/v1/countries/ind")
    assert r.status_code == 200
    d = r.json()
    assert d["iso3"] == "IND" and d["name"] == "India"
    ind = oracle.select(parties=["IND"])
    assert d["agreement_count"] == len(ind)
    partners = Counter(c for a in ind for c in oracle.parties_of(a["agreement_id"]) if c != "IND")
    assert {p["iso3"]: p["agreements"] for p in d["partners"]} == dict(partners)
    assert d["partner_count"] == len(partners)
    assert [p["agreements"] for p in d["partners"]] == sorted((p["agreements"] for p in d["partners"]), reverse=True)
    assert d["links"]["agreements"].endswith("/v1/agreements?party=IND")
    assert client.get(d["links"]["agreements"]).json()["total"] == len(ind)


def test_country_without_agreements(client, oracle):
    counts = agreement_counts(oracle)
    iso3 = next(c["iso3"] for c in oracle.tables["countries"] if c["iso3"] not in counts)
    d = client.get(f"/v1/countries/{iso3}").json()
    assert d["agreement_count"] == 0 and d["partners"] == [] and d["first_signed_on"] is None


@pytest.mark.parametrize("code", ["XYZ", "US", "USAA", "123", "u$a"])
def test_unknown_country_is_404(client, code):
    r = client.get(f"/v1/countries/{code}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("query, pred", [
    ("", lambda e: True),
    (f"agreement_id={TRI}", lambda e: e["agreement_id"] == TRI),
    ("category=helicopter", lambda e: e["category"] == "helicopter"),
    ("category=helicopter&category=submarine", lambda e: e["category"] in ("helicopter", "submarine")),
    ("status=delivered", lambda e: e["status"] == "delivered"),
    ("designation=mi-35", lambda e: "mi-35" in e["designation"].lower()),
    ("designation=x_1", lambda e: "x_1" in e["designation"].lower()),
    ("supplier=USA", lambda e: e["supplier_iso3"] == "USA"),
    ("recipient=IND&category=helicopter", lambda e: e["recipient_iso3"] == "IND" and e["category"] == "helicopter"),
])
def test_equipment(client, oracle, query, pred):
    items = all_pages(client, f"/v1/equipment?{query}", limit=40)
    expected = sorted((e for e in oracle.tables["equipment"] if pred(e)), key=lambda e: e["equipment_id"])
    assert [i["equipment_id"] for i in items] == [e["equipment_id"] for e in expected]
    for i, e in zip(items, expected):
        assert i["quantity"] == (int(e["quantity"]) if e["quantity"] else None)
        assert i["designation"] == e["designation"]


def test_equipment_errors(client):
    assert client.get("/v1/equipment?category=tank").json()["errors"][0]["allowed"][0] == "helicopter"
    assert client.get("/v1/equipment?agreement_id=NOT%20AN%20ID").status_code == 422
    assert client.get("/v1/equipment?supplier=XYZ").status_code == 422


@pytest.mark.parametrize("query, pred", [
    ("", lambda s: True),
    (f"agreement_id={TRI}", lambda s: s["agreement_id"] == TRI),
    ("source_type=news&source_type=official", lambda s: s["source_type"] in ("news", "official")),
])
def test_sources(client, oracle, query, pred):
    items = all_pages(client, f"/v1/sources?{query}", limit=60)
    expected = sorted((s["source_id"] for s in oracle.tables["sources"] if pred(s)))
    assert [i["source_id"] for i in items] == expected
    assert client.get("/v1/sources?source_type=blog").status_code == 422


def test_stats(client, oracle):
    r = client.get("/v1/stats")
    s = r.json()
    assert s["total"] == len(oracle.agreements)
    years = Counter(a["signed_on"][:4] for a in oracle.agreements)
    assert {y["key"]: y["count"] for y in s["by_year"] if y["count"]} == dict(years)
    keys = [int(y["key"]) for y in s["by_year"]]
    assert keys == list(range(min(keys), max(keys) + 1))  # zero years included, for charts
    assert {t["key"]: t["count"] for t in s["by_type"] if t["count"]} == dict(Counter(a["agreement_type"] for a in oracle.agreements))
    from api import vocab

    assert [t["key"] for t in s["by_type"]] == vocab.enum("agreements", "agreement_type")
    assert [t["key"] for t in s["by_status"]] == vocab.enum("agreements", "status")
    assert {c["iso3"]: c["count"] for c in s["by_country"]} == dict(agreement_counts(oracle))
    assert s["by_country"][0]["count"] == max(c["count"] for c in s["by_country"])
    assert s["by_country"][0]["name"]


def test_stats_with_filters(client, oracle):
    s = client.get("/v1/stats?party=USA&signed_from=2000").json()
    rows = oracle.select(parties=["USA"], signed_from="2000")
    assert s["total"] == len(rows)
    assert {y["key"]: y["count"] for y in s["by_year"] if y["count"]} == dict(Counter(a["signed_on"][:4] for a in rows))
    usa = [c for c in s["by_country"] if c["iso3"] == "USA"][0]
    assert usa["count"] == len(rows)
    assert s["filters"] == {"party": ["USA"], "signed_from": "2000"}
    empty = client.get("/v1/stats?q=zanzibarquux&type=mutual_defence").json()
    assert empty["total"] == 0 and empty["by_year"] == [] and empty["by_country"] == []
    assert client.get("/v1/stats?status=singed").status_code == 422


def test_meta(client, synthetic_package):
    m = client.get("/v1/meta").json()
    descriptor = json.loads((synthetic_package / "datapackage.json").read_text())
    assert m["name"] == descriptor["name"] and m["version"] == descriptor["version"]
    assert len(m["content_hash"]) == 64
    from scripts.build import content_hash
    from schema.tableschema import load_package

    assert m["content_hash"] == content_hash(load_package(synthetic_package))
    assert m["counts"]["agreements"] == 304
    assert m["license"] == "CC-BY-4.0" and m["licenses"][0]["path"].startswith("https://creativecommons.org/")
    assert descriptor["version"] in m["citation"] and descriptor["title"] in m["citation"]
    assert m["built_at"].endswith("+00:00")
    assert m["backend"] in ("sqlite", "postgresql")


def test_datapackage(client, synthetic_package):
    assert client.get("/v1/datapackage.json").json() == json.loads((synthetic_package / "datapackage.json").read_text())


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_downloads_lists_the_build_files_with_checksums(client, backend, synthetic_db):
    r = client.get("/v1/downloads")
    assert r.status_code == 200
    data = r.json()
    if backend != "sqlite":  # a PostgreSQL replica has no build folder to offer
        assert data == {"count": 0, "files": []}
        return
    files = {f["name"]: f for f in data["files"]}
    assert data["count"] == len(files)
    assert {"agreements_flat", "dyads", "dyad_years", "directed_dyads", "directed_dyad_years"} <= set(files)
    formats = {f["format"] for f in data["files"]}
    assert {"csv", "parquet", "dta", "sqlite"} <= formats or {"csv", "parquet", "dta"} <= formats
    for f in data["files"]:
        got = client.get(f["url"])
        assert got.status_code == 200, f["url"]
        assert len(got.content) == f["bytes"]
        assert hashlib.sha256(got.content).hexdigest() == f["sha256"]
    assert client.get("/downloads/../datapackage.json").status_code == 404

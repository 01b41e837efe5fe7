"""The API over the project's real package."""
from __future__ import annotations

import csv
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_first_record_is_found_by_its_dyad(real_client):
    body = real_client.get("/v1/agreements?party=PAK&party=RUS").json()
    assert "pak-rus-2014-11-20" in [i["agreement_id"] for i in body["items"]]
    item = [i for i in body["items"] if i["agreement_id"] == "pak-rus-2014-11-20"][0]
    assert [(p["iso3"], p["name"]) for p in item["parties"]] == [("PAK", "Pakistan"), ("RUS", "Russia")]
    assert real_client.get("/v1/agreements?party=rus,pak").json()["items"] == body["items"]


def test_first_record_in_full(real_client):
    d = real_client.get("/v1/agreements/pak-rus-2014-11-20").json()
    assert d["signed_on"] == "2014-11-20" and d["venue_city"] == "Rawalpindi"
    assert [p["signatory_name"] for p in d["parties"]] == ["Khawaja Asif", "Sergei Shoigu"]
    assert any(e["designation"] == "Mi-35" for e in d["equipment"])
    assert d["sources"] and all(s["source_id"].startswith("pak-rus-2014-11-20-s") for s in d["sources"])


def test_mi35_designation_search(real_client):
    ids = [i["agreement_id"] for i in real_client.get("/v1/agreements?designation=mi-35").json()["items"]]
    assert "pak-rus-2014-11-20" in ids


def test_counts_match_the_package(real_client):
    with (ROOT / "dataset" / "agreements.csv").open(encoding="utf-8", newline="") as f:
        ids = sorted(r["agreement_id"] for r in csv.DictReader(f))
    r = real_client.get("/v1/agreements?format=csv&limit=all&sort=agreement_id")
    rows = list(csv.DictReader(io.StringIO(r.text, newline="")))
    assert [x["agreement_id"] for x in rows] == ids
    assert real_client.get("/v1/meta").json()["counts"]["agreements"] == len(ids)
    assert real_client.get("/v1/stats").json()["total"] == len(ids)


def test_pakistan(real_client):
    d = real_client.get("/v1/countries/PAK").json()
    assert d["agreement_count"] >= 1 and "RUS" in [p["iso3"] for p in d["partners"]]

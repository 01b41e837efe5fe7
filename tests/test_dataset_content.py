"""The committed records: the first record as published, sources that are real
addresses, and the README's coverage statement generated from the data."""
from __future__ import annotations

import csv
import re

from scripts.coverage import START, END, coverage_markdown, replace_block
from tests.conftest import ROOT


def rows(name):
    with open(ROOT / "dataset" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_first_record_is_as_published():
    a = {r["agreement_id"]: r for r in rows("agreements")}["pak-rus-2014-11-20"]
    assert (a["signed_on"], a["signed_precision"], a["venue_city"], a["venue_country_iso3"]) == ("2014-11-20", "day", "Rawalpindi", "PAK")
    assert a["title"] == "Defence and Military Cooperation Agreement"
    parties = {p["country_iso3"]: p for p in rows("parties") if p["agreement_id"] == "pak-rus-2014-11-20"}
    assert set(parties) == {"PAK", "RUS"}
    assert "Khawaja" in parties["PAK"]["signatory_name"] and "Asif" in parties["PAK"]["signatory_name"]
    assert parties["RUS"]["signatory_name"] == "Sergei Shoigu"
    assert all(p["signatory_title"] == "Minister of Defence" for p in parties.values())
    mi35 = [e for e in rows("equipment") if e["agreement_id"] == "pak-rus-2014-11-20"]
    assert len(mi35) == 1 and mi35[0]["designation"].startswith("Mi-35")
    assert (mi35[0]["supplier_iso3"], mi35[0]["recipient_iso3"], mi35[0]["category"]) == ("RUS", "PAK", "helicopter")
    s1 = {s["source_id"]: s for s in rows("sources")}["pak-rus-2014-11-20-s1"]
    assert s1["publisher"] == "South Asia Analysis Group" and "5826" in s1["citation"] and s1["source_type"] == "analysis"
    steps = [h for h in rows("status_history") if h["agreement_id"] == "pak-rus-2014-11-20"]
    assert {h["equipment_status"] for h in steps} >= {"politically_approved", "contracted"}
    assert all(h["source_id"] for h in steps)


def test_at_least_forty_agreements_each_with_a_source():
    ids = {a["agreement_id"] for a in rows("agreements")}
    assert len(ids) >= 40
    assert ids <= {s["agreement_id"] for s in rows("sources")}


def test_source_urls_carry_no_page_junk():
    for s in rows("sources"):
        url = s["url"]
        assert url or s["citation"], s["source_id"]
        for junk in ("cdnjs.cloudflare.com", "code.jquery.com", "utm_"):
            assert junk not in url, f"{s['source_id']}: {url}"


def test_readme_coverage_block_is_generated(tmp_path):
    """The generator, on a package whose numbers are known; the committed block itself is rewritten
    on main after each merge (.github/workflows/regenerate.yml), so a data pull request never touches it."""
    from tests.packages import make_package

    pkg = make_package(tmp_path / "p")
    block = coverage_markdown(pkg)
    assert "- **3 agreements** signed (or, for announced ones, made public) between **1999 and 2003**, among **7 states**" in block
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count(START) == 1 and readme.count(END) == 1
    once = replace_block(readme, block)
    assert replace_block(once, block) == once and block in once
    assert once.split(START)[0] == readme.split(START)[0] and once.split(END)[1] == readme.split(END)[1]


def test_every_agreement_has_two_independent_origins_and_an_instrument():
    """Counted here with the csv module, independently of the validator's rule."""
    import json
    from urllib.parse import urlsplit

    schema = json.loads((ROOT / "schema" / "agreements.schema.json").read_text(encoding="utf-8"))
    instruments = next(f for f in schema["fields"] if f["name"] == "instrument")["constraints"]["enum"]
    by_agreement: dict[str, set[str]] = {}
    official: dict[str, bool] = {}
    sources = {s["source_id"]: s for s in rows("sources")}
    for s in sources.values():
        if s["reprint_of"]:
            assert sources[s["reprint_of"]]["agreement_id"] == s["agreement_id"], s["source_id"]
            continue
        publisher = re.sub(r"\([^)]*\)", " ", s["publisher"]).strip().lower()
        origin = publisher or urlsplit(s["url"]).hostname or s["citation"]
        by_agreement.setdefault(s["agreement_id"], set()).add(" ".join(origin.split()))
        official[s["agreement_id"]] = official.get(s["agreement_id"], True) and s["source_type"] in ("official", "treaty_text")
    short = []
    for a in rows("agreements"):
        assert a["instrument"] in instruments, a["agreement_id"]
        n = len(by_agreement.get(a["agreement_id"], ()))
        if n < 2 and not (n == 1 and official[a["agreement_id"]] and "single origin:" in a["notes"].lower()):
            short.append(a["agreement_id"])
    assert short == []

"""Several instruments of one type are often signed by the same parties on one day; the duplicate
rule must still catch a record entered twice, and let through one a reviewer has marked as separate."""
from __future__ import annotations

import csv

from schema.rules import NOT_A_DUPLICATE
from scripts.findings import render_text
from scripts.validate import validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import make_package

ORIGINAL = "deu-nor-1999"
SIBLING = "deu-nor-1999-b"


def _append(path, rows):
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, old = reader.fieldnames, list(reader)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(old + rows)
    return old


def _package_with_sibling(tmp_path, notes):
    pkg = make_package(tmp_path / "p")
    d = pkg / "dataset"
    (orig,) = [r for r in csv.DictReader(open(d / "agreements.csv", encoding="utf-8")) if r["agreement_id"] == ORIGINAL]
    _append(d / "agreements.csv", [{**orig, "agreement_id": SIBLING, "title": "Synthetic Test Agreement C, second instrument",
                                    "notes": notes}])
    parties = [r for r in csv.DictReader(open(d / "parties.csv", encoding="utf-8")) if r["agreement_id"] == ORIGINAL]
    _append(d / "parties.csv", [{**r, "agreement_id": SIBLING} for r in parties])
    sources = [r for r in csv.DictReader(open(d / "sources.csv", encoding="utf-8")) if r["agreement_id"] == ORIGINAL]
    _append(d / "sources.csv", [{**r, "agreement_id": SIBLING, "source_id": r["source_id"].replace(ORIGINAL, SIBLING),
                                 "reprint_of": r["reprint_of"].replace(ORIGINAL, SIBLING)} for r in sources])
    return pkg


def _duplicate_lines(pkg):
    return [line for line in render_text(validate_package(pkg, FIXED_TODAY)).splitlines()
            if "same parties, signing date and type" in line]


def test_a_record_entered_twice_is_named_with_the_way_out(tmp_path):
    (line,) = _duplicate_lines(_package_with_sibling(tmp_path, "Invented for the test suite."))
    assert SIBLING in line or "agreements.csv" in line
    assert f"'{ORIGINAL}'" in line and f"{NOT_A_DUPLICATE} {ORIGINAL}:" in line


def test_a_sibling_marked_in_notes_passes(tmp_path):
    notes = f"{NOT_A_DUPLICATE} {ORIGINAL}: a second memorandum signed at the same meeting (synthetic)."
    assert _duplicate_lines(_package_with_sibling(tmp_path, notes)) == []


def test_marking_another_record_does_not_excuse_a_duplicate(tmp_path):
    notes = f"{NOT_A_DUPLICATE} bra-chl-per-2003-07: wrong record named (synthetic)."
    assert len(_duplicate_lines(_package_with_sibling(tmp_path, notes))) == 1

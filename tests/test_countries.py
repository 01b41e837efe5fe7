"""The country table against the Correlates of War state list: no COW state without its code.

countrycode ships COW's own list (code, abbreviation, COW name), including states that
no longer exist. Every code in it must either be the cow_code of a row of
dataset/countries.csv, or be one of the few listed here, each with the reason it
cannot be a row: a state that has left the system, or Kosovo, which ISO 3166-1 does
not list. A new gap (as Serbia was) fails this test until it is filled from a cited
source in scripts/cow_overrides.csv.
"""
from __future__ import annotations

import csv

import pytest

from scripts.countries import CountryTableError, cow_overrides, cow_states
from tests.conftest import ROOT

# COW states that cannot be rows of an ISO 3166-1 country table: states that no longer exist, and Kosovo.
NOT_ISO_COUNTRIES = {
    240: "Hanover", 245: "Bavaria", 267: "Baden", 269: "Saxony",
    271: "Wuerttemberg", 273: "Hesse Electoral", 275: "Hesse Grand Ducal",
    280: "Mecklenburg Schwerin", 265: "German Democratic Republic", 300: "Austria-Hungary",
    315: "Czechoslovakia", 329: "Two Sicilies", 332: "Modena", 335: "Parma",
    337: "Tuscany", 511: "Zanzibar", 678: "Yemen Arab Republic",
    680: "Yemen People's Republic", 817: "Republic of Vietnam",
    347: "Kosovo: a member since 2008, but ISO 3166-1 assigns it no code",
}


def _countries() -> list[dict[str, str]]:
    with open(ROOT / "dataset" / "countries.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_cow_state_has_its_code_in_the_country_table():
    in_table = {int(r["cow_code"]) for r in _countries() if r["cow_code"]}
    missing = {code: name for code, (_, name) in cow_states().items() if code not in in_table}
    assert set(missing) == set(NOT_ISO_COUNTRIES), (
        f"COW states without a row: {sorted(set(missing) - set(NOT_ISO_COUNTRIES))}; rows for states "
        f"listed as impossible: {sorted(set(NOT_ISO_COUNTRIES) - set(missing))}")


def test_serbia_has_cow_code_345_and_abbreviation_yug():
    row = next(r for r in _countries() if r["iso3"] == "SRB")
    assert (row["cow_code"], row["cow_abbr"]) == ("345", "YUG")
    assert cow_states()[345][0] == "YUG"


def test_cow_codes_and_abbreviations_are_those_of_the_cow_list():
    states = cow_states()
    rows = [r for r in _countries() if r["cow_code"]]
    assert len({r["cow_code"] for r in rows}) == len(rows), "two countries share a COW code"
    for r in rows:
        assert states[int(r["cow_code"])][0] == r["cow_abbr"], r["iso3"]


def test_every_override_cites_a_source_and_names_a_cow_code(tmp_path):
    overrides = cow_overrides()
    assert set(overrides) == {"SRB"}
    assert all("Correlates of War" in o["source"] for o in overrides.values())
    bad = tmp_path / "o.csv"
    bad.write_text("iso3,cow_code,reason,source\nXXA,999,made up,\n", encoding="utf-8")
    with pytest.raises(CountryTableError, match="not in countrycode's COW state list"):
        cow_overrides(bad)
    bad.write_text("iso3,cow_code,reason,source\nSRB,345,continuation,\n", encoding="utf-8")
    with pytest.raises(CountryTableError, match="needs a reason and a source"):
        cow_overrides(bad)

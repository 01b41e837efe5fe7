"""The exports used as a political scientist uses them, on the committed data and on the synthetic package.

Three analyses that gave wrong answers before the exports followed the field's conventions:
- agreements per year for one country (signed per year, and in effect per year from dyad_years);
- a merge of dyad_years with a COW-keyed country-year frame on (ccode1, year) and (ccode2, year),
  which must lose no row whose states have COW codes;
- directed dyads and dyad-years, which must be exactly twice the undirected ones.
Each is computed from the export files as a user reads them, and checked against the raw CSVs.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from schema.tableschema import load_package
from scripts.export import ExportOptions, render_exports
from tests.conftest import ROOT
from tests.packages import make_package

ACTIVE = {"signed", "ratified", "in_force"}


def _csv(root: Path, name: str) -> list[dict[str, str]]:
    with open(root / "dataset" / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _frames(files: dict[str, bytes]) -> dict[str, pd.DataFrame]:
    return {name[: -len(".parquet")]: pd.read_parquet(io.BytesIO(data)) for name, data in files.items()
            if name.endswith(".parquet")}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    return make_package(tmp_path_factory.mktemp("analyses") / "p")


@pytest.fixture(scope="module", params=["committed", "synthetic"])
def package(request, synthetic):
    root = ROOT if request.param == "committed" else synthetic
    files = render_exports(load_package(root))
    return root, files, _frames(files)


# --- the list columns of agreements_flat ----------------------------------------------------

def test_every_list_column_of_every_row_follows_one_party_order(package):
    root, _, frames = package
    countries = {c["iso3"]: c for c in _csv(root, "countries")}
    parties: dict[str, set[str]] = {}
    for p in _csv(root, "parties"):
        parties.setdefault(p["agreement_id"], set()).add(p["country_iso3"])
    flat = frames["agreements_flat"]
    assert len(flat) == len(_csv(root, "agreements"))
    for row in flat.itertuples():
        iso3 = row.parties_iso3.split(";")
        assert iso3 == sorted(parties[row.agreement_id]) and len(iso3) == row.n_parties
        codes, abbrs, names = (getattr(row, c).split(";") for c in ("parties_cow_code", "parties_cow_abbr", "parties_names"))
        assert len(codes) == len(abbrs) == len(names) == len(iso3), row.agreement_id
        for i, country in enumerate(iso3):  # position i names the same country in every list
            c = countries[country]
            assert (codes[i], abbrs[i], names[i]) == (c["cow_code"], c["cow_abbr"], c["name"]), (row.agreement_id, i)
        without = [p for p in iso3 if not countries[p]["cow_code"]]
        assert (None if pd.isna(row.parties_without_cow) else row.parties_without_cow) == (";".join(without) or None)


# --- analysis 1: agreements per year for one country ----------------------------------------

def _years_in_effect(root: Path) -> dict[str, range]:
    """Independently of scripts/: the years each agreement counts in n_signed under the default rule."""
    agreements = _csv(root, "agreements")
    last = max(int(a["status_as_of"][:4]) for a in agreements)
    steps: dict[tuple[str, str], list[str]] = {}
    for h in _csv(root, "status_history"):
        if not h["equipment_id"] and h["agreement_status"]:
            steps.setdefault((h["agreement_id"], h["agreement_status"]), []).append(h["status_on"])
    out = {}
    for a in agreements:
        start = int(a["signed_on"][:4])
        if a["status"] in ("announced", "under_negotiation"):
            continue
        if a["end_on"]:
            end = int(a["end_on"][:4])
        elif a["status"] in ACTIVE:
            end = last
        else:  # ended on a date the record does not give: the year of the step that records it
            found = sorted(steps.get((a["agreement_id"], a["status"]), []))
            end = int(found[0][:4]) if found else start
        if a["entry_into_force_on"]:
            end = max(end, int(a["entry_into_force_on"][:4]))
        out[a["agreement_id"]] = range(start, max(start, end) + 1)
    return out


@pytest.mark.parametrize("country", ["FRA", "USA", "DEU"])
def test_agreements_per_year_for_one_country(package, country):
    root, _, frames = package
    flat = frames["agreements_flat"]
    mine = flat[flat.parties_iso3.str.split(";").apply(lambda ps: country in ps)]
    raw_ids = {p["agreement_id"] for p in _csv(root, "parties") if p["country_iso3"] == country}
    signed_on = {a["agreement_id"]: a["signed_on"] for a in _csv(root, "agreements")}
    # signed per year: straight from agreements_flat
    expected_signed = pd.Series([int(signed_on[i][:4]) for i in raw_ids], dtype="int64").value_counts().to_dict()
    assert mine.groupby("signed_year").size().to_dict() == expected_signed
    # in effect per year: from dyad_years, the distinct agreement ids of the country's rows
    dy = frames["dyad_years"]
    rows = dy[(dy.iso3_a == country) | (dy.iso3_b == country)]
    per_year = rows.assign(aid=rows.agreement_ids.str.split(";")).explode("aid").groupby("year").aid.nunique().to_dict()
    spans = _years_in_effect(root)
    expected: dict[int, int] = {}
    for i in raw_ids & set(spans):
        for y in spans[i]:
            expected[y] = expected.get(y, 0) + 1
    assert per_year == expected


def test_agreements_without_an_end_count_until_the_data_date():
    """Lancaster House (2010), the Philippines-US EDCA (2014) and the Pakistan-Russia agreement (2014) are in
    effect in every year to the data date, no longer only up to the year of their status_as_of; each is in force
    from the year it is known to be, and the Pakistan-Russia one, never known to be in force, in none."""
    files = render_exports(load_package(ROOT))
    dy = _frames(files)["dyad_years"]
    last = max(int(a["status_as_of"][:4]) for a in _csv(ROOT, "agreements"))

    def years(aid, column="agreement_ids"):
        return sorted(dy.loc[dy[column].fillna("").str.split(";").apply(lambda ids: aid in ids), "year"])

    assert years("fra-gbr-2010-11-02") == list(range(2010, last + 1))
    assert years("phl-usa-2014-04-28") == list(range(2014, last + 1))
    assert years("phl-usa-2014-04-28", "in_force_ids") == list(range(2016, last + 1))
    assert years("fra-gbr-2010-11-02", "in_force_ids") == list(range(2011, last + 1))  # in force from Jul 2011
    # signed, not known to be in force: in effect every year from signing, in force in none
    assert years("pak-rus-2014-11-20") == list(range(2014, last + 1))
    assert years("pak-rus-2014-11-20", "in_force_ids") == []
    # suspended before it took effect: counted as signed until the suspension, never in force
    assert years("col-usa-2009-10-30") and years("col-usa-2009-10-30", "in_force_ids") == []
    for aid in ("aus-gbr-usa-2021-09-15", "chn-khm-2019"):  # announced: never counted
        assert years(aid) == []
    assert (dy.n_in_force <= dy.n_signed).all()
    attested = _frames(render_exports(load_package(ROOT), ExportOptions(rule="attested")))["dyad_years"]
    as_of = {a["agreement_id"]: int(a["status_as_of"][:4]) for a in _csv(ROOT, "agreements")}
    for aid, start in (("fra-gbr-2010-11-02", 2010), ("pak-rus-2014-11-20", 2014)):
        # attested: only through the year of the latest source that confirms the status
        assert sorted(attested.loc[attested.agreement_ids.str.contains(aid), "year"]) == list(range(start, as_of[aid] + 1))
    assert as_of["pak-rus-2014-11-20"] < last  # so the two rules differ for it
    assert attested.assumed.eq(0).all() and dy.assumed.eq(1).any()


# --- analysis 2: the merge with COW-keyed country-year data ---------------------------------

def _country_year(root: Path, years: range) -> pd.DataFrame:
    """A COW-keyed country-year frame, as NMC or Polity give: one row per ccode and year."""
    codes = sorted({int(c["cow_code"]) for c in _csv(root, "countries") if c["cow_code"]} | {347})
    return pd.DataFrame([(c, y, c * 10_000 + y) for c in codes for y in years], columns=["ccode", "year", "value"])


def _merge(dy: pd.DataFrame, cy: pd.DataFrame) -> pd.DataFrame:
    one = dy.merge(cy.rename(columns={"ccode": "ccode1", "value": "value_1"}), on=["ccode1", "year"], how="inner")
    return one.merge(cy.rename(columns={"ccode": "ccode2", "value": "value_2"}), on=["ccode2", "year"], how="inner")


@pytest.mark.parametrize("name", ["dyad_years", "directed_dyad_years"])
def test_merge_with_a_cow_country_year_frame_loses_no_row(package, name):
    root, files, frames = package
    dy = frames[name]
    cy = _country_year(root, range(int(dy.year.min()), int(dy.year.max()) + 1))
    with_codes = dy[dy.ccode1.notna() & dy.ccode2.notna()]
    merged = _merge(dy, cy)
    assert len(merged) == len(with_codes) and len(merged) > 0
    assert (merged.value_1 == merged.ccode1 * 10_000 + merged.year).all()
    if root == ROOT:
        assert len(with_codes) == len(dy)  # every party in the committed data has a COW code, Serbia (345) too
        assert merged.agreement_ids.str.contains("fra-srb-2024-08-29").any()
    # the Stata file and the CSV (read as the codebook says) merge the same way
    stata = pd.read_stata(io.BytesIO(files[f"{name}.dta"]), convert_categoricals=False)
    assert len(_merge(stata.astype({"ccode1": "float64", "ccode2": "float64", "year": "int64"}),
                      cy.astype({"ccode": "float64"}))) == len(with_codes)
    from_csv = pd.read_csv(io.BytesIO(files[f"{name}.csv"]), keep_default_na=False, na_values=[""])
    assert len(_merge(from_csv, cy)) == len(with_codes)


def test_undirected_ccodes_are_in_cow_order(package):
    _, _, frames = package
    for name in ("dyads", "dyad_years"):
        df = frames[name].dropna(subset=["ccode1", "ccode2"])
        assert (df.ccode1 < df.ccode2).all()
        assert (df[["ccode1", "ccode2"]].apply(sorted, axis=1).tolist()
                == df[["cow_code_a", "cow_code_b"]].apply(sorted, axis=1).tolist())


def test_full_panel_merges_with_the_country_year_frame_on_the_committed_data():
    files = render_exports(load_package(ROOT), ExportOptions(full_panel=True))
    frames = _frames(files)
    panel, dy = frames["dyad_years_full"], frames["dyad_years"]
    assert panel.year.min() == dy.year.min() and panel.year.max() == dy.year.max()
    assert len(_merge(panel, _country_year(ROOT, range(int(panel.year.min()), int(panel.year.max()) + 1)))) == len(panel)
    assert panel.groupby("year").size().iloc[-1] == 195 * 194 // 2
    assert int(panel.n_signed.sum()) == int(dy.n_signed.sum()) and int(panel.n_in_force.sum()) == int(dy.n_in_force.sum())


# --- analysis 3: directed dyads ---------------------------------------------------------------

def test_directed_dyads_double_the_undirected_count(package):
    _, _, frames = package
    assert len(frames["directed_dyads"]) == 2 * len(frames["dyads"])
    assert len(frames["directed_dyad_years"]) == 2 * len(frames["dyad_years"])
    d = frames["directed_dyads"]
    assert not d.duplicated(["agreement_id", "iso3_a", "iso3_b"]).any()
    pairs = set(zip(d.agreement_id, d.iso3_a, d.iso3_b))
    assert all((a, q, p) in pairs for a, p, q in pairs)

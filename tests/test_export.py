"""`dca export` (and the exports `dca build` writes): hand-checked rows on the synthetic package.

The synthetic package (tests/fixtures/base) has three agreements:
- bra-chl-per-2003-07: three parties, signing date known to the month, ratified as of 2004-01-15,
  no entry into force, no end; its only source is a bibliographic reference without URL;
- deu-nor-1999: date known to the year, entry into force 2000, expired with end 2009;
- fra-ind-2001-05-06: exact date, entry into force 2001-09, in force as of 2002-03-04.
Its data date (the latest status_as_of) is 2010-02-01, so the release covers years through 2010.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from typer.testing import CliRunner

from schema.tableschema import load_package
from scripts.build import build_package
from scripts.cli import app
from scripts.downloads import list_downloads
from scripts.export import ExportError, ExportOptions, agreement_span, build_tables, export_package, render_exports
from scripts.export_columns import ALL_EXPORTS, EXPORTS
from scripts.export_tables import Span, spans_frame
from tests.packages import make_package

runner = CliRunner()
FRICTIONLESS = str(Path(sys.executable).parent / "frictionless")

FLAT = """\
agreement_id,title,agreement_type,instrument,signed_on,signed_precision,signed_year,signed_month,signed_day,venue_city,venue_country_iso3,venue_country_cow_code,venue_country_name,status,status_as_of,entry_into_force_on,entry_into_force_year,end_on,end_year,in_force_from_year,last_attested_year,counted_to_year,assumed,parties_iso3,parties_cow_code,parties_cow_abbr,parties_without_cow,parties_names,n_parties,equipment_summary,n_equipment,n_sources,first_source_url,summary,notes
bra-chl-per-2003-07,Synthetic Test Agreement B (three parties),training_education,agreement,2003-07,month,2003,7,,,,,,ratified,2004-01-15,,,,,,2004,2010,1,BRA;CHL;PER,140;155;135,BRA;CHL;PER,,Brazil;Chile;Peru,3,,0,2,https://example.net/synthetic/bra-chl-per-2003-07,Synthetic fixture record for tests; not a real agreement.,
deu-nor-1999,Synthetic Test Agreement C,logistics_access,memorandum_of_understanding,1999,year,1999,,,Testburg,NOR,385,Norway,expired,2010-02-01,2000,2000,2009,2009,2000,2009,2009,0,DEU;NOR,255;385,GMY;NOR,,Germany;Norway,2,"Test-Truck 7 (armoured_vehicle, quantity 12, delivered)",1,2,https://example.org/synthetic/deu-nor,Synthetic fixture record for tests; not a real agreement.,Invented for the test suite.
fra-ind-2001-05-06,Synthetic Test Agreement A,military_technical_cooperation,treaty,2001-05-06,day,2001,5,6,Testville,FRA,220,France,in_force,2002-03-04,2001-09,2001,,,2001,2002,2010,1,FRA;IND,220;750,FRN;IND,,France;India,2,"Testjet X (combat_aircraft, contracted)",1,2,https://example.org/synthetic/fra-ind,Synthetic fixture record for tests; not a real agreement.,
"""

DYADS = """\
agreement_id,iso3_a,cow_code_a,cow_abbr_a,iso3_b,cow_code_b,cow_abbr_b,ccode1,ccode2,signed_year,signed_month,signed_day,agreement_type,instrument,status,n_parties
bra-chl-per-2003-07,BRA,140,BRA,CHL,155,CHL,140,155,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,BRA,140,BRA,PER,135,PER,135,140,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,CHL,155,CHL,PER,135,PER,135,155,2003,7,,training_education,agreement,ratified,3
deu-nor-1999,DEU,255,GMY,NOR,385,NOR,255,385,1999,,,logistics_access,memorandum_of_understanding,expired,2
fra-ind-2001-05-06,FRA,220,FRN,IND,750,IND,220,750,2001,5,6,military_technical_cooperation,treaty,in_force,2
"""

# directed: ccode1 is party A's code, whichever is lower
DIRECTED_DYADS = """\
agreement_id,iso3_a,cow_code_a,cow_abbr_a,iso3_b,cow_code_b,cow_abbr_b,ccode1,ccode2,signed_year,signed_month,signed_day,agreement_type,instrument,status,n_parties
bra-chl-per-2003-07,BRA,140,BRA,CHL,155,CHL,140,155,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,BRA,140,BRA,PER,135,PER,140,135,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,CHL,155,CHL,BRA,140,BRA,155,140,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,CHL,155,CHL,PER,135,PER,155,135,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,PER,135,PER,BRA,140,BRA,135,140,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,PER,135,PER,CHL,155,CHL,135,155,2003,7,,training_education,agreement,ratified,3
deu-nor-1999,DEU,255,GMY,NOR,385,NOR,255,385,1999,,,logistics_access,memorandum_of_understanding,expired,2
deu-nor-1999,NOR,385,NOR,DEU,255,GMY,385,255,1999,,,logistics_access,memorandum_of_understanding,expired,2
fra-ind-2001-05-06,FRA,220,FRN,IND,750,IND,220,750,2001,5,6,military_technical_cooperation,treaty,in_force,2
fra-ind-2001-05-06,IND,750,IND,FRA,220,FRN,750,220,2001,5,6,military_technical_cooperation,treaty,in_force,2
"""

HEADER_DY = ("iso3_a,cow_code_a,cow_abbr_a,iso3_b,cow_code_b,cow_abbr_b,ccode1,ccode2,year,"
             "n_signed,n_in_force,assumed,agreement_ids,in_force_ids\n")
BC, BP, CP = "BRA,140,BRA,CHL,155,CHL,140,155", "BRA,140,BRA,PER,135,PER,135,140", "CHL,155,CHL,PER,135,PER,135,155"
DN, FI = "DEU,255,GMY,NOR,385,NOR,255,385", "FRA,220,FRN,IND,750,IND,220,750"
B, D, F = "bra-chl-per-2003-07", "deu-nor-1999", "fra-ind-2001-05-06"


def _b(years, assumed_after):  # the ratified agreement: signed, never known in force
    return [f"{pair},{y},1,0,{int(y > assumed_after)},{B},\n" for pair in (BC, BP, CP) for y in years]


# Default rule (until-ended): the ratified three-party agreement and the one in force have no end, so they
# count through 2010, the last year the release covers; the years after their status_as_of year (2004,
# 2002) are assumed. The expired one counts through its end year, in force from 2000 (its entry into force).
DYAD_YEARS = HEADER_DY + "".join([
    *_b(range(2003, 2011), 2004),
    f"{DN},1999,1,0,0,{D},\n",
    *[f"{DN},{y},1,1,0,{D},{D}\n" for y in range(2000, 2010)],
    *[f"{FI},{y},1,1,{int(y > 2002)},{F},{F}\n" for y in range(2001, 2011)],
])

# --rule attested: the rule of earlier versions, through the status_as_of year; nothing assumed.
DYAD_YEARS_ATTESTED = HEADER_DY + "".join([
    *_b(range(2003, 2005), 2004),
    f"{DN},1999,1,0,0,{D},\n",
    *[f"{DN},{y},1,1,0,{D},{D}\n" for y in range(2000, 2010)],
    *[f"{FI},{y},1,1,0,{F},{F}\n" for y in (2001, 2002)],
])


def _text(files: dict[str, bytes], name: str) -> str:
    return files[name].decode("utf-8")


def _rows(files: dict[str, bytes], name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_text(files, name))))


@pytest.fixture(scope="module")
def pkg_dir(tmp_path_factory) -> Path:
    return make_package(tmp_path_factory.mktemp("exports") / "p")


@pytest.fixture(scope="module")
def exported(pkg_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("out") / "exports"
    export_package(pkg_dir, out)
    return out


def _copy_pkg(tmp_path: Path) -> Path:
    return make_package(tmp_path / "p")


def _edit_csv(path: Path, fn) -> None:
    """Rewrite a CSV row by row through fn(row) -> row or None (drop)."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, [r for r in (fn(r) for r in reader) if r is not None]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def _append(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


# --- the CSV files, row by row -----------------------------------------------------------

def test_agreements_flat_hand_checked(exported):
    assert (exported / "agreements_flat.csv").read_text(encoding="utf-8") == FLAT


def test_dyads_one_row_per_unordered_pair(exported):
    # the three-party agreement gives three rows; party A sorts first by ISO3, ccode1 < ccode2
    assert (exported / "dyads.csv").read_text(encoding="utf-8") == DYADS


def test_directed_dyads_in_every_export_give_both_directions(exported):
    assert (exported / "directed_dyads.csv").read_text(encoding="utf-8") == DIRECTED_DYADS


def test_dyad_years_default_rule_until_ended(exported):
    assert (exported / "dyad_years.csv").read_text(encoding="utf-8") == DYAD_YEARS


def test_dyad_years_attested_rule(pkg_dir):
    files = render_exports(load_package(pkg_dir), ExportOptions(rule="attested"))
    assert _text(files, "dyad_years.csv") == DYAD_YEARS_ATTESTED
    flat = {r["agreement_id"]: r for r in _rows(files, "agreements_flat.csv")}
    assert (flat[B]["last_attested_year"], flat[B]["counted_to_year"], flat[B]["assumed"]) == ("2004", "2004", "0")
    assert json.loads(files["datapackage.json"])["dca_export_options"]["rule"] == "attested"


def test_directed_dyad_years_are_each_row_in_both_directions(exported):
    undirected = list(csv.DictReader(open(exported / "dyad_years.csv", encoding="utf-8")))
    directed = list(csv.DictReader(open(exported / "directed_dyad_years.csv", encoding="utf-8")))
    assert len(directed) == 2 * len(undirected)

    def swapped(r):
        s = {**r}
        for k in ("iso3", "cow_code", "cow_abbr"):
            s[f"{k}_a"], s[f"{k}_b"] = r[f"{k}_b"], r[f"{k}_a"]
        return s

    def key(r):
        return tuple(r[k] for k in ("iso3_a", "iso3_b", "year", "n_signed", "n_in_force", "assumed", "agreement_ids"))

    assert sorted(map(key, directed)) == sorted(map(key, undirected + [swapped(r) for r in undirected]))
    assert all((r["ccode1"], r["ccode2"]) == (r["cow_code_a"], r["cow_code_b"]) for r in directed)
    assert all(int(r["ccode1"]) < int(r["ccode2"]) for r in undirected)


def test_dyad_years_range_is_clipped(pkg_dir):
    files = render_exports(load_package(pkg_dir), ExportOptions(year_from=2002, year_to=2003))
    expected = HEADER_DY + "".join([
        f"{BC},2003,1,0,0,{B},\n", f"{BP},2003,1,0,0,{B},\n", f"{CP},2003,1,0,0,{B},\n",
        f"{DN},2002,1,1,0,{D},{D}\n", f"{DN},2003,1,1,0,{D},{D}\n",
        f"{FI},2002,1,1,0,{F},{F}\n", f"{FI},2003,1,1,1,{F},{F}\n",
    ])
    assert _text(files, "dyad_years.csv") == expected
    # the other tables are not clipped
    assert _text(files, "dyads.csv") == DYADS


def test_dyad_years_count_agreements_of_the_same_pair(tmp_path):
    pkg = _copy_pkg(tmp_path)
    _append(pkg / "dataset" / "agreements.csv",
            "deu-nor-2005-03,Second synthetic pair agreement,training_education,agreement,2005-03,month,,,in_force,2007-06-30,,,"
            "Synthetic fixture record for tests; not a real agreement.,")
    _append(pkg / "dataset" / "parties.csv", "deu-nor-2005-03,DEU,,")
    _append(pkg / "dataset" / "parties.csv", "deu-nor-2005-03,NOR,,")
    rows = [l for l in _text(render_exports(load_package(pkg)), "dyad_years.csv").splitlines() if l.startswith("DEU,")]
    # the second agreement: in force (status) with no entry date -> in force from its status_as_of year, 2007;
    # no end -> through 2010, assumed after 2007
    two = "deu-nor-1999;deu-nor-2005-03"
    assert rows == (
        [f"{DN},1999,1,0,0,{D},"]
        + [f"{DN},{y},1,1,0,{D},{D}" for y in range(2000, 2005)]
        + [f"{DN},{y},2,1,0,{two},{D}" for y in (2005, 2006)]
        + [f"{DN},{y},2,2,0,{two},{two}" for y in (2007,)]
        + [f"{DN},{y},2,2,1,{two},{two}" for y in (2008, 2009)]
        + [f"{DN},2010,1,1,1,deu-nor-2005-03,deu-nor-2005-03"]
    )


def test_ended_agreement_without_end_date(tmp_path):
    """No end_on and an ended status: through the year of the status_history step that records the
    status (deu-nor-1999-h1: expired in 2009); without such a step, through the year it is known in force."""
    pkg = _copy_pkg(tmp_path)
    _edit_csv(pkg / "dataset" / "agreements.csv", lambda r: {**r, "end_on": ""} if r["agreement_id"] == D else r)
    years = [l.split(",")[8] for l in _text(render_exports(load_package(pkg)), "dyad_years.csv").splitlines() if l.startswith("DEU,")]
    assert years == [str(y) for y in range(1999, 2010)]
    _edit_csv(pkg / "dataset" / "status_history.csv", lambda r: None if r["history_id"] == "deu-nor-1999-h1" else r)
    files = render_exports(load_package(pkg))
    # start year 1999; in force from 2000 (entry into force), so it counts through 2000 and no later
    assert [l for l in _text(files, "dyad_years.csv").splitlines() if l.startswith("DEU,")] == [
        f"{DN},1999,1,0,0,{D},", f"{DN},2000,1,1,0,{D},{D}"]


def test_suspended_before_taking_effect_is_never_in_force(tmp_path):
    """Like col-usa-2009-10-30: signed, then suspended, never entered into force: it counts in n_signed
    until the suspension and never in n_in_force."""
    pkg = _copy_pkg(tmp_path)
    _edit_csv(pkg / "dataset" / "agreements.csv",
              lambda r: {**r, "status": "suspended", "entry_into_force_on": "", "end_on": ""} if r["agreement_id"] == D else r)
    _edit_csv(pkg / "dataset" / "status_history.csv",
              lambda r: {**r, "agreement_status": "suspended", "status_on": "2001"} if r["history_id"] == "deu-nor-1999-h1" else r)
    rows = [l for l in _text(render_exports(load_package(pkg)), "dyad_years.csv").splitlines() if l.startswith("DEU,")]
    assert rows == [f"{DN},{y},1,0,0,{D}," for y in (1999, 2000, 2001)]


def test_announced_and_under_negotiation_are_not_counted(tmp_path):
    pkg = _copy_pkg(tmp_path)
    status = {B: "announced", F: "under_negotiation"}
    _edit_csv(pkg / "dataset" / "agreements.csv", lambda r: {**r, "status": status.get(r["agreement_id"], r["status"])})
    files = render_exports(load_package(pkg))
    assert {l.split(",")[0] for l in _text(files, "dyad_years.csv").splitlines()[1:]} == {"DEU"}
    # they are still agreements and dyads
    assert _text(files, "dyads.csv").count("announced") == 3 and "under_negotiation" in _text(files, "dyads.csv")
    flat = {r["agreement_id"]: r for r in _rows(files, "agreements_flat.csv")}
    assert [flat[B][k] for k in ("in_force_from_year", "last_attested_year", "counted_to_year", "assumed")] == ["", "", "", ""]


SPAN_CASES = [
    # in force, no entry date: in force from its status_as_of year; through 2024 by assumption, 2002 attested
    ({"status": "in_force", "signed_on": "2001-05-06", "status_as_of": "2002-03-04"}, [], "until-ended", Span(2001, 2002, 2002, 2024)),
    ({"status": "in_force", "signed_on": "2001-05-06", "status_as_of": "2002-03-04"}, [], "attested", Span(2001, 2002, 2002, 2002)),
    ({"status": "signed", "signed_on": "2019", "status_as_of": "2019-12-31"}, [], "until-ended", Span(2019, None, 2019, 2024)),
    ({"status": "terminated", "signed_on": "1990", "status_as_of": "2020-01-01", "end_on": "1995-06",
      "entry_into_force_on": "1991"}, [], "until-ended", Span(1990, 1991, 1995, 1995)),
    # an end date holds whatever the status
    ({"status": "in_force", "signed_on": "1990", "status_as_of": "2020-01-01", "entry_into_force_on": "1991",
      "end_on": "1995"}, [], "until-ended", Span(1990, 1991, 1995, 1995)),
    ({"status": "suspended", "signed_on": "1990", "status_as_of": "2020-01-01"}, [], "until-ended", Span(1990, None, 1990, 1990)),
    ({"status": "suspended", "signed_on": "1990", "status_as_of": "2020-01-01"},
     [{"status_on": "2015-02", "agreement_status": "suspended"}, {"status_on": "2012", "agreement_status": "suspended"},
      {"status_on": "2010", "agreement_status": "suspended", "equipment_id": "x-e1"},
      {"status_on": "1992-04", "agreement_status": "in_force"}], "until-ended", Span(1990, 1992, 2012, 2012)),
    ({"status": "superseded", "signed_on": "1990", "status_as_of": "2020-01-01"},
     [{"status_on": "2001", "agreement_status": "in_force"}], "until-ended", Span(1990, 2001, 2001, 2001)),
    # entry into force after the status_as_of year: counts to the year it is known in force
    ({"status": "ratified", "signed_on": "2018", "status_as_of": "2018-10-01", "entry_into_force_on": "2019-01"}, [],
     "attested", Span(2018, 2019, 2019, 2019)),
    ({"status": "announced", "signed_on": "2020", "status_as_of": "2024-01-01"}, [], "until-ended", None),
    ({"status": "under_negotiation", "signed_on": "2020", "status_as_of": "2024-01-01"}, [], "until-ended", None),
]


@pytest.mark.parametrize("agreement, history, rule, expected", SPAN_CASES)
def test_agreement_span_rules(agreement, history, rule, expected):
    assert agreement_span(agreement, history, rule, last_year=2024) == expected


@pytest.mark.parametrize("rule", ["until-ended", "attested"])
def test_spans_frame_is_agreement_span_for_every_agreement_at_once(rule):
    """The build's vectorised spans (one polars expression per column) give agreement_span's answer for each
    case above, all in one frame, each agreement with only its own history rows."""
    cols = ["agreement_id", "status", "signed_on", "status_as_of", "entry_into_force_on", "end_on"]
    hcols = ["agreement_id", "equipment_id", "status_on", "agreement_status"]
    agreements, history, expected = [], [], {}
    for i, (agreement, hist, _, _) in enumerate(SPAN_CASES):
        aid = f"case-{i:02d}"
        agreements.append({c: agreement.get(c) for c in cols} | {"agreement_id": aid})
        history += [{c: h.get(c) for c in hcols} | {"agreement_id": aid} for h in hist]
        expected[aid] = agreement_span(agreement, hist, rule, last_year=2024)
    frame = spans_frame(pl.DataFrame(agreements, schema={c: pl.Utf8 for c in cols}),
                        pl.DataFrame(history, schema={c: pl.Utf8 for c in hcols}), rule, 2024)
    got = {r.pop("agreement_id"): Span(**r) for r in frame.to_dicts()}
    assert got == {aid: span for aid, span in expected.items() if span is not None}
    assert any(s is None for s in expected.values()) and len(got) > 5


def test_parties_without_cow_code_have_an_empty_slot(tmp_path):
    pkg = _copy_pkg(tmp_path)
    _edit_csv(pkg / "dataset" / "countries.csv",
              lambda r: {**r, "cow_code": "", "cow_abbr": ""} if r["iso3"] in ("CHL", "NOR") else r)
    tables = build_tables(load_package(pkg))
    flat = {r["agreement_id"]: r for r in tables["agreements_flat"]}
    assert (flat[D]["parties_iso3"], flat[D]["parties_cow_code"], flat[D]["parties_cow_abbr"], flat[D]["parties_without_cow"]) == \
        ("DEU;NOR", "255;", "GMY;", "NOR")
    assert (flat[B]["parties_cow_code"], flat[B]["parties_cow_abbr"]) == ("140;;135", "BRA;;PER")
    assert flat[D]["venue_country_cow_code"] is None
    dyad = next(r for r in tables["dyads"] if r["agreement_id"] == D)
    assert (dyad["cow_code_b"], dyad["cow_abbr_b"], dyad["ccode1"], dyad["ccode2"]) == (None, None, None, None)
    files = render_exports(load_package(pkg))
    assert f"{D},DEU,255,GMY,NOR,,,,,1999" in _text(files, "dyads.csv")
    stata = pd.read_stata(io.BytesIO(files["dyads.dta"]))
    row = stata[stata.agreement_id == D].iloc[0]
    assert pd.isna(row.cow_code_b) and row.cow_abbr_b == "" and pd.isna(row.ccode1)


# --- the full panel --------------------------------------------------------------------------

def test_full_panel_has_every_pair_of_cow_states_with_zeros(pkg_dir):
    files = render_exports(load_package(pkg_dir), ExportOptions(full_panel=True, year_from=2005))
    assert "dyad_years_full.csv" not in files and {"dyad_years_full.parquet", "dyad_years_full.dta"} <= set(files)
    panel = pd.read_parquet(io.BytesIO(files["dyad_years_full.parquet"]))
    assert list(panel.columns) == [c.name for c in ALL_EXPORTS["dyad_years_full"]]
    per_year = panel.groupby("year").size().to_dict()
    # members: 192 states with COW codes in 2005 (the Holy See's 327 is the Papal States', not a member);
    # Montenegro enters in 2006, Kosovo in 2008; South Sudan (2011) is after the last covered year, 2010
    assert per_year == {2005: 192 * 191 // 2, 2006: 193 * 192 // 2, 2007: 193 * 192 // 2,
                        2008: 194 * 193 // 2, 2009: 194 * 193 // 2, 2010: 194 * 193 // 2}
    assert (panel.ccode1 < panel.ccode2).all() and not panel.duplicated(["ccode1", "ccode2", "year"]).any()
    assert 327 not in set(panel.ccode1) | set(panel.ccode2) and 626 not in set(panel.ccode2)
    kosovo = panel[(panel.ccode2 == 347) | (panel.ccode1 == 347)]
    assert kosovo.year.min() == 2008 and set(kosovo.loc[kosovo.ccode1 == 347, "cow_abbr1"]) == {"KOS"}
    assert kosovo.loc[kosovo.ccode1 == 347, "iso3_1"].isna().all()
    # the non-zero rows are exactly the dyad_years rows of those years
    dy = pd.read_csv(io.BytesIO(files["dyad_years.csv"]))
    dy = dy[dy.year >= 2005]
    nonzero = panel[panel.n_signed > 0]
    key = ["ccode1", "ccode2", "year", "n_signed", "n_in_force", "assumed"]
    assert sorted(map(tuple, nonzero[key].values.tolist())) == sorted(map(tuple, dy[key].values.tolist()))
    assert (panel.loc[panel.n_signed == 0, ["n_in_force", "assumed"]] == 0).all().all()
    stata = pd.read_stata(io.BytesIO(files["dyad_years_full.dta"]), convert_categoricals=False)
    assert len(stata) == len(panel) and int(stata.n_signed.sum()) == int(panel.n_signed.sum())


def test_full_panel_starts_no_earlier_than_2000(pkg_dir):
    with pytest.raises(ExportError, match="give --from 2000 or later"):
        render_exports(load_package(pkg_dir), ExportOptions(full_panel=True))  # agreements from 1999
    with pytest.raises(ExportError, match="2000 at the earliest"):
        ExportOptions(full_panel=True, year_from=1990)


def test_full_panel_years_before_a_state_entered(tmp_path):
    """South Sudan (626) is in the panel from 2011, the year it entered the system, not before."""
    pkg = _copy_pkg(tmp_path)
    _edit_csv(pkg / "dataset" / "agreements.csv", lambda r: {**r, "status_as_of": "2012-05-01"} if r["agreement_id"] == F else r)
    files = render_exports(load_package(pkg), ExportOptions(full_panel=True, year_from=2009))
    panel = pd.read_parquet(io.BytesIO(files["dyad_years_full.parquet"]))
    ssd = panel[(panel.ccode1 == 626) | (panel.ccode2 == 626)]
    assert ssd.year.min() == 2011 and set(panel.year) == {2009, 2010, 2011, 2012}
    assert panel.groupby("year").size().to_dict()[2012] == 195 * 194 // 2  # the 195 members of COW's list in 2016


# --- Parquet and Stata read back ---------------------------------------------------------

def _normalise(df: pd.DataFrame, name: str, pkg=None) -> list[dict]:
    """Rows with None for missing values, ints as int, dates as ISO text, Stata's coded values as their codes:
    comparable across formats."""
    out = []
    columns = {c.name: c for c in ALL_EXPORTS[name]}
    for rec in df.to_dict("records"):
        row = {}
        for k, v in rec.items():
            c = columns[k]
            if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "":
                row[k] = None
            elif c.type == "integer":
                assert float(v) == int(v)
                row[k] = int(v)
            elif c.type == "date":
                row[k] = pd.Timestamp(v).date().isoformat()
            elif pkg is not None and c.vocabulary(pkg) and not isinstance(v, str):
                row[k] = c.vocabulary(pkg)[int(v) - 1][0]  # Stata: position in the vocabulary
            else:
                row[k] = str(v)
        out.append(row)
    return out


@pytest.mark.parametrize("name", list(EXPORTS))
def test_parquet_and_stata_read_back_equal_to_csv(pkg_dir, exported, name):
    from_csv = pd.read_csv(exported / f"{name}.csv", dtype=str, keep_default_na=False)
    parquet = pd.read_parquet(exported / f"{name}.parquet")
    stata = pd.read_stata(exported / f"{name}.dta", convert_categoricals=False)
    columns = [c.name for c in EXPORTS[name]]
    assert list(from_csv.columns) == list(parquet.columns) == list(stata.columns) == columns
    expected = _normalise(from_csv, name)
    assert len(expected) == {"agreements_flat": 3, "dyads": 5, "directed_dyads": 10, "dyad_years": 45,
                             "directed_dyad_years": 90}[name]
    assert _normalise(parquet, name) == expected
    assert _normalise(stata, name, load_package(pkg_dir)) == expected


def test_codebook_csv_tips_read_empty_cells_as_missing(exported):
    """The codebook's Python line for the CSV files gives missing values where the cells are empty."""
    df = pd.read_csv(exported / "dyad_years.csv", keep_default_na=False, na_values=[""])
    assert df["in_force_ids"].isna().sum() == 25 and pd.api.types.is_integer_dtype(df["ccode1"])
    flat = pd.read_csv(exported / "agreements_flat.csv", keep_default_na=False, na_values=[""])
    assert flat["venue_city"].isna().sum() == 1 and flat["title"].notna().all()


def test_parquet_types(exported):
    import pyarrow.parquet as pq

    schema = pq.read_schema(exported / "agreements_flat.parquet")
    assert str(schema.field("signed_month").type) == "int64" and schema.field("signed_month").nullable
    assert str(schema.field("status_as_of").type) == "date32[day]"
    assert str(schema.field("title").type) == "string" and not schema.field("agreement_id").nullable
    month = pd.read_parquet(exported / "agreements_flat.parquet").set_index("agreement_id")["signed_month"]
    assert month[B] == 7 and pd.isna(month[D]) and month[F] == 5
    dy = pq.read_schema(exported / "dyad_years.parquet")
    assert str(dy.field("ccode1").type) == "int64" and not dy.field("n_in_force").nullable


def test_stata_labels_names_and_types(exported):
    with pd.io.stata.StataReader(exported / "agreements_flat.dta") as reader:
        df = reader.read()
        labels = reader.variable_labels()
        data_label = reader.data_label
    assert labels["signed_year"] == "Year of signature"
    assert labels["parties_cow_code"] == "Parties (COW numeric codes)"
    assert all(0 < len(l) <= 80 for l in labels.values())
    assert all(len(c) <= 32 for c in df.columns)
    assert data_label.startswith("DCA agreements_flat v")
    # integers are numeric with missing values; text is text with '' for missing
    assert pd.api.types.is_numeric_dtype(df["signed_day"]) and df["signed_day"].isna().sum() == 2
    assert df.loc[df.agreement_id == B, "venue_city"].item() == ""
    assert df.loc[df.agreement_id == F, "status_as_of"].item() == pd.Timestamp("2002-03-04")


def test_stata_value_labels_for_every_coded_variable(pkg_dir, exported):
    """Coded variables are numbers with value labels taken from the schemas' categories."""
    pkg = load_package(pkg_dir)
    status = pkg.resource("agreements").field("status")
    for name in EXPORTS:
        coded = {c.name: c for c in EXPORTS[name] if c.vocabulary(pkg)}
        with pd.io.stata.StataReader(exported / f"{name}.dta") as reader:
            reader.read()
            value_labels = reader.value_labels()
        assert set(value_labels) == set(coded), name
        for col, c in coded.items():
            vocab = c.vocabulary(pkg)
            expected = {(i if isinstance(code, str) else code): label for i, (code, label) in enumerate(vocab, start=1)}
            assert value_labels[col] == expected, f"{name}.{col}"
    assert {"agreement_type", "signed_precision", "status", "assumed"} <= {c.name for c in EXPORTS["agreements_flat"]
                                                                            if c.vocabulary(pkg)}
    df = pd.read_stata(exported / "agreements_flat.dta")  # labels applied: the category labels
    assert df.set_index("agreement_id").loc[F, "status"] == status.labels()["in_force"] == "In force"
    raw = pd.read_stata(exported / "agreements_flat.dta", convert_categoricals=False).set_index("agreement_id")
    assert raw.loc[F, "status"] == status.enum.index("in_force") + 1 and raw.loc[F, "assumed"] == 1


def test_long_text_goes_to_strl(tmp_path):
    pkg = _copy_pkg(tmp_path)
    long_note = "Ä long synthetic note. " * 120  # > 2045 bytes in UTF-8
    _edit_csv(pkg / "dataset" / "agreements.csv", lambda r: {**r, "notes": long_note} if r["agreement_id"] == F else r)
    files = render_exports(load_package(pkg))
    df = pd.read_stata(io.BytesIO(files["agreements_flat.dta"]))
    assert df.loc[df.agreement_id == F, "notes"].item() == long_note


def _pandas_dta(columns, values, strl):
    """The reference: pandas' own Stata writer on the frame the exports define (scripts/stata.py's rules)."""
    from pandas.io.stata import StataWriterUTF8

    from scripts.stata import STATA_TIME_STAMP

    data, labels = {}, {}
    for c in columns:
        vals, vocab = values[c["name"]], c.get("vocabulary") or []
        if c["type"] == "string" and vocab:
            number = {code: i for i, (code, _) in enumerate(vocab, start=1)}
            data[c["name"]] = pd.array([None if v is None else number[v] for v in vals], dtype="Int64")
            labels[c["name"]] = {i: label for i, (_, label) in enumerate(vocab, start=1)}
        elif c["type"] == "integer":
            data[c["name"]] = pd.array(vals, dtype="Int64")
            if vocab:
                labels[c["name"]] = {int(code): label for code, label in vocab}
        elif c["type"] == "date":
            data[c["name"]] = pd.to_datetime(pd.Series(vals, dtype=object), format="%Y-%m-%d")
        else:
            data[c["name"]] = pd.Series(["" if v is None else v for v in vals], dtype=object)
    buf = io.BytesIO()
    StataWriterUTF8(buf, pd.DataFrame(data, columns=[c["name"] for c in columns]), write_index=False,
                    time_stamp=STATA_TIME_STAMP, data_label="DCA test", convert_strl=strl, version=118,
                    convert_dates={c["name"]: "td" for c in columns if c["type"] == "date"},
                    variable_labels={c["name"]: c["title"] for c in columns}, value_labels=labels or None).write_file()
    return buf.getvalue()


@pytest.mark.parametrize("rows", [4, 0])
def test_stata_writer_gives_the_bytes_pandas_gives(rows):
    """scripts/stata.py writes .dta files with numpy instead of pandas, for speed; the file must not change."""
    from scripts.stata import stata_bytes

    columns = [
        {"name": "a", "type": "string", "title": "Long text"},
        {"name": "b", "type": "string", "title": "Long text too"},
        {"name": "n", "type": "integer", "title": "Number"},
        {"name": "s", "type": "string", "title": "Text"},
        {"name": "c", "type": "integer", "title": "Coded", "vocabulary": [(0, "No"), (1, "Yes"), (2, "Two")]},
        {"name": "k", "type": "string", "title": "Coded text", "vocabulary": [("x", "Ex"), ("y", "Why")]},
        {"name": "d", "type": "date", "title": "Date"},
        {"name": "big", "type": "integer", "title": "Beyond int32"},
    ]
    values = {"a": ["x" * 3000, None, "y" * 2100, "x" * 3000], "b": ["short", "x" * 3000, "", "z" * 2500],
              "n": [1, None, -3, 4], "s": ["Ä", None, "abc", "Tschüss"], "c": [1, 2, None, 0],
              "k": ["y", None, "x", "y"], "d": ["2002-03-04", None, "1959-12-31", "2024-02-29"],
              "big": [1, 2 ** 40, None, -5]}
    values = {k: v[:rows] for k, v in values.items()}
    strl = ["a", "b"] if rows else []
    assert stata_bytes("DCA test", columns, values) == _pandas_dta(columns, values, strl)
    if rows:
        back = pd.read_stata(io.BytesIO(stata_bytes("DCA test", columns, values)))
        assert back.a.tolist() == ["x" * 3000, "", "y" * 2100, "x" * 3000] and back.s.tolist() == ["Ä", "", "abc", "Tschüss"]


# --- the exports data package --------------------------------------------------------------

def test_exports_datapackage_describes_every_file(pkg_dir, exported):
    descriptor = json.loads((exported / "datapackage.json").read_text(encoding="utf-8"))
    files = sorted(p.name for p in exported.iterdir() if p.name != "datapackage.json")
    assert sorted(r["path"] for r in descriptor["resources"]) == files
    for r in descriptor["resources"]:
        data = (exported / r["path"]).read_bytes()
        assert r["bytes"] == len(data) and r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert r["format"] in ("csv", "parquet", "dta") and r["mediatype"]
    flat = next(r for r in descriptor["resources"] if r["name"] == "agreements_flat")
    assert [f["name"] for f in flat["schema"]["fields"]] == [c.name for c in EXPORTS["agreements_flat"]]
    status = next(f for f in flat["schema"]["fields"] if f["name"] == "status")
    assert "`in_force` = in force" in status["description"] and "in_force" in status["constraints"]["enum"]
    assert descriptor["version"] == load_package(pkg_dir).version
    assert descriptor["dca_export_options"] == {"rule": "until-ended", "from": None, "to": None, "full_panel": False}
    assert descriptor["dca_coverage"]["last_year"] == 2010
    # coded columns carry their vocabulary as v2 categories with labels, and as enum
    assert status["categories"][4] == {"value": "in_force", "label": "In force"}
    assumed = next(f for f in flat["schema"]["fields"] if f["name"] == "assumed")
    assert assumed["categories"] == [{"value": 0, "label": "No"}, {"value": 1, "label": "Yes"}]
    assert assumed["constraints"]["enum"] == [0, 1]
    names = {r["name"] for r in descriptor["resources"]}
    assert {"directed_dyads", "directed_dyad_years", "directed_dyads_dta", "directed_dyad_years_parquet"} <= names


def test_exports_datapackage_passes_frictionless_validate(exported, tmp_path):
    result = subprocess.run([FRICTIONLESS, "validate", str(exported / "datapackage.json")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    # and the checksums are really checked: a changed .dta makes it fail
    import shutil

    copy = tmp_path / "exports"
    shutil.copytree(exported, copy)
    data = bytearray((copy / "dyads.dta").read_bytes())
    data[-1] ^= 0xFF
    (copy / "dyads.dta").write_bytes(bytes(data))
    bad = subprocess.run([FRICTIONLESS, "validate", str(copy / "datapackage.json")], capture_output=True, text=True)
    assert bad.returncode == 1


def test_exports_are_byte_identical_across_runs(pkg_dir):
    pkg = load_package(pkg_dir)
    assert render_exports(pkg) == render_exports(pkg)


def test_files_written_in_parts_are_the_files_and_their_descriptor_entries(pkg_dir, tmp_path, monkeypatch):
    """write_exports writes each CSV and .dta file in parts (so a large file is never held whole): with parts
    of two rows, or one record block per row, every file is still byte for byte the one-piece rendering, and
    its descriptor entry gives the size and SHA-256 of the file on disk."""
    import scripts.export as export_mod
    import scripts.stata as stata_mod
    from scripts.export import write_exports

    pkg = load_package(pkg_dir)
    whole = render_exports(pkg)
    monkeypatch.setattr(export_mod, "CSV_PART_ROWS", 2)
    monkeypatch.setattr(stata_mod, "_RECORD_BLOCK_BYTES", 1)
    parts: list[int] = []
    real = stata_mod._chunks

    def counted(*a, **k):
        blocks = list(real(*a, **k))
        parts.append(len(blocks))
        return iter(blocks)
    monkeypatch.setattr(stata_mod, "_chunks", counted)
    out = tmp_path / "exports"
    write_exports(pkg, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(whole)
    for name, data in whole.items():
        assert (out / name).read_bytes() == data, name
    assert max(parts) > 3  # head, a block per row, tail: the .dta files really came in several parts
    assert any(len(whole[f"{n}.csv"].splitlines()) > 3 for n in EXPORTS)  # and some CSV in more than one
    descriptor = json.loads((out / "datapackage.json").read_text())
    for res in descriptor["resources"]:
        data = (out / res["path"]).read_bytes()
        assert res["bytes"] == len(data) and res["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), res["path"]


# --- dca build and dca export ----------------------------------------------------------------

def test_build_writes_the_exports_inside_the_atomic_build(pkg_dir, exported, tmp_path):
    out = tmp_path / "build"
    build_package(pkg_dir, out)
    for p in exported.iterdir():
        assert (out / "exports" / p.name).read_bytes() == p.read_bytes(), p.name


def test_cli_export_with_options(pkg_dir, tmp_path):
    out = tmp_path / "x"
    result = runner.invoke(app, ["export", str(pkg_dir), "--out", str(out), "--rule", "attested",
                                 "--from", "2000", "--to", "2001", "--full-panel"])
    assert result.exit_code == 0, result.output
    assert "Wrote 18 files" in result.output  # 5 tables x 3 formats, the full panel x 2, the descriptor
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["dca_export_options"] == {"rule": "attested", "from": 2000, "to": 2001, "full_panel": True}
    years = {l.split(",")[8] for l in (out / "dyad_years.csv").read_text().splitlines()[1:]}
    assert years == {"2000", "2001"}
    assert set(pd.read_parquet(out / "dyad_years_full.parquet").year) == {2000, 2001}
    # a second run replaces the folder
    assert runner.invoke(app, ["export", str(pkg_dir), "--out", str(out)]).exit_code == 0
    assert json.loads((out / "datapackage.json").read_text())["dca_export_options"]["rule"] == "until-ended"
    assert not (out / "dyad_years_full.parquet").exists()


def test_cli_export_refuses_bad_options_and_foreign_folders(pkg_dir, tmp_path):
    result = runner.invoke(app, ["export", str(pkg_dir), "--out", str(tmp_path / "x"), "--from", "2005", "--to", "2000"])
    assert result.exit_code == 2 and "--from 2005 is after --to 2000" in result.output
    result = runner.invoke(app, ["export", str(pkg_dir), "--rule", "ratification"])
    assert result.exit_code == 2
    result = runner.invoke(app, ["export", str(pkg_dir), "--out", str(tmp_path / "y"), "--full-panel"])
    assert result.exit_code == 1 and "give --from 2000 or later" in result.output
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    result = runner.invoke(app, ["export", str(pkg_dir), "--out", str(precious)])
    assert result.exit_code == 1 and "not an exports folder" in result.output
    assert (precious / "thesis.tex").read_text() == "do not delete"
    with pytest.raises(ExportError):
        ExportOptions(rule="never")


def test_cli_export_refuses_an_invalid_package(tmp_path):
    bad = make_package(tmp_path / "bad", "dangling_references")
    result = runner.invoke(app, ["export", str(bad), "--out", str(tmp_path / "x")])
    assert result.exit_code == 1 and "Export stopped" in result.output
    assert not (tmp_path / "x").exists()


# --- downloads (for the API's /v1/downloads) ---------------------------------------------------

def test_list_downloads(pkg_dir, tmp_path):
    out = tmp_path / "build"
    build_package(pkg_dir, out)
    downloads = list_downloads(out)
    by_path = {d["path"]: d for d in downloads}
    expected = {f"exports/{n}.{ext}" for n in EXPORTS for ext in ("csv", "parquet", "dta")}
    assert set(by_path) == expected | {"exports/datapackage.json", "dca.sqlite"}
    for d in downloads:
        data = (out / d["path"]).read_bytes()
        assert set(d) == {"name", "path", "format", "mediatype", "bytes", "sha256"}
        assert d["bytes"] == len(data) and d["sha256"] == hashlib.sha256(data).hexdigest()
    assert by_path["dca.sqlite"]["format"] == "sqlite" and by_path["dca.sqlite"]["mediatype"] == "application/vnd.sqlite3"
    assert by_path["exports/dyads.dta"]["mediatype"] == "application/x-stata-dta"
    assert by_path["exports/agreements_flat.csv"]["name"] == "agreements_flat"
    # a file changed after the build: size and checksum are computed afresh, not taken from the descriptor
    (out / "exports" / "dyads.csv").write_text("changed\n")
    d = next(d for d in list_downloads(out) if d["path"] == "exports/dyads.csv")
    assert d["bytes"] == 8 and d["sha256"] == hashlib.sha256(b"changed\n").hexdigest()


def test_list_downloads_of_a_missing_or_partial_build(tmp_path):
    assert list_downloads(tmp_path / "nothing") == []
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "dca.sqlite").write_bytes(b"db")
    assert [d["path"] for d in list_downloads(tmp_path / "b")] == ["dca.sqlite"]

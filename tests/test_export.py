"""`dca export` (and the exports `dca build` writes): hand-checked rows on the synthetic package.

The synthetic package (tests/fixtures/base) has three agreements:
- bra-chl-per-2003-07: three parties, signing date known to the month, ratified as of 2004-01-15,
  no entry into force, no end; its only source is a bibliographic reference without URL;
- deu-nor-1999: date known to the year, entry into force 2000, expired with end 2009;
- fra-ind-2001-05-06: exact date, entry into force 2001-09, in force as of 2002-03-04.
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
import pytest
from typer.testing import CliRunner

from schema.tableschema import load_package
from scripts.build import build_package
from scripts.cli import app
from scripts.downloads import list_downloads
from scripts.export import ExportError, ExportOptions, active_years, build_tables, export_package, render_exports
from scripts.export_columns import EXPORTS
from tests.packages import make_package

runner = CliRunner()
FRICTIONLESS = str(Path(sys.executable).parent / "frictionless")

FLAT = """\
agreement_id,title,agreement_type,instrument,signed_on,signed_precision,signed_year,signed_month,signed_day,venue_city,venue_country_iso3,venue_country_cow_code,venue_country_name,status,status_as_of,entry_into_force_on,entry_into_force_year,end_on,end_year,parties_iso3,parties_cow_code,parties_cow_abbr,parties_without_cow,parties_names,n_parties,equipment_summary,n_equipment,n_sources,first_source_url,summary,notes
bra-chl-per-2003-07,Synthetic Test Agreement B (three parties),training_education,agreement,2003-07,month,2003,7,,,,,,ratified,2004-01-15,,,,,BRA;CHL;PER,135;140;155,PER;BRA;CHL,,Brazil;Chile;Peru,3,,0,2,https://example.net/synthetic/bra-chl-per-2003-07,Synthetic fixture record for tests; not a real agreement.,
deu-nor-1999,Synthetic Test Agreement C,logistics_access,memorandum_of_understanding,1999,year,1999,,,Testburg,NOR,385,Norway,expired,2010-02-01,2000,2000,2009,2009,DEU;NOR,255;385,GMY;NOR,,Germany;Norway,2,"Test-Truck 7 (armoured_vehicle, quantity 12, delivered)",1,2,https://example.org/synthetic/deu-nor,Synthetic fixture record for tests; not a real agreement.,Invented for the test suite.
fra-ind-2001-05-06,Synthetic Test Agreement A,military_technical_cooperation,treaty,2001-05-06,day,2001,5,6,Testville,FRA,220,France,in_force,2002-03-04,2001-09,2001,,,FRA;IND,220;750,FRN;IND,,France;India,2,"Testjet X (combat_aircraft, contracted)",1,2,https://example.org/synthetic/fra-ind,Synthetic fixture record for tests; not a real agreement.,
"""

DYADS = """\
agreement_id,iso3_a,cow_code_a,cow_abbr_a,iso3_b,cow_code_b,cow_abbr_b,signed_year,signed_month,signed_day,agreement_type,instrument,status,n_parties
bra-chl-per-2003-07,BRA,140,BRA,CHL,155,CHL,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,BRA,140,BRA,PER,135,PER,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,CHL,155,CHL,PER,135,PER,2003,7,,training_education,agreement,ratified,3
deu-nor-1999,DEU,255,GMY,NOR,385,NOR,1999,,,logistics_access,memorandum_of_understanding,expired,2
fra-ind-2001-05-06,FRA,220,FRN,IND,750,IND,2001,5,6,military_technical_cooperation,treaty,in_force,2
"""

DYADS_DIRECTED = """\
agreement_id,iso3_a,cow_code_a,cow_abbr_a,iso3_b,cow_code_b,cow_abbr_b,signed_year,signed_month,signed_day,agreement_type,instrument,status,n_parties
bra-chl-per-2003-07,BRA,140,BRA,CHL,155,CHL,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,BRA,140,BRA,PER,135,PER,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,CHL,155,CHL,BRA,140,BRA,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,CHL,155,CHL,PER,135,PER,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,PER,135,PER,BRA,140,BRA,2003,7,,training_education,agreement,ratified,3
bra-chl-per-2003-07,PER,135,PER,CHL,155,CHL,2003,7,,training_education,agreement,ratified,3
deu-nor-1999,DEU,255,GMY,NOR,385,NOR,1999,,,logistics_access,memorandum_of_understanding,expired,2
deu-nor-1999,NOR,385,NOR,DEU,255,GMY,1999,,,logistics_access,memorandum_of_understanding,expired,2
fra-ind-2001-05-06,FRA,220,FRN,IND,750,IND,2001,5,6,military_technical_cooperation,treaty,in_force,2
fra-ind-2001-05-06,IND,750,IND,FRA,220,FRN,2001,5,6,military_technical_cooperation,treaty,in_force,2
"""

HEADER_DY = "iso3_a,cow_code_a,cow_abbr_a,iso3_b,cow_code_b,cow_abbr_b,year,n_agreements,agreement_ids\n"
BC, BP, CP = "BRA,140,BRA,CHL,155,CHL", "BRA,140,BRA,PER,135,PER", "CHL,155,CHL,PER,135,PER"
DN, FI = "DEU,255,GMY,NOR,385,NOR", "FRA,220,FRN,IND,750,IND"
B, D, F = "bra-chl-per-2003-07", "deu-nor-1999", "fra-ind-2001-05-06"

# Default rules: from the signing year; the ratified three-party agreement runs to its status_as_of
# year (2004), the expired one to its end year (2009), the one in force to its status_as_of year (2002).
DYAD_YEARS = HEADER_DY + "".join([
    f"{BC},2003,1,{B}\n", f"{BC},2004,1,{B}\n",
    f"{BP},2003,1,{B}\n", f"{BP},2004,1,{B}\n",
    f"{CP},2003,1,{B}\n", f"{CP},2004,1,{B}\n",
    *[f"{DN},{y},1,{D}\n" for y in range(1999, 2010)],
    f"{FI},2001,1,{F}\n", f"{FI},2002,1,{F}\n",
])


def _text(files: dict[str, bytes], name: str) -> str:
    return files[name].decode("utf-8")


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
    # the three-party agreement gives three rows; party A sorts first by ISO3
    assert (exported / "dyads.csv").read_text(encoding="utf-8") == DYADS


def test_dyads_directed_gives_both_directions(pkg_dir):
    files = render_exports(load_package(pkg_dir), ExportOptions(directed=True))
    assert _text(files, "dyads.csv") == DYADS_DIRECTED
    dy = _text(files, "dyad_years.csv").splitlines()
    assert f"NOR,385,NOR,DEU,255,GMY,1999,1,{D}" in dy and f"{DN},1999,1,{D}" in dy
    assert len(dy) - 1 == 2 * (len(DYAD_YEARS.splitlines()) - 1)
    assert json.loads(files["datapackage.json"])["dca_export_options"]["directed"] is True


def test_dyad_years_default_rules(exported):
    assert (exported / "dyad_years.csv").read_text(encoding="utf-8") == DYAD_YEARS


def test_dyad_years_from_entry_into_force(pkg_dir):
    # deu-nor-1999 entered into force in 2000; fra-ind in 2001-09 (same year as signing);
    # bra-chl-per has no entry into force, so it starts at signing
    files = render_exports(load_package(pkg_dir), ExportOptions(start="entry"))
    expected = HEADER_DY + "".join([
        f"{BC},2003,1,{B}\n", f"{BC},2004,1,{B}\n",
        f"{BP},2003,1,{B}\n", f"{BP},2004,1,{B}\n",
        f"{CP},2003,1,{B}\n", f"{CP},2004,1,{B}\n",
        *[f"{DN},{y},1,{D}\n" for y in range(2000, 2010)],
        f"{FI},2001,1,{F}\n", f"{FI},2002,1,{F}\n",
    ])
    assert _text(files, "dyad_years.csv") == expected


def test_dyad_years_range_is_clipped(pkg_dir):
    files = render_exports(load_package(pkg_dir), ExportOptions(year_from=2002, year_to=2003))
    expected = HEADER_DY + "".join([
        f"{BC},2003,1,{B}\n", f"{BP},2003,1,{B}\n", f"{CP},2003,1,{B}\n",
        f"{DN},2002,1,{D}\n", f"{DN},2003,1,{D}\n",
        f"{FI},2002,1,{F}\n",
    ])
    assert _text(files, "dyad_years.csv") == expected
    # the other tables are not clipped
    assert _text(files, "dyads.csv") == DYADS


def test_dyad_years_counts_agreements_of_the_same_pair(tmp_path):
    pkg = _copy_pkg(tmp_path)
    _append(pkg / "dataset" / "agreements.csv",
            "deu-nor-2005-03,Second synthetic pair agreement,training_education,agreement,2005-03,month,,,in_force,2007-06-30,,,"
            "Synthetic fixture record for tests; not a real agreement.,")
    _append(pkg / "dataset" / "parties.csv", "deu-nor-2005-03,DEU,,")
    _append(pkg / "dataset" / "parties.csv", "deu-nor-2005-03,NOR,,")
    rows = [l for l in _text(render_exports(load_package(pkg)), "dyad_years.csv").splitlines() if l.startswith("DEU,")]
    assert rows == (
        [f"{DN},{y},1,{D}" for y in range(1999, 2005)]
        + [f"{DN},{y},2,deu-nor-1999;deu-nor-2005-03" for y in range(2005, 2008)]
        + [f"{DN},{y},1,{D}" for y in (2008, 2009)]
    )


def test_ended_agreement_without_end_date(tmp_path):
    """No end_on and an ended status: through the year of the status_history step that records the
    status (deu-nor-1999-h1: expired in 2009); without such a step, the start year only."""
    pkg = _copy_pkg(tmp_path)
    _edit_csv(pkg / "dataset" / "agreements.csv", lambda r: {**r, "end_on": ""} if r["agreement_id"] == D else r)
    years = [l.split(",")[6] for l in _text(render_exports(load_package(pkg)), "dyad_years.csv").splitlines() if l.startswith("DEU,")]
    assert years == [str(y) for y in range(1999, 2010)]
    _edit_csv(pkg / "dataset" / "status_history.csv", lambda r: None if r["history_id"] == "deu-nor-1999-h1" else r)
    files = render_exports(load_package(pkg))
    assert [l for l in _text(files, "dyad_years.csv").splitlines() if l.startswith("DEU,")] == [f"{DN},1999,1,{D}"]
    files = render_exports(load_package(pkg), ExportOptions(start="entry"))
    assert [l for l in _text(files, "dyad_years.csv").splitlines() if l.startswith("DEU,")] == [f"{DN},2000,1,{D}"]


def test_announced_and_under_negotiation_are_not_counted(tmp_path):
    pkg = _copy_pkg(tmp_path)
    status = {B: "announced", F: "under_negotiation"}
    _edit_csv(pkg / "dataset" / "agreements.csv", lambda r: {**r, "status": status.get(r["agreement_id"], r["status"])})
    files = render_exports(load_package(pkg))
    assert {l.split(",")[0] for l in _text(files, "dyad_years.csv").splitlines()[1:]} == {"DEU"}
    # they are still agreements and dyads
    assert _text(files, "dyads.csv").count("announced") == 3 and "under_negotiation" in _text(files, "dyads.csv")


@pytest.mark.parametrize("agreement, history, options, expected", [
    ({"status": "in_force", "signed_on": "2001-05-06", "status_as_of": "2002-03-04"}, [], ExportOptions(), (2001, 2002)),
    ({"status": "signed", "signed_on": "2019", "status_as_of": "2019-12-31"}, [], ExportOptions(), (2019, 2019)),
    ({"status": "terminated", "signed_on": "1990", "status_as_of": "2020-01-01", "end_on": "1995-06"}, [], ExportOptions(), (1990, 1995)),
    ({"status": "suspended", "signed_on": "1990", "status_as_of": "2020-01-01"}, [], ExportOptions(), (1990, 1990)),
    ({"status": "suspended", "signed_on": "1990", "status_as_of": "2020-01-01"},
     [{"status_on": "2015-02", "agreement_status": "suspended"}, {"status_on": "2012", "agreement_status": "suspended"},
      {"status_on": "2010", "agreement_status": "suspended", "equipment_id": "x-e1"}], ExportOptions(), (1990, 2012)),
    ({"status": "superseded", "signed_on": "1990", "status_as_of": "2020-01-01"},
     [{"status_on": "2001", "agreement_status": "in_force"}], ExportOptions(), (1990, 1990)),
    # entry into force after the status_as_of year: the start year only
    ({"status": "ratified", "signed_on": "2018", "status_as_of": "2018-10-01", "entry_into_force_on": "2019-01"}, [],
     ExportOptions(start="entry"), (2019, 2019)),
    ({"status": "in_force", "signed_on": "1975", "status_as_of": "2024-01-01"}, [], ExportOptions(year_from=1980, year_to=2025), (1980, 2024)),
    ({"status": "in_force", "signed_on": "1975", "status_as_of": "1978-01-01"}, [], ExportOptions(year_from=1980), None),
    ({"status": "announced", "signed_on": "2020", "status_as_of": "2024-01-01"}, [], ExportOptions(), None),
])
def test_active_years_rules(agreement, history, options, expected):
    assert active_years(agreement, history, options) == expected


def test_empty_cow_code_stays_empty(tmp_path):
    pkg = _copy_pkg(tmp_path)
    _edit_csv(pkg / "dataset" / "countries.csv",
              lambda r: {**r, "cow_code": "", "cow_abbr": ""} if r["iso3"] == "NOR" else r)
    tables = build_tables(load_package(pkg))
    flat = {r["agreement_id"]: r for r in tables["agreements_flat"]}[D]
    assert (flat["parties_iso3"], flat["parties_cow_code"], flat["parties_cow_abbr"], flat["parties_without_cow"]) == \
        ("DEU;NOR", "255", "GMY", "NOR")
    assert flat["venue_country_cow_code"] is None
    dyad = next(r for r in tables["dyads"] if r["agreement_id"] == D)
    assert (dyad["cow_code_b"], dyad["cow_abbr_b"]) == (None, None)
    files = render_exports(load_package(pkg))
    assert f"{D},DEU,255,GMY,NOR,,,1999" in _text(files, "dyads.csv")
    stata = pd.read_stata(io.BytesIO(files["dyads.dta"]))
    row = stata[stata.agreement_id == D].iloc[0]
    assert pd.isna(row.cow_code_b) and row.cow_abbr_b == ""


# --- Parquet and Stata read back ---------------------------------------------------------

def _normalise(df: pd.DataFrame, name: str) -> list[dict]:
    """Rows with None for missing values, ints as int, dates as ISO text: comparable across formats."""
    out = []
    types = {c.name: c.type for c in EXPORTS[name]}
    for rec in df.to_dict("records"):
        row = {}
        for k, v in rec.items():
            if v is None or (not isinstance(v, str) and pd.isna(v)) or v == "":
                row[k] = None
            elif types[k] == "integer":
                assert float(v) == int(v)
                row[k] = int(v)
            elif types[k] == "date":
                row[k] = pd.Timestamp(v).date().isoformat()
            else:
                row[k] = str(v)
        out.append(row)
    return out


@pytest.mark.parametrize("name", list(EXPORTS))
def test_parquet_and_stata_read_back_equal_to_csv(exported, name):
    from_csv = pd.read_csv(exported / f"{name}.csv", dtype=str, keep_default_na=False)
    parquet = pd.read_parquet(exported / f"{name}.parquet")
    stata = pd.read_stata(exported / f"{name}.dta")
    columns = [c.name for c in EXPORTS[name]]
    assert list(from_csv.columns) == list(parquet.columns) == list(stata.columns) == columns
    expected = _normalise(from_csv, name)
    assert len(expected) == {"agreements_flat": 3, "dyads": 5, "dyad_years": 19}[name]
    assert _normalise(parquet, name) == expected
    assert _normalise(stata, name) == expected


def test_parquet_types(exported):
    import pyarrow.parquet as pq

    schema = pq.read_schema(exported / "agreements_flat.parquet")
    assert str(schema.field("signed_month").type) == "int64" and schema.field("signed_month").nullable
    assert str(schema.field("status_as_of").type) == "date32[day]"
    assert str(schema.field("title").type) == "string" and not schema.field("agreement_id").nullable
    month = pd.read_parquet(exported / "agreements_flat.parquet").set_index("agreement_id")["signed_month"]
    assert month[B] == 7 and pd.isna(month[D]) and month[F] == 5


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


def test_long_text_goes_to_strl(tmp_path):
    pkg = _copy_pkg(tmp_path)
    long_note = "Ä long synthetic note. " * 120  # > 2045 bytes in UTF-8
    _edit_csv(pkg / "dataset" / "agreements.csv", lambda r: {**r, "notes": long_note} if r["agreement_id"] == F else r)
    files = render_exports(load_package(pkg))
    df = pd.read_stata(io.BytesIO(files["agreements_flat.dta"]))
    assert df.loc[df.agreement_id == F, "notes"].item() == long_note


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
    assert descriptor["dca_export_options"] == {"directed": False, "start": "signing", "from": None, "to": None}


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


# --- dca build and dca export ----------------------------------------------------------------

def test_build_writes_the_exports_inside_the_atomic_build(pkg_dir, exported, tmp_path):
    out = tmp_path / "build"
    build_package(pkg_dir, out)
    for p in exported.iterdir():
        assert (out / "exports" / p.name).read_bytes() == p.read_bytes(), p.name


def test_cli_export_with_options(pkg_dir, tmp_path):
    out = tmp_path / "x"
    result = runner.invoke(app, ["export", str(pkg_dir), "--out", str(out), "--directed", "--start", "entry",
                                 "--from", "2000", "--to", "2001"])
    assert result.exit_code == 0, result.output
    assert "Wrote 10 files" in result.output
    descriptor = json.loads((out / "datapackage.json").read_text())
    assert descriptor["dca_export_options"] == {"directed": True, "start": "entry", "from": 2000, "to": 2001}
    years = {l.split(",")[6] for l in (out / "dyad_years.csv").read_text().splitlines()[1:]}
    assert years == {"2000", "2001"}
    # a second run replaces the folder
    assert runner.invoke(app, ["export", str(pkg_dir), "--out", str(out)]).exit_code == 0
    assert json.loads((out / "datapackage.json").read_text())["dca_export_options"]["directed"] is False


def test_cli_export_refuses_bad_options_and_foreign_folders(pkg_dir, tmp_path):
    result = runner.invoke(app, ["export", str(pkg_dir), "--out", str(tmp_path / "x"), "--from", "2005", "--to", "2000"])
    assert result.exit_code == 2 and "--from 2005 is after --to 2000" in result.output
    result = runner.invoke(app, ["export", str(pkg_dir), "--start", "ratification"])
    assert result.exit_code == 2
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete")
    result = runner.invoke(app, ["export", str(pkg_dir), "--out", str(precious)])
    assert result.exit_code == 1 and "not an exports folder" in result.output
    assert (precious / "thesis.tex").read_text() == "do not delete"
    with pytest.raises(ExportError):
        ExportOptions(start="never")


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

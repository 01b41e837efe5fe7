"""`dca add` as a contributor meets it: by prompts, from YAML or JSON, and every
refusal leaving the dataset byte for byte as it was."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from schema.tableschema import load_package
from scripts.cli import app
from scripts.country_names import CountryIndex
from scripts.filewrite import Change, ChangedMeanwhile, replace_files
from scripts.record import SECTIONS, new_agreement_id, record_fields
from scripts.template import template
from scripts.validate import validate_package
from tests.packages import ROOT, make_package

runner = CliRunner()
RECORD_FILES = ["agreements.csv", "parties.csv", "sources.csv", "equipment.csv", "status_history.csv"]


def snapshot(pkg: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((pkg / "dataset").iterdir())}


def rows(pkg: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((pkg / "dataset" / name).read_text(encoding="utf-8"), newline="")))


def record(**agreement) -> dict:
    """A complete synthetic record; keyword arguments replace agreement fields."""
    a = {
        "title": "Synthetic Test Agreement D",
        "agreement_type": "procurement",
        "instrument": "contract",
        "signed_on": "2015-06-01",
        "venue_city": "Testopolis",
        "venue_country": "Russia",
        "status": "signed",
        "status_as_of": "2015-06-02",
        "summary": "Synthetic record added by the test suite; not a real agreement.",
    }
    a.update(agreement)
    return {
        "agreement": a,
        "parties": [{"country": "Russian Federation", "signatory_name": "Test Person Three"}, {"country": "PAK"}],
        "sources": [{"url": "https://example.org/synthetic/d", "title": "Synthetic test page D",
                     "source_type": "news", "published_on": "2015-06-02"},
                    {"url": "https://example.net/synthetic/d2", "title": "Synthetic test page D, second origin",
                     "publisher": "Second Synthetic Press", "source_type": "official", "published_on": "2015-06-02"}],
        "equipment": [{"designation": "Test-Copter 9", "category": "helicopter", "supplier": "Russia",
                       "recipient": "Pakistan", "quantity": 4, "status": "contracted", "source": 1}],
        "status_history": [
            {"status_on": "2015-06-01", "agreement_status": "signed", "description": "Synthetic step: signed.", "source": 1},
            {"status_on": "2015-06", "equipment": 1, "equipment_status": "contracted", "description": "Synthetic step: contract.",
             "source": 2},
        ],
    }


def write_yaml(tmp_path: Path, rec: dict, name: str = "record.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(rec, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def add(pkg: Path, *args: str, input: str | None = None):
    return runner.invoke(app, ["add", str(pkg), *args], input=input)


@pytest.fixture
def pkg(tmp_path):
    return make_package(tmp_path / "p")


# --- from a record file ----------------------------------------------------------------


def test_add_from_yaml_writes_every_table_in_canonical_order(pkg, tmp_path):
    result = add(pkg, "--from", str(write_yaml(tmp_path, record())))
    assert result.exit_code == 0, result.output
    assert "Added pak-rus-2015-06-01 (Synthetic Test Agreement D)" in result.output
    assert validate_package(pkg) == []
    assert runner.invoke(app, ["fmt", str(pkg), "--check"]).exit_code == 0

    package = load_package(pkg)
    for name in RECORD_FILES:
        header = (pkg / "dataset" / name).read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(package.resource(name.removesuffix(".csv")).field_names)

    a = {r["agreement_id"]: r for r in rows(pkg, "agreements.csv")}["pak-rus-2015-06-01"]
    assert (a["signed_precision"], a["venue_country_iso3"], a["status"], a["notes"]) == ("day", "RUS", "signed", "")
    parties = [r for r in rows(pkg, "parties.csv") if r["agreement_id"] == "pak-rus-2015-06-01"]
    assert [(p["country_iso3"], p["signatory_name"]) for p in parties] == [("PAK", ""), ("RUS", "Test Person Three")]
    s, s2 = [r for r in rows(pkg, "sources.csv") if r["agreement_id"] == "pak-rus-2015-06-01"]
    assert s["source_id"] == "pak-rus-2015-06-01-s1"
    (e,) = [r for r in rows(pkg, "equipment.csv") if r["agreement_id"] == "pak-rus-2015-06-01"]
    assert (e["equipment_id"], e["supplier_iso3"], e["recipient_iso3"], e["quantity"], e["source_id"]) == (
        "pak-rus-2015-06-01-e1", "RUS", "PAK", "4", "pak-rus-2015-06-01-s1")
    h = [r for r in rows(pkg, "status_history.csv") if r["agreement_id"] == "pak-rus-2015-06-01"]
    assert [(r["history_id"], r["equipment_id"], r["agreement_status"], r["equipment_status"]) for r in h] == [
        ("pak-rus-2015-06-01-h1", "", "signed", ""),
        ("pak-rus-2015-06-01-h2", "pak-rus-2015-06-01-e1", "", "contracted")]
    # the new agreement sorts after the base fixture's three, and nothing else moved
    ids = [r["agreement_id"] for r in rows(pkg, "agreements.csv")]
    assert ids == sorted(ids) and ids[-1] == "pak-rus-2015-06-01"
    assert not list((pkg / "dataset").glob(".dca-tmp-*"))


def test_add_from_json_with_partial_date(pkg, tmp_path):
    rec = record(signed_on="2015-06", status_as_of="2015-07-01", title="Synthetic Test Agreement J")
    path = tmp_path / "record.json"
    path.write_text(json.dumps(rec), encoding="utf-8")
    result = add(pkg, "--from", str(path))
    assert result.exit_code == 0, result.output
    a = {r["agreement_id"]: r for r in rows(pkg, "agreements.csv")}["pak-rus-2015-06"]
    assert (a["signed_on"], a["signed_precision"]) == ("2015-06", "month")


def test_add_from_standard_input(pkg):
    text = yaml.safe_dump(record(), sort_keys=False)
    result = add(pkg, "--from", "-", input=text)
    assert result.exit_code == 0, result.output
    assert "pak-rus-2015-06-01" in {r["agreement_id"] for r in rows(pkg, "agreements.csv")}


def test_yaml_dates_and_numbers_are_read_as_written(pkg, tmp_path):
    path = tmp_path / "r.yaml"
    text = yaml.safe_dump(record(), sort_keys=False).replace("'2015-06-01'", "2015-06-01")
    assert "signed_on: 2015-06-01" in text  # an unquoted YAML date
    path.write_text(text, encoding="utf-8")
    assert add(pkg, "--from", str(path)).exit_code == 0


def test_same_parties_and_date_get_suffix_b(pkg, tmp_path):
    rec = record(title="Synthetic Test Agreement Second", agreement_type="other", signed_on="2001-05-06",
                 status_as_of="2002-01-01", venue_country="")
    rec["parties"] = [{"country": "France"}, {"country": "India"}]
    rec["equipment"], rec["status_history"] = [], []
    result = add(pkg, "--from", str(write_yaml(tmp_path, rec)), "--force", "A second synthetic agreement signed that day")
    assert result.exit_code == 0, result.output
    ids = {r["agreement_id"]: r for r in rows(pkg, "agreements.csv")}
    assert "fra-ind-2001-05-06-b" in ids
    assert ids["fra-ind-2001-05-06-b"]["notes"] == "Not a duplicate of fra-ind-2001-05-06: A second synthetic agreement signed that day."
    assert validate_package(pkg) == []


def test_new_agreement_id_rule():
    assert new_agreement_id(["RUS", "PAK"], "2014-11-20", set()) == "pak-rus-2014-11-20"
    assert new_agreement_id(["USA", "GBR", "AUS"], "2021", set()) == "aus-gbr-usa-2021"
    taken = {"pak-rus-2014-11-20", "pak-rus-2014-11-20-b"}
    assert new_agreement_id(["PAK", "RUS"], "2014-11-20", taken) == "pak-rus-2014-11-20-c"


# --- refusals: a message, exit 1, and the dataset byte-identical --------------------------


def _unknown_country(rec):
    rec["parties"][1]["country"] = "Narnia"


def _ambiguous_country(rec):
    rec["parties"][1]["country"] = "Korea"


def _bad_date(rec):
    rec["agreement"]["signed_on"] = "2015-02-30"


def _bad_month(rec):
    rec["agreement"]["signed_on"] = "2015-13"


def _missing_source(rec):
    rec["sources"] = []
    rec["equipment"], rec["status_history"] = [], []


def _citation_or_url(rec):
    rec["sources"][0]["url"] = ""


def _one_party(rec):
    rec["parties"] = rec["parties"][:1]


def _bad_vocabulary(rec):
    rec["agreement"]["status"] = "in force now"


def _unknown_key(rec):
    rec["agreement"]["signed"] = "2015-06-01"


def _duplicate_by_date(rec):
    rec["agreement"].update(title="Synthetic Test Agreement Near", signed_on="2001-05-20", status_as_of="2001-06-01")
    rec["parties"] = [{"country": "FRA"}, {"country": "IND"}]
    rec["equipment"], rec["status_history"] = [], []


def _duplicate_by_title(rec):
    rec["agreement"]["title"] = "synthetic test agreement c"


def _status_before_signature(rec):  # only the whole-package validation knows this rule
    rec["agreement"]["status_as_of"] = "2015-05-01"


def _future(rec):
    rec["agreement"]["signed_on"] = "2999-01-01"


REFUSALS = [
    (_unknown_country, "party 2, country: 'Narnia' is not a country in dataset/countries.csv"),
    (_ambiguous_country, "'Korea' could be several countries: KOR (South Korea, Korea, Republic of); PRK (North Korea"),
    (_bad_date, "agreement, signed_on: '2015-02-30' is not a date; write YYYY-MM-DD, or YYYY-MM / YYYY"),
    (_bad_month, "agreement, signed_on: '2015-13' is not a date"),
    (_missing_source, "sources: give at least one source"),
    (_citation_or_url, "source 1: give its url or, when it has none, a full bibliographic reference in citation"),
    (_one_party, "parties: an agreement needs at least two state parties; 1 given"),
    (_bad_vocabulary, "agreement, status: 'in force now' is not one of: announced, under_negotiation"),
    (_unknown_key, "agreement: 'signed' is not a field here"),
    (_duplicate_by_date, "fra-ind-2001-05-06: same parties (FRA, IND), signed 14 days apart (2001-05-06 and 2001-05-20)"),
    (_duplicate_by_title, "deu-nor-1999: same title ('Synthetic Test Agreement C')"),
    (_status_before_signature, "record.yaml: agreement, status_as_of: '2015-05-01' is before the signing date '2015-06-01'"),
    (_future, "is in the future"),
]


@pytest.mark.parametrize("change,message", REFUSALS, ids=[c.__name__.strip("_") for c, _ in REFUSALS])
def test_refusals_write_nothing(pkg, tmp_path, change, message):
    before = snapshot(pkg)
    rec = record()
    change(rec)
    result = add(pkg, "--from", str(write_yaml(tmp_path, rec)))
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was written; the dataset is unchanged." in result.output
    assert "Traceback" not in result.output
    assert snapshot(pkg) == before
    assert not list((pkg / "dataset").glob(".dca-tmp-*"))


def test_duplicate_suggests_force_and_force_keeps_the_reason(pkg, tmp_path):
    rec = record()
    _duplicate_by_date(rec)
    path = write_yaml(tmp_path, rec)
    refused = add(pkg, "--from", str(path))
    assert refused.exit_code == 1 and '--force "why it is not a duplicate"' in refused.output
    result = add(pkg, "--from", str(path), "--force", "It is the later protocol, not the 2001 agreement")
    assert result.exit_code == 0, result.output
    a = {r["agreement_id"]: r for r in rows(pkg, "agreements.csv")}["fra-ind-2001-05-20"]
    assert a["notes"] == "Not a duplicate of fra-ind-2001-05-06: It is the later protocol, not the 2001 agreement."


@pytest.mark.parametrize("text,message", [
    ("agreement: [unclosed", "not valid YAML at line 1"),
    ("- just a list", "expected a record with 'agreement', 'parties' and 'sources'"),
    ("agreement:\n  title: x\nparites: []\n", "'parites' is not part of a record"),
])
def test_malformed_record_files_are_explained(pkg, tmp_path, text, message):
    before = snapshot(pkg)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    result = add(pkg, "--from", str(path))
    assert result.exit_code == 1 and message in result.output
    assert snapshot(pkg) == before


def test_norway_problem_is_explained(pkg, tmp_path):
    path = write_yaml(tmp_path, record())
    path.write_text(path.read_text().replace("country: PAK", "country: NO"), encoding="utf-8")
    result = add(pkg, "--from", str(path))
    assert result.exit_code == 1 and 'put the code in quotes (e.g. "NO" for Norway)' in result.output


def test_missing_record_file(pkg, tmp_path):
    result = add(pkg, "--from", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 1 and "nope.yaml: file not found" in result.output


def test_refuses_when_a_table_cannot_be_rewritten_safely(tmp_path):
    pkg = make_package(tmp_path / "p", "unbalanced_quote")
    before = snapshot(pkg)
    result = add(pkg, "--from", str(write_yaml(tmp_path, record())))
    assert result.exit_code == 1
    assert "dataset/parties.csv: the file cannot be read safely" in result.output
    assert snapshot(pkg) == before


def test_files_changed_meanwhile_are_not_overwritten(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_bytes(b"old a\n")
    b.write_bytes(b"old b\n")
    b.write_bytes(b"someone else's edit\n")
    with pytest.raises(ChangedMeanwhile):
        replace_files([Change(a, b"old a\n", b"new a\n"), Change(b, b"old b\n", b"new b\n")])
    assert a.read_bytes() == b"old a\n" and b.read_bytes() == b"someone else's edit\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.csv"]


# --- countries -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def countries():
    return CountryIndex.from_csv(ROOT / "dataset" / "countries.csv")


@pytest.mark.parametrize("query,iso3", [
    ("Russia", "RUS"), ("RUS", "RUS"), ("Russian Federation", "RUS"), ("rus", "RUS"), ("RU", "RUS"),
    ("United Kingdom", "GBR"), ("UK", "GBR"), ("Ivory Coast", "CIV"), ("Cote d'Ivoire", "CIV"),
    ("Burma", "MMR"), ("South Korea", "KOR"), ("Korea, Republic of", "KOR"), ("Guinea", "GIN"), ("Sudan", "SDN"),
])
def test_country_names_and_codes_resolve(countries, query, iso3):
    assert countries.resolve(query).iso3 == iso3


@pytest.mark.parametrize("query,candidates", [("Korea", {"KOR", "PRK"}), ("Congo", {"COD", "COG"}),
                                              ("Virgin Islands", {"VGB", "VIR"})])
def test_shared_names_are_ambiguous(countries, query, candidates):
    r = countries.resolve(query)
    assert r.iso3 is None and r.ambiguous and {c.iso3 for c in r.candidates} == candidates
    assert all(code in r.error() for code in candidates)


def test_unknown_country_suggests(countries):
    r = countries.resolve("Frnace")
    assert r.iso3 is None and not r.ambiguous
    assert "did you mean FRA (France)?" in r.error()


# --- by prompts -------------------------------------------------------------------------

PROMPTED = [
    "Synthetic Test Agreement Prompted",  # title
    "procurment", "7",                    # type: a near miss is explained, then chosen by number
    "contract",                           # instrument by code
    "2015-02-30", "2015-02",              # signing date: a bad date is asked again
    "",                                   # venue city (optional)
    "Korea", "1",                         # venue country: ambiguous, chosen from the list
    "signed",                             # status by code
    "2015-03-01",                         # status known as of
    "", "",                               # entry into force, end date
    "Synthetic record typed at the prompts; not a real agreement.",
    "",                                   # notes
    "Narnia", "Russia", "Test Person Prompted", "",   # party 1 (an unknown name first)
    "Korea", "1", "", "",                 # party 2
    "",                                   # no party 3
    "", "Example, T. Synthetic Prompted Citation. Test Press, 2015.", "Synthetic Prompted Citation", "", "",
    "2015-03", "4", "",                   # source 1: no url, so a citation; published; analysis
    "y",                                  # another source
    "https://example.org/synthetic/prompted", "", "Synthetic Prompted Page", "Second Test Press", "",
    "2015-03-01", "3", "", "",            # source 2: url, no citation, title, publisher; published; news; an independent origin
    "n",                                  # no other source
    "y", "Test-Copter 9", "helicopter", "Russia", "KOR", "4", "contracted", "", "", "1",
    "", "", "", "",                       # condition, deal value, currency, year (optional)
    "n",                                  # no other equipment item
    "y", "1", "2015-02", "contracted", "Synthetic step: contract.", "1",
    "n",                                  # no other step
    "",                                   # the review: the answers are right
    "y",                                  # write
]


def test_add_by_prompts(pkg):
    result = add(pkg, input="\n".join(PROMPTED) + "\n")
    out = result.output
    assert result.exit_code == 0, out
    assert "  7. procurement - purchase or transfer of specific equipment" in out  # vocabulary with definitions
    assert "did you mean 'procurement'?" in out
    assert "Signing date (YYYY-MM-DD, or YYYY-MM / YYYY if only that is known)" in out
    assert "'2015-02-30' is not a date" in out
    assert "'Korea' could be several countries:" in out and "1. KOR (South Korea" in out
    assert "'Narnia' is not a country" in out
    assert "The agreement's id will be: kor-rus-2015-02" in out
    assert "dataset/agreements.csv (1 row)" in out  # the rows are shown before writing
    assert "Added kor-rus-2015-02 (Synthetic Test Agreement Prompted)" in out
    assert validate_package(pkg) == []
    a = {r["agreement_id"]: r for r in rows(pkg, "agreements.csv")}["kor-rus-2015-02"]
    assert (a["agreement_type"], a["signed_precision"], a["venue_country_iso3"], a["status"]) == ("procurement", "month", "KOR", "signed")
    s, s2 = [r for r in rows(pkg, "sources.csv") if r["agreement_id"] == "kor-rus-2015-02"]
    assert (s2["publisher"], s2["reprint_of"]) == ("Second Test Press", "")
    assert (s["url"], s["source_type"], s["published_on"]) == ("", "analysis", "2015-03")
    (h,) = [r for r in rows(pkg, "status_history.csv") if r["agreement_id"] == "kor-rus-2015-02"]
    assert (h["equipment_id"], h["agreement_status"], h["equipment_status"], h["source_id"]) == (
        "kor-rus-2015-02-e1", "", "contracted", "kor-rus-2015-02-s1")


def test_declining_at_the_end_writes_nothing(pkg):
    before = snapshot(pkg)
    result = add(pkg, input="\n".join(PROMPTED[:-1] + ["n"]) + "\n")
    assert result.exit_code == 1 and "Nothing was written" in result.output
    assert snapshot(pkg) == before


def test_stopping_halfway_writes_nothing(pkg):
    before = snapshot(pkg)
    result = add(pkg, input="\n".join(PROMPTED[:12]) + "\n")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert snapshot(pkg) == before


def _prompted_duplicate() -> list[str]:
    lines = list(PROMPTED)
    lines[0] = "Synthetic Test Agreement C"  # the title of deu-nor-1999
    return lines


def test_prompted_duplicate_asks_why_and_keeps_it(pkg):
    lines = _prompted_duplicate()
    lines[-1:] = ["y", "A different synthetic agreement with the same title", "y"]
    result = add(pkg, input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "deu-nor-1999: same title" in result.output
    a = {r["agreement_id"]: r for r in rows(pkg, "agreements.csv")}["kor-rus-2015-02"]
    assert a["notes"] == "Not a duplicate of deu-nor-1999: A different synthetic agreement with the same title."


def test_prompted_duplicate_declined_writes_nothing(pkg):
    before = snapshot(pkg)
    lines = _prompted_duplicate()
    lines[-1:] = ["n"]
    result = add(pkg, input="\n".join(lines) + "\n")
    assert result.exit_code == 1 and "Nothing was written" in result.output
    assert snapshot(pkg) == before


# --- the template --------------------------------------------------------------------


def test_template_is_generated_from_the_schema(pkg):
    result = add(pkg, "--template")
    assert result.exit_code == 0
    text = result.output
    package = load_package(pkg)
    flat = " ".join(re.sub(r"\n\s*#\s*", " ", text).split())  # comments joined across their wrapped lines
    for _, resource, _ in SECTIONS:
        for rf in record_fields(package, resource):
            assert f"{rf.field.title} ({'required' if rf.field.required else 'optional'}" in flat
            for code in rf.field.enum or []:
                assert code in text, f"{resource}.{rf.key}: {code}"
            for code, definition in rf.field.definitions().items():
                assert f"{code}: {definition}" in flat
    data = yaml.safe_load(text)
    assert set(data) == {"agreement", "parties", "sources", "equipment", "status_history"}
    assert "venue_country" in data["agreement"] and "signed_precision" not in data["agreement"]
    assert "agreement_id" not in data["agreement"] and len(data["parties"]) == 2
    assert set(data["equipment"][0]) >= {"supplier", "recipient", "source"}


def test_filled_template_adds_the_record(pkg, tmp_path):
    data = yaml.safe_load(add(pkg, "--template").output)
    data["agreement"].update(record()["agreement"])
    data["parties"][0].update(country="Russia")
    data["parties"][1].update(country="Pakistan")
    data["sources"][0].update(record()["sources"][0])
    data["sources"][1].update(record()["sources"][1])
    result = add(pkg, "--from", str(write_yaml(tmp_path, data)))
    assert result.exit_code == 0, result.output
    assert {r["agreement_id"] for r in rows(pkg, "agreements.csv")} >= {"pak-rus-2015-06-01"}


def test_template_of_the_real_package_lists_its_vocabularies():
    text = template(load_package(ROOT))
    assert "# A defence cooperation agreement for `dca add --from FILE`" in text
    assert "military_technical_cooperation:" in text


def test_add_outside_a_package_is_a_message(tmp_path):
    result = runner.invoke(app, ["add", str(tmp_path), "--template"])
    assert result.exit_code == 2 and "no datapackage.json" in result.output


# --- findings about the record being added are placed in the record ----------------------


def test_from_findings_name_the_place_in_the_record_file(pkg, tmp_path):
    rec = record()
    rec["equipment"][0]["supplier"] = "France"  # a country, but not a party to the agreement
    before = snapshot(pkg)
    result = add(pkg, "--from", str(write_yaml(tmp_path, rec, "my-agreement.yaml")))
    assert result.exit_code == 1
    assert result.output == (
        "Agreement id: pak-rus-2015-06-01\n"
        "The record was not added: with it, the package would have these problems (those of your record named by "
        "section and number, as in the record; any others by file and row, with the new rows in place):\n"
        "my-agreement.yaml (1 problem)\n"
        "  my-agreement.yaml: equipment 1, supplier: the supplier 'FRA' is not a party to 'pak-rus-2015-06-01'; "
        "correct the code, or say why in non_party_reason\n"
        "\n"
        "1 problem in 1 file.\n"
        "Nothing was written; the dataset is unchanged.\n"
    )
    assert snapshot(pkg) == before


@pytest.mark.parametrize("typed, meant", [("MRC", "MAR"), ("Morocco", "MAR"), ("EGT", "EGY"), ("India", "IND"), ("GER", "DEU")])
def test_likely_country_for_a_value_typed_where_a_code_belongs(countries, typed, meant):
    assert [c.iso3 for c in countries.likely(typed)] == [meant]


def test_no_country_is_suggested_when_none_is_likely(countries):
    assert countries.likely("XQZ") == []


def test_deal_value_and_condition_are_recorded_and_checked(pkg, tmp_path):
    rec = record()
    rec["equipment"][0].update(condition="used", value_amount=250000000, value_currency="usd", value_year=2015)
    result = add(pkg, "--from", str(write_yaml(tmp_path, rec)))
    assert result.exit_code == 1 and "'usd' is not an ISO 4217 currency code; did you mean 'USD'?" in result.output
    rec["equipment"][0]["value_currency"] = "USD"
    result = add(pkg, "--from", str(write_yaml(tmp_path, rec)))
    assert result.exit_code == 0, result.output
    (e,) = [r for r in rows(pkg, "equipment.csv") if r["agreement_id"] == "pak-rus-2015-06-01"]
    assert (e["condition"], e["value_amount"], e["value_currency"], e["value_year"]) == ("used", "250000000", "USD", "2015")
    rec["equipment"][0].update(condition="refurbished", value_currency="XYZ")
    result = add(pkg, "--from", str(write_yaml(tmp_path, rec, "other.yaml")))
    assert "'refurbished' is not one of: new, used, upgraded" in result.output
    assert "'XYZ' is not an ISO 4217 currency code" in result.output


def test_prompted_answers_can_be_corrected_before_writing(pkg):
    lines = PROMPTED[:-2] + ["1", "Synthetic Test Agreement Corrected", "99", "", "y"]
    result = add(pkg, input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    assert "   1. Agreement: title: Synthetic Test Agreement Prompted" in result.output
    assert "   1. Agreement: title: Synthetic Test Agreement Corrected" in result.output
    assert "Type one of the numbers 1-" in result.output  # 99 is explained, not a crash
    a = {r["agreement_id"]: r for r in rows(pkg, "agreements.csv")}["kor-rus-2015-02"]
    assert a["title"] == "Synthetic Test Agreement Corrected"


def test_url_question_says_a_reference_is_asked_when_there_is_none(pkg):
    result = add(pkg, input="\n".join(PROMPTED) + "\n")
    assert "URL (starting with https:// or http://) [Enter if it has none; a full reference is asked next]" in result.output

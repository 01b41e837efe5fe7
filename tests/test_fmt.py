"""`dca fmt` and the pull-request checks built on it: canonical form, lossless
rewriting, the `not-canonical` finding of `dca validate`, GitHub annotations on the
exact CSV line, and the workflow and templates contributors meet on GitHub."""
from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import polars as pl
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from schema.tableschema import load_package
from scripts.canonical import WHITESPACE, canonical_bytes, describe_difference, parse_for_rewrite, same_rows
from scripts.cli import app
from scripts.findings import Finding, render_github
from scripts.fmt import format_package
from scripts.validate import validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import BASE, ROOT, make_package

runner = CliRunner()
CONTRIB = Path(__file__).resolve().parent / "fixtures_contrib"
RECORD_FILES = ["agreements.csv", "parties.csv", "sources.csv", "equipment.csv", "status_history.csv"]
PARTIES = load_package(ROOT).resource("parties")


def snapshot(pkg: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((pkg / "dataset").iterdir())}


def fmt(pkg: Path, *args: str):
    return runner.invoke(app, ["fmt", str(pkg), *args])


# --- dca fmt ---------------------------------------------------------------------------


def test_shuffled_rows_are_put_back_in_canonical_order(tmp_path):
    pkg = make_package(tmp_path / "p", "shuffled")
    check = fmt(pkg, "--check")
    assert check.exit_code == 1
    for name in RECORD_FILES:
        assert f"would reformat dataset/{name}" in check.output
    assert "the rows are not in order of agreement_id, country_iso3" in check.output
    result = fmt(pkg)
    assert result.exit_code == 0, result.output
    assert "5 files rewritten in canonical form." in result.output
    for name in RECORD_FILES:
        assert (pkg / "dataset" / name).read_bytes() == (BASE / name).read_bytes(), name
    assert validate_package(pkg, FIXED_TODAY) == []


def test_messy_files_become_the_canonical_base_bytes(tmp_path):
    """Reordered columns, CRLF, BOM, blank lines, spaces around codes, no final newline."""
    pkg = make_package(tmp_path / "p")
    for f in (CONTRIB / "messy").glob("*.csv"):
        shutil.copy2(f, pkg / "dataset" / f.name)
    out = fmt(pkg, "--check").output
    assert "dataset/parties.csv (first difference at line 1: the columns are not in the schema's order)" in out
    assert "dataset/sources.csv (first difference at line 1: lines end in CRLF (Windows line endings))" in out
    assert "dataset/equipment.csv (first difference at line 1: the file starts with a byte-order mark (BOM))" in out
    assert "dataset/status_history.csv (first difference at line 2: there is a blank line or an empty row here)" in out
    assert fmt(pkg).exit_code == 0
    for name in RECORD_FILES:
        assert (pkg / "dataset" / name).read_bytes() == (BASE / name).read_bytes(), name


def test_fmt_is_idempotent(tmp_path):
    pkg = make_package(tmp_path / "p", "shuffled")
    assert fmt(pkg).exit_code == 0
    once = snapshot(pkg)
    again = fmt(pkg)
    assert again.exit_code == 0 and "All 6 files were already in canonical form." in again.output
    assert snapshot(pkg) == once
    assert fmt(pkg, "--check").exit_code == 0


def test_check_changes_nothing(tmp_path):
    pkg = make_package(tmp_path / "p", "not_canonical")
    before = snapshot(pkg)
    result = fmt(pkg, "--check")
    assert result.exit_code == 1
    assert "3 files not in canonical form; run `dca fmt` to rewrite them" in result.output
    assert "dataset/agreements.csv (first difference at line 3: a value is quoted where no quotes are needed)" in result.output
    assert "dataset/sources.csv (first difference at line 4: a value has spaces at its start or end)" in result.output
    assert "dataset/equipment.csv (first difference at line 3: the last line has no line break at its end)" in result.output
    assert snapshot(pkg) == before


@pytest.mark.parametrize("case,file,reason", [
    ("extra_column", "parties.csv", "column 'role' is not in the schema; `dca fmt` never drops data"),
    ("misspelt_column", "equipment.csv", "column 'catgory' is not in the schema"),
    ("missing_column", "parties.csv", "column 'signatory_title' is missing from the header"),
    ("unbalanced_quote", "parties.csv", "a quote (\") is probably never closed"),
    ("not_utf8", "parties.csv", "line 6 holds bytes that are not UTF-8"),
    ("empty_file", "parties.csv", "the file is empty"),
    ("missing_file", "equipment.csv", "file not found"),
])
def test_unsafe_files_are_left_alone_with_the_reason(tmp_path, case, file, reason):
    pkg = make_package(tmp_path / "p", case)
    before = snapshot(pkg)
    for args in ([], ["--check"]):
        result = fmt(pkg, *args)
        assert result.exit_code == 1
        assert f"left alone dataset/{file}: " in result.output and reason in result.output
        assert snapshot(pkg) == before


def test_fixable_reading_problems_are_fixed(tmp_path):
    for case in ("blank_lines", "crlf_line_endings", "byte_order_mark"):
        pkg = make_package(tmp_path / case, case)
        assert fmt(pkg).exit_code == 0
        assert validate_package(pkg, FIXED_TODAY) == [], case


def test_the_committed_dataset_is_canonical():
    result = fmt(ROOT, "--check")
    assert result.exit_code == 0, result.output


# --- the canonical form itself ------------------------------------------------------------

cell = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
row = st.lists(cell, min_size=4, max_size=4)


def _frame(rows: list[list[str]]) -> pl.DataFrame:
    names = PARTIES.field_names
    return pl.DataFrame({n: [r[i] for r in rows] for i, n in enumerate(names)}, schema={n: pl.Utf8 for n in names})


def _expected(rows: list[list[str]]) -> bytes:
    """The canonical form spelled out with the csv module (QUOTE_MINIMAL, LF)."""
    clean = [[c.replace("\r\n", "\n").strip(WHITESPACE) for c in r] for r in rows]
    clean = [r for r in clean if any(r)]
    clean.sort(key=lambda r: (r[0], r[1]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(PARTIES.field_names)
    w.writerows(clean)
    return buf.getvalue().encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.lists(cell.filter(lambda c: "\r" not in c), min_size=4, max_size=4), max_size=8))
def test_canonical_form_is_csv_quote_minimal_sorted_and_trimmed(rows):
    assert canonical_bytes(_frame(rows), PARTIES) == _expected(rows)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, max_size=8))
def test_rewriting_is_lossless_and_stable(rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_ALL).writerows([PARTIES.field_names, *rows])
    parsed = parse_for_rewrite(buf.getvalue().encode("utf-8"), PARTIES)
    assert parsed.frame is not None, parsed.problem
    out = canonical_bytes(parsed.frame, PARTIES)
    back = parse_for_rewrite(out, PARTIES)
    assert back.frame is not None and same_rows(parsed.frame, back.frame, PARTIES)
    assert canonical_bytes(back.frame, PARTIES) == out


def test_a_bare_carriage_return_in_a_cell_is_quoted():
    out = canonical_bytes(_frame([["a\rb", "X", "", ""]]), PARTIES)
    assert out.endswith(b'"a\rb",X,,\n')


def test_dates_keep_their_precision(tmp_path):
    pkg = make_package(tmp_path / "p")
    assert fmt(pkg).exit_code == 0
    text = (pkg / "dataset" / "agreements.csv").read_text(encoding="utf-8")
    assert "bra-chl-per-2003-07,Synthetic Test Agreement B (three parties),training_education,agreement,2003-07,month," in text
    assert ",1999,year," in text


def test_describing_a_difference_survives_odd_cells():
    old = b'agreement_id,country_iso3,signatory_name,signatory_title\nb,X,"a\rb ",\na,Y,,\n'
    new = canonical_bytes(parse_for_rewrite(old, PARTIES).frame, PARTIES)
    assert describe_difference(old, new, PARTIES) == (2, "the rows are not in order of agreement_id, country_iso3")


_TEMPLATE = make_package(Path(tempfile.mkdtemp(prefix="dca-fmt-prop-")) / "pkg")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(RECORD_FILES), row=st.integers(0, 3), col=st.integers(0, 12), value=st.text(max_size=20))
def test_after_fmt_validate_never_says_not_canonical(file, row, col, value):
    """fmt and validate's check agree on what canonical is, whatever a cell holds."""
    pkg = Path(tempfile.mkdtemp(prefix="dca-fmt-case-")) / "pkg"
    shutil.copytree(_TEMPLATE, pkg)
    path = pkg / "dataset" / file
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    r = rows[1 + row % (len(rows) - 1)]
    r[col % len(r)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    results = {r.file: r for r in format_package(pkg, write=True)}
    if results[f"dataset/{file}"].status != "refused":
        assert [f for f in validate_package(pkg, FIXED_TODAY) if f.code == "not-canonical"] == []
        assert all(r.status == "unchanged" for r in format_package(pkg, write=False))
    shutil.rmtree(pkg.parent, ignore_errors=True)


# --- dca validate includes the check ------------------------------------------------------


def test_validate_reports_not_canonical_files(tmp_path):
    pkg = make_package(tmp_path / "p", "shuffled")
    result = runner.invoke(app, ["validate", str(pkg)])
    assert result.exit_code == 1
    assert ("dataset/parties.csv:2: is not in canonical form from here on "
            "(the rows are not in order of agreement_id, country_iso3); run `dca fmt` to rewrite it") in result.output
    assert fmt(pkg).exit_code == 0
    assert runner.invoke(app, ["validate", str(pkg)]).exit_code == 0


def test_not_canonical_finding_points_at_the_physical_line(tmp_path):
    """A cell that spans lines makes row and line differ; the finding gives both."""
    pkg = make_package(tmp_path / "p")
    path = pkg / "dataset" / "sources.csv"
    text = path.read_text(encoding="utf-8").replace("Test Press, 2004, pp. 1-2.", "Test Press,\n2004, pp. 1-2.")
    text = text.replace(",Synthetic test page C,", ", Synthetic test page C,")
    path.write_text(text, encoding="utf-8")
    (f,) = [f for f in validate_package(pkg, FIXED_TODAY) if f.code == "not-canonical"]
    assert (f.file, f.row, f.line) == ("dataset/sources.csv", 4, 5)


# --- GitHub annotations -----------------------------------------------------------------


def test_github_annotations_sit_on_the_exact_csv_line(tmp_path):
    pkg = make_package(tmp_path / "p")
    path = pkg / "dataset" / "sources.csv"
    text = path.read_text(encoding="utf-8").replace("Test Press, 2004, pp. 1-2.", "Test Press,\n2004, pp. 1-2.")
    path.write_text(text.replace(",news,everything", ",newz,everything"), encoding="utf-8")
    result = runner.invoke(app, ["validate", str(pkg), "--format", "github"])
    assert result.exit_code == 1
    errors = [l for l in result.output.splitlines() if l.startswith("::error ")]
    assert errors == ["::error file=dataset/sources.csv,line=5,title=source_type::dataset/sources.csv:4: source_type: "
                      "'newz' is not allowed; expected one of: official, treaty_text, news, analysis, database; did you mean 'news'?"]
    assert result.output.rstrip().endswith("1 problem found.")


def test_github_annotation_for_a_not_canonical_file(tmp_path):
    pkg = make_package(tmp_path / "p", "shuffled")
    out = runner.invoke(app, ["validate", str(pkg), "--format", "github"]).output
    assert ("::error file=dataset/agreements.csv,line=2,title=not-canonical::dataset/agreements.csv:2: "
            "is not in canonical form from here on (the rows are not in order of agreement_id); run `dca fmt` to rewrite it") in out


def test_github_annotation_escapes_what_would_break_the_command():
    f = Finding("dataset/parties.csv", None, "a,b:c", "100% wrong\nsecond line", "type-error")
    line = render_github([f]).splitlines()[0]
    assert line == "::error file=dataset/parties.csv,title=a%2Cb%3Ac::dataset/parties.csv: a,b:c: 100%25 wrong%0Asecond line"


# --- the pull-request checks and templates -----------------------------------------------

GITHUB = ROOT / ".github"


def _steps():
    wf = yaml.safe_load((GITHUB / "workflows" / "validate.yml").read_text(encoding="utf-8"))
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    return wf, on, wf["jobs"]["validate"]["steps"]


def test_workflow_runs_every_check_on_pull_requests_and_pushes():
    wf, on, steps = _steps()
    assert "pull_request" in on and "push" in on
    assert wf["permissions"] == {"contents": "read"}
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("actions/checkout@") for u in uses)
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # dca diff needs the base branch's history
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert python["with"]["python-version"] == "3.11"
    runs = {s["name"]: s.get("run", "") for s in steps if "name" in s}
    assert runs["Install"] == "make install"
    assert runs["Canonical form (dca fmt --check)"] == ".venv/bin/dca fmt --check"
    assert runs["Validate (dca validate --format github)"] == ".venv/bin/dca validate --format github"
    assert runs["Test suite (make test)"] == "make test"  # the same command a contributor runs
    # PostgreSQL is there, so the PostgreSQL tests run instead of skipping
    job = wf["jobs"]["validate"]
    assert job["services"]["postgres"]["image"].startswith("postgres:")
    url = job["env"]["TEST_DATABASE_URL"]
    pg = job["services"]["postgres"]["env"]
    assert url == f"postgresql://{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@localhost:5432/{pg['POSTGRES_DB']}"
    assert "5432:5432" in job["services"]["postgres"]["ports"]
    # a data pull request is never held to the committed generated files
    assert not any(w in s.get("run", "") for s in steps for w in ("codebook", "coverage"))
    summary = runs["Dataset changes (dca diff, in the job summary)"]
    assert '.venv/bin/dca diff ${base:+"$base"} >> "$GITHUB_STEP_SUMMARY"' in summary
    # every check reports even when an earlier one failed
    for s in steps[3:]:
        assert "!cancelled()" in s["if"]


def test_workflow_commands_exist():
    _, _, steps = _steps()
    used = [s["run"].split(".venv/bin/dca ", 1)[1].split()[0] for s in steps if ".venv/bin/dca " in s.get("run", "")]
    assert used == ["fmt", "validate", "diff"]
    for sub in used:
        assert runner.invoke(app, [sub, "--help"]).exit_code == 0, sub


def test_issue_templates_and_pull_request_template():
    forms = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8")) for p in (GITHUB / "ISSUE_TEMPLATE").glob("*.yml")}
    assert {"new-agreement", "correction", "new-field"} <= set(forms)
    for name in ("new-agreement", "correction", "new-field"):
        form = forms[name]
        assert form["name"] and form["description"] and form["body"]
        ids = [item["id"] for item in form["body"] if "id" in item]
        assert len(ids) == len(set(ids)), name
    pr = (GITHUB / "PULL_REQUEST_TEMPLATE.md").read_text(encoding="utf-8")
    assert "dca diff" in pr and "dca validate" in pr and "source" in pr


def test_issue_form_vocabularies_match_the_schema():
    """The dropdowns are the only place a vocabulary is copied; this keeps them in step."""
    pkg = load_package(ROOT)
    form = yaml.safe_load((GITHUB / "ISSUE_TEMPLATE" / "new-agreement.yml").read_text(encoding="utf-8"))
    dropdowns = {i["id"]: i["attributes"]["options"] for i in form["body"] if i["type"] == "dropdown"}
    agreements = pkg.resource("agreements")
    assert dropdowns["agreement_type"] == agreements.field("agreement_type").enum + ["not sure"]
    assert dropdowns["status"] == agreements.field("status").enum + ["not sure"]
    tables = [r.name for r in pkg.resources if r.name != "countries"]
    for name in ("correction", "new-field"):
        form = yaml.safe_load((GITHUB / "ISSUE_TEMPLATE" / f"{name}.yml").read_text(encoding="utf-8"))
        (table,) = [i for i in form["body"] if i.get("id") == "table"]
        assert [o for o in table["attributes"]["options"] if o != "not sure"] == tables


def test_contributing_covers_what_the_issue_asks():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for heading in ("## Adding an agreement with `dca add`", "## Adding an agreement by editing the CSV files",
                    "## What counts as a source", "## Recording uncertainty", "## The id rules",
                    "## How to correct a record", "## How a pull request is reviewed"):
        assert heading in text
    for command in ("dca add --template", "dca add --from", "--force", "dca fmt", "dca validate", "dca diff"):
        assert command in text

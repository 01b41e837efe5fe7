"""`dca diff` on a temporary git repository with known changes: what a reviewer
reads in the pull request, and what a machine reads."""
from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scripts.cli import app
from tests.packages import make_package

runner = CliRunner()


@pytest.fixture(autouse=True)
def git_env(monkeypatch, tmp_path):
    """A git that ignores the machine's configuration and works as root in CI."""
    home = tmp_path / "home"
    home.mkdir()
    for k, v in {"HOME": str(home), "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1",
                 "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.org",
                 "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.org"}.items():
        monkeypatch.setenv(k, v)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    pkg = make_package(tmp_path / "repo")
    git(pkg, "init", "-q", "-b", "main")
    commit_all(pkg, "base")
    return pkg


def edit(pkg: Path, name: str, fn) -> None:
    """Apply fn to the rows of a CSV file (as dicts) and write it back in canonical form."""
    path = pkg / "dataset" / name
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    fields = reader.fieldnames
    rows = fn(list(reader))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def change(rows, key, value, **fields):
    for r in rows:
        if r[key] == value:
            r.update(fields)
    return rows


NEW_AGREEMENT = {"agreement_id": "ind-rus-2012-12", "title": "Synthetic Test Agreement E", "agreement_type": "procurement",
                 "instrument": "contract", "signed_on": "2012-12", "signed_precision": "month", "venue_city": "", "venue_country_iso3": "",
                 "status": "signed", "status_as_of": "2013-01-01", "entry_into_force_on": "", "end_on": "",
                 "summary": "Synthetic record for the diff test; not real.", "notes": ""}


def make_known_changes(pkg: Path) -> None:
    # changed: a field of an agreement, a source added to it, an equipment quantity
    edit(pkg, "agreements.csv", lambda rows: change(rows, "agreement_id", "fra-ind-2001-05-06", status="expired", end_on="2010"))
    edit(pkg, "sources.csv", lambda rows: rows + [{
        "source_id": "fra-ind-2001-05-06-s3", "agreement_id": "fra-ind-2001-05-06", "url": "https://example.org/synthetic/fra-ind-2",
        "citation": "", "title": "Synthetic test page A2", "publisher": "", "author": "", "published_on": "2010",
        "source_type": "news", "supports": "end", "reprint_of": ""}])
    edit(pkg, "equipment.csv", lambda rows: change(rows, "equipment_id", "deu-nor-1999-e1", quantity="14"))
    # removed: an agreement with its parties and source
    gone = "bra-chl-per-2003-07"
    for name in ("agreements.csv", "parties.csv", "sources.csv"):
        edit(pkg, name, lambda rows: [r for r in rows if r["agreement_id"] != gone])
    # added: an agreement with its parties and a source
    edit(pkg, "agreements.csv", lambda rows: sorted(rows + [NEW_AGREEMENT], key=lambda r: r["agreement_id"]))
    edit(pkg, "parties.csv", lambda rows: rows + [{"agreement_id": "ind-rus-2012-12", "country_iso3": c, "signatory_name": "",
                                                   "signatory_title": ""} for c in ("IND", "RUS")])
    edit(pkg, "sources.csv", lambda rows: rows + [{
        "source_id": "ind-rus-2012-12-s1", "agreement_id": "ind-rus-2012-12", "url": "https://example.org/synthetic/ind-rus",
        "citation": "", "title": "Synthetic test page E", "publisher": "", "author": "", "published_on": "2013",
        "source_type": "news", "supports": "", "reprint_of": ""}])
    # and a reordering, which is not a change
    edit(pkg, "parties.csv", lambda rows: list(reversed(rows)))


def diff(pkg: Path, *args: str):
    return runner.invoke(app, ["diff", *args, "--package", str(pkg)])


def test_markdown_summary_of_known_changes(repo):
    make_known_changes(repo)
    result = diff(repo)
    assert result.exit_code == 0, result.output
    md = result.output
    assert md.startswith("## Dataset changes since the merge base with main (`")
    assert "**1 agreement added, 1 removed, 2 changed.**" in md
    assert ("### Added\n- `ind-rus-2012-12` Synthetic Test Agreement E (with 2 parties, 1 source)\n"
            "  - type procurement (contract); signed 2012-12 (month); status signed as of 2013-01-01; parties IND; RUS\n") in md
    assert "### Removed\n- `bra-chl-per-2003-07` Synthetic Test Agreement B (three parties) (with 3 parties, 2 sources)" in md
    assert "#### `fra-ind-2001-05-06` Synthetic Test Agreement A" in md
    assert "- `fra-ind-2001-05-06`: status in_force → expired" in md
    assert "- `fra-ind-2001-05-06`: end_on (empty) → 2010" in md
    assert "- source `fra-ind-2001-05-06-s3` added: Synthetic test page A2 - https://example.org/synthetic/fra-ind-2" in md
    assert "#### `deu-nor-1999` Synthetic Test Agreement C\n- equipment item `deu-nor-1999-e1`: quantity 12 → 14" in md
    assert "party" not in md.split("### Changed")[1]  # reversing parties.csv changed nothing


def test_json_has_every_old_and_new_value(repo):
    make_known_changes(repo)
    result = diff(repo, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["base"]["commit"] == git(repo, "rev-parse", "HEAD") and data["base"]["merge_base"] is True
    assert data["target"] == "working tree"
    assert (data["summary"]["agreements_added"], data["summary"]["agreements_removed"], data["summary"]["agreements_changed"]) == (1, 1, 2)
    assert data["summary"]["rows"]["parties"] == {"added": 2, "removed": 3, "changed": 0}
    by_id = {a["agreement_id"]: a for a in data["agreements"]}
    assert by_id["ind-rus-2012-12"]["change"] == "added"
    assert by_id["bra-chl-per-2003-07"]["change"] == "removed"
    fra = by_id["fra-ind-2001-05-06"]
    own = next(r for r in fra["rows"] if r["resource"] == "agreements")
    assert own["fields"] == {"status": {"old": "in_force", "new": "expired"}, "end_on": {"old": "", "new": "2010"}}
    added = next(r for r in fra["rows"] if r["resource"] == "sources")
    assert added["change"] == "added" and added["row"]["title"] == "Synthetic test page A2"
    (eq,) = by_id["deu-nor-1999"]["rows"]
    assert eq["key"] == {"equipment_id": "deu-nor-1999-e1"} and eq["fields"] == {"quantity": {"old": "12", "new": "14"}}


def test_default_base_is_the_merge_base_with_main(repo):
    git(repo, "checkout", "-q", "-b", "feature")
    edit(repo, "agreements.csv", lambda rows: change(rows, "agreement_id", "deu-nor-1999", venue_city="Testhaven"))
    commit_all(repo, "committed on the branch")
    git(repo, "checkout", "-q", "main")
    edit(repo, "equipment.csv", lambda rows: change(rows, "equipment_id", "deu-nor-1999-e1", note="main moved on"))
    commit_all(repo, "main moves on")
    git(repo, "checkout", "-q", "feature")
    edit(repo, "agreements.csv", lambda rows: change(rows, "agreement_id", "deu-nor-1999", status="terminated"))  # uncommitted
    md = diff(repo).output
    assert "- `deu-nor-1999`: venue_city Testburg → Testhaven" in md  # committed on the branch
    assert "- `deu-nor-1999`: status expired → terminated" in md  # not committed yet
    assert "main moved on" not in md  # main's own later change is not the branch's
    assert "**0 agreements added, 0 removed, 1 changed.**" in md


def test_explicit_base_revision(repo):
    edit(repo, "agreements.csv", lambda rows: change(rows, "agreement_id", "deu-nor-1999", venue_city="Testhaven"))
    commit_all(repo, "second")
    assert "No changes to the dataset." in diff(repo).output  # HEAD is main itself
    md = diff(repo, "HEAD~1").output
    assert "since `HEAD~1`" in md and "venue_city Testburg → Testhaven" in md


def test_formatting_alone_is_no_change(repo):
    path = repo / "dataset" / "sources.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\r\n".join([lines[0], *reversed(lines[1:])]) + "\r\n", encoding="utf-8")
    md = diff(repo).output
    assert "No changes to the dataset." in md


def test_no_main_branch_falls_back_to_head(tmp_path):
    pkg = make_package(tmp_path / "trunk")
    git(pkg, "init", "-q", "-b", "trunk")
    commit_all(pkg, "base")
    edit(pkg, "agreements.csv", lambda rows: change(rows, "agreement_id", "deu-nor-1999", status="terminated"))
    md = diff(pkg).output
    assert "since `HEAD`" in md and "status expired → terminated" in md


@pytest.mark.parametrize("setup,message", [
    ("plain", "is not in a git repository"),
    ("empty", "the repository has no commit yet"),
    ("unknown", "unknown revision 'no-such-branch'"),
])
def test_errors_are_messages(tmp_path, setup, message):
    pkg = make_package(tmp_path / "p")
    args: list[str] = []
    if setup != "plain":
        git(pkg, "init", "-q", "-b", "main")
    if setup == "unknown":
        commit_all(pkg, "base")
        args = ["no-such-branch"]
    result = diff(pkg, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_without_git_installed(repo, monkeypatch, tmp_path):
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = diff(repo)
    assert result.exit_code == 2 and "git is not installed" in result.output

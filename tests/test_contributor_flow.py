"""The contributor's path of CONTRIBUTING.md, walked on a clean clone: add a record with
`dca add --from`, commit `dataset/` and nothing else, run the pull-request checks, get green;
and two data branches in flight at once merge without a conflict."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from scripts.cli import app
from tests.packages import ROOT

runner = CliRunner()
GIT_ENV = {"GIT_AUTHOR_NAME": "Test Contributor", "GIT_AUTHOR_EMAIL": "test@example.org",
           "GIT_COMMITTER_NAME": "Test Contributor", "GIT_COMMITTER_EMAIL": "test@example.org"}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True)
    assert out.returncode == 0, f"git {' '.join(args)}: {out.stdout}{out.stderr}"
    return out.stdout


@pytest.fixture
def clone(tmp_path) -> Path:
    """A clean clone of this repository's committed HEAD, with local edits of the committed
    package files carried over so the test sees the code under test."""
    repo = tmp_path / "dca"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(repo)], check=True, capture_output=True)
    git(repo, "switch", "-q", "-C", "main")
    return repo


def synthetic_record(title: str, parties: list[str], signed_on: str, n: int) -> dict:
    return {
        "agreement": {"title": title, "agreement_type": "training_education", "instrument": "memorandum_of_understanding",
                      "signed_on": signed_on, "status": "signed", "status_as_of": signed_on,
                      "summary": "Synthetic record written by the test suite; not a real agreement."},
        "parties": [{"country": c} for c in parties],
        "sources": [{"url": f"https://example.org/synthetic/flow-{n}", "title": f"Synthetic flow page {n}",
                     "publisher": "Synthetic Ministry Press", "source_type": "official", "published_on": signed_on},
                    {"url": f"https://example.net/synthetic/flow-{n}", "title": f"Synthetic flow report {n}",
                     "publisher": "Synthetic News Agency", "source_type": "news", "published_on": signed_on}],
        "equipment": [{"designation": f"Test-Trainer {n}", "category": "transport_aircraft", "supplier": parties[0],
                       "recipient": parties[1], "status": "contracted", "condition": "used", "value_amount": 1000000,
                       "value_currency": "EUR", "value_year": int(signed_on[:4]), "source": 1}],
    }


def contribute(repo: Path, branch: str, rec: dict, start: str = "main") -> None:
    """What the guide says: a branch, `dca add --from`, `git add dataset/`, commit."""
    git(repo, "switch", "-q", "-c", branch, start)
    path = repo.parent / f"{branch}.yaml"
    path.write_text(yaml.safe_dump(rec, sort_keys=False), encoding="utf-8")
    result = runner.invoke(app, ["add", str(repo), "--from", str(path)])
    assert result.exit_code == 0, result.output
    git(repo, "add", "dataset/")
    git(repo, "commit", "-q", "-m", f"Add {rec['agreement']['title']}")
    assert git(repo, "status", "--porcelain") == ""  # nothing else the contributor had to touch


def pr_checks(repo: Path) -> None:
    """The pull-request workflow's checks: canonical form, validation, and the tests that read
    the committed package (run from the clone, on the clone's own files)."""
    fmt = runner.invoke(app, ["fmt", str(repo), "--check"])
    assert fmt.exit_code == 0, fmt.output
    val = runner.invoke(app, ["validate", str(repo)])
    assert val.exit_code == 0, val.output
    tests = ["tests/test_dataset_content.py", "tests/test_codebook.py", "tests/test_schema_consistency.py"]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests], cwd=repo,
                         env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_walking_the_guide_on_a_clean_clone_is_green(clone):
    contribute(clone, "add-my-agreement", synthetic_record("Synthetic Flow Agreement A", ["Morocco", "Egypt"], "2023-05-04", 1))
    changed = git(clone, "diff", "--name-only", "main", "add-my-agreement").split()
    assert changed and all(p.startswith("dataset/") for p in changed), changed
    pr_checks(clone)


def test_two_data_branches_in_flight_merge_without_conflict(clone):
    # Neighbouring ids on purpose (are-fra-2010-01-04 and -05, both before are-fra-2021-12-03): both branches add rows
    # at the same place in every file.
    contribute(clone, "add-a", synthetic_record("Synthetic Flow Agreement B", ["FRA", "ARE"], "2010-01-05", 2))
    contribute(clone, "add-b", synthetic_record("Synthetic Flow Agreement C", ["FRA", "ARE"], "2010-01-04", 3))
    git(clone, "switch", "-q", "main")
    git(clone, "merge", "-q", "--no-edit", "add-a")
    git(clone, "merge", "-q", "--no-edit", "add-b")  # asserts no conflict
    # after the merge, what .github/workflows/regenerate.yml does on main
    assert runner.invoke(app, ["fmt", str(clone)]).exit_code == 0
    assert runner.invoke(app, ["validate", str(clone)]).exit_code == 0
    ids = (clone / "dataset" / "agreements.csv").read_text(encoding="utf-8")
    assert "are-fra-2010-01-04," in ids and "are-fra-2010-01-05," in ids
    pr_checks(clone)

"""Hostile input to `dca validate`: malformed descriptors and schemas, errors the
reference validator rejects, thousands of repeated keys, files that never end.
Each is a finding that names a file, never a traceback or a hang."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import frictionless
import pytest
from typer.testing import CliRunner

from scripts import safe_read
from scripts.cli import app
from scripts.findings import problems, render_text
from scripts.validate import DUPLICATES_SHOWN, validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import ROOT, make_package

runner = CliRunner()


def _agreements(d):
    return next(r for r in d["resources"] if r["name"] == "agreements")


def _edit_descriptor(pkg: Path, edit) -> None:
    path = pkg / "datapackage.json"
    d = json.loads(path.read_text())
    edit(d)
    path.write_text(json.dumps(d))


def _edit_schema(pkg: Path, name: str, edit) -> None:
    path = pkg / "schema" / f"{name}.schema.json"
    s = json.loads(path.read_text())
    edit(s)
    path.write_text(json.dumps(s))


def _reference_rejects(pkg: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return not frictionless.validate(str(pkg / "datapackage.json")).valid
        except Exception:  # it crashes on a bad regex, for one
            return True


# --- item 6: tracebacks --------------------------------------------------------------

def _dup_field(s):
    s["fields"][1] = copy.deepcopy(s["fields"][0])


SHAPES = {
    "path given as a list": (lambda d: _agreements(d).update(path=["dataset/agreements.csv", "dataset/agreements.csv"]), None,
                             "datapackage.json", "'path' must be one file name"),
    "inline empty schema": (lambda d: _agreements(d).update(schema={}), None, "datapackage.json", "'fields' is a required property"),
    "fields is a string": (None, lambda s: s.update(fields="x"), "schema/agreements.schema.json", "'x' is not of type 'array'"),
    "two fields with one name": (None, _dup_field, "schema/agreements.schema.json", "names of the fields are not unique"),
}


@pytest.mark.parametrize("case", sorted(SHAPES))
def test_malformed_descriptor_is_a_finding_not_a_traceback(tmp_path, case):
    edit_d, edit_s, file, text = SHAPES[case]
    pkg = make_package(tmp_path / "p")
    if edit_d:
        _edit_descriptor(pkg, edit_d)
    if edit_s:
        _edit_schema(pkg, "agreements", edit_s)
    result = runner.invoke(app, ["validate", str(pkg)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    findings = problems(validate_package(pkg, FIXED_TODAY))
    assert findings and [f.file for f in findings] == [file] * len(findings)
    assert "the data files were not checked yet" in result.output
    assert any(text in f.message for f in findings), render_text(findings)
    # the other commands that read the descriptor refuse with a message too
    for args in (["fmt", str(pkg)], ["build", str(pkg), "--out", str(tmp_path / "b"), "-q"]):
        r = runner.invoke(app, args)
        assert r.exit_code != 0 and (r.exception is None or isinstance(r.exception, SystemExit)), (args, r.exception)


# --- item 7: what the reference validator rejects -------------------------------------------

def _fk(s, **ref):
    s["foreignKeys"][0]["reference"].update(ref)


REJECTED = {
    "agreements resource removed": (lambda d: d["resources"].remove(_agreements(d)), None, "the resource 'agreements' is missing"),
    "agreements resource duplicated": (lambda d: d["resources"].append(copy.deepcopy(_agreements(d))), None, "names of the resources are not unique"),
    "name null": (lambda d: d.update(name=None), None, "None is not of type 'string' at property 'name'"),
    "version a number": (lambda d: d.update(version=12), None, "12 is not of type 'string' at property 'version'"),
    "licenses not a list": (lambda d: d.update(licenses="CC-BY-4.0"), None, "at property 'licenses'"),
    "unknown encoding": (lambda d: _agreements(d).update(encoding="utf-9"), None, "encoding 'utf-9' is not a known text encoding"),
    "format xlsx": (lambda d: _agreements(d).update(format="xlsx"), None, "format 'xlsx' is not supported"),
    "unsafe path": (lambda d: _agreements(d).update(path="../agreements.csv"), None, 'path "../agreements.csv" is not safe'),
    "mediatype a number": (lambda d: _agreements(d).update(mediatype=5), None, "at property 'mediatype'"),
    "invalid regex": (None, lambda s: s["fields"][0]["constraints"].update(pattern="^[a-z"), "is not a valid regular expression"),
    "unknown field type": (None, lambda s: s["fields"][1].update(type="text"), 'field type "text" is not supported'),
    "primaryKey names a missing field": (None, lambda s: s.update(primaryKey=["agreement_key"]), 'primary key "[\'agreement_key\']" does not match'),
    "enum not a list": (None, lambda s: s["fields"][2]["constraints"].update(enum="bilateral"), "at property 'constraints/enum'"),
    "required not a boolean": (None, lambda s: s["fields"][2]["constraints"].update(required="yes"), "at property 'constraints/required'"),
    "foreign key to a missing resource": (None, lambda s: _fk(s, resource="nations"), "refers to the resource 'nations'"),
    "foreign key to a missing field": (None, lambda s: _fk(s, fields="iso_code"), "refers to the field 'iso_code' of 'countries'"),
    "missingValues not a list": (None, lambda s: s.update(missingValues="NA"), "at property 'missingValues'"),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_what_the_reference_validator_rejects_dca_rejects(tmp_path, case):
    edit_d, edit_s, text = REJECTED[case]
    pkg = make_package(tmp_path / "p")
    if edit_d:
        _edit_descriptor(pkg, edit_d)
    if edit_s:
        _edit_schema(pkg, "agreements", edit_s)
    assert _reference_rejects(pkg)
    findings = problems(validate_package(pkg, FIXED_TODAY))
    assert findings and all(f.code == "descriptor-error" and f.file for f in findings)
    assert any(text in f.message for f in findings), render_text(findings)


def test_the_real_descriptor_passes_the_descriptor_check():
    from scripts.descriptor import descriptor_findings

    assert descriptor_findings(ROOT) == []


# --- item 8: many duplicates, endless files ------------------------------------------------

def test_thousands_of_repeated_keys_are_the_first_few_and_a_count(tmp_path):
    pkg = make_package(tmp_path / "p")
    path = pkg / "dataset" / "parties.csv"
    lines = path.read_text().splitlines(keepends=True)
    body = lines[1:]
    repeats = (body * (3000 // len(body) + 1))[:3000]
    path.write_text("".join(lines + repeats))
    findings = [f for f in validate_package(pkg, FIXED_TODAY) if f.code == "primary-key"]
    assert len(findings) == DUPLICATES_SHOWN + 1
    listed, summary = findings[:-1], findings[-1]
    first_repeat = len(lines) + 1
    assert [f.row for f in listed] == list(range(first_repeat, first_repeat + DUPLICATES_SHOWN))
    assert f"row {2} already has it" in listed[0].message  # the first repeat repeats the first data row
    assert f"row {3} already has it" in listed[1].message
    assert summary.row == first_repeat + DUPLICATES_SHOWN
    assert f"{3000 - DUPLICATES_SHOWN:,} more rows" in summary.message and "3,000 in all" in summary.message


_HANG_GUARD = 60  # seconds; reading /dev/zero would never end


def _validate_in_child(pkg: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "scripts.cli", "validate", str(pkg)], cwd=ROOT, capture_output=True,
                          text=True, timeout=_HANG_GUARD)


@pytest.mark.parametrize("kind", ["symlink to /dev/zero", "named pipe"])
def test_a_data_file_that_never_ends_is_refused(tmp_path, kind):
    pkg = make_package(tmp_path / "p")
    target = pkg / "dataset" / "parties.csv"
    target.unlink()
    if kind == "named pipe":
        os.mkfifo(target)
    else:
        target.symlink_to("/dev/zero")
    findings = validate_package(pkg, FIXED_TODAY)
    mine = [f for f in findings if f.file == "dataset/parties.csv"]
    assert mine and "not a regular file" in mine[0].message
    result = runner.invoke(app, ["fmt", str(pkg)])
    assert result.exit_code == 1 and "left alone dataset/parties.csv: is not a regular file" in result.output


def test_validate_on_dev_zero_ends_from_the_command_line(tmp_path):
    pkg = make_package(tmp_path / "p")
    (pkg / "dataset" / "sources.csv").unlink()
    (pkg / "dataset" / "sources.csv").symlink_to("/dev/zero")
    result = _validate_in_child(pkg)
    assert result.returncode == 1 and "dataset/sources.csv: is not a regular file" in result.stdout


def test_an_oversized_data_file_is_refused(tmp_path, monkeypatch):
    pkg = make_package(tmp_path / "p")
    monkeypatch.setattr(safe_read, "MAX_BYTES", 100)
    findings = validate_package(pkg, FIXED_TODAY)
    big = [f for f in findings if "more than the 100 dca reads" in f.message]
    assert {f.file for f in big} >= {"dataset/agreements.csv", "dataset/parties.csv"}

"""The `dca` command as contributors meet it: exit codes, formats, no tracebacks."""
from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from scripts.cli import app
from tests.packages import make_package

runner = CliRunner()


def test_validate_clean_package_exits_0(tmp_path):
    pkg = make_package(tmp_path / "p")
    result = runner.invoke(app, ["validate", str(pkg)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_broken_package_exits_1_with_file_row_field(tmp_path):
    pkg = make_package(tmp_path / "p", "bad_vocabulary")
    result = runner.invoke(app, ["validate", "--package", str(pkg)])
    assert result.exit_code == 1
    assert "dataset/equipment.csv:2: status: 'aproved' is not allowed" in result.output
    assert "did you mean 'politically_approved'?" in result.output
    assert result.output.rstrip().splitlines()[-2].startswith("3 problems in 2 files")


def test_validate_json_format_is_machine_readable(tmp_path):
    pkg = make_package(tmp_path / "p", "wrong_types")
    result = runner.invoke(app, ["validate", str(pkg), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["valid"] is False and data["count"] == len(data["findings"]) == 3
    q = next(f for f in data["findings"] if f["field"] == "quantity")
    assert q == {"file": "dataset/equipment.csv", "row": 2, "field": "quantity", "code": "type-error", "line": 2,
                 "message": "'twelve' is not a valid integer; expected a whole number such as 4 (leave empty when unknown)"}


def test_validate_github_format_annotates_the_csv_line(tmp_path):
    pkg = make_package(tmp_path / "p", "bad_vocabulary")
    result = runner.invoke(app, ["validate", str(pkg), "--format", "github"])
    assert result.exit_code == 1
    lines = [l for l in result.output.splitlines() if l.startswith("::error")]
    assert len(lines) == 3
    assert lines[1].startswith("::error file=dataset/equipment.csv,line=2,title=status::dataset/equipment.csv:2: status: 'aproved'")


def test_no_package_is_a_message_not_a_traceback(tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path)])
    assert result.exit_code == 2
    assert "no datapackage.json" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_broken_descriptor_is_a_finding(tmp_path):
    pkg = make_package(tmp_path / "p")
    (pkg / "datapackage.json").write_text("{ not json", encoding="utf-8")
    result = runner.invoke(app, ["validate", str(pkg)])
    assert result.exit_code == 1
    assert "datapackage.json: is not valid JSON" in result.output
    assert "Traceback" not in result.output


def test_missing_schema_file_is_a_finding(tmp_path):
    pkg = make_package(tmp_path / "p")
    (pkg / "schema" / "parties.schema.json").unlink()
    result = runner.invoke(app, ["validate", str(pkg)])
    assert result.exit_code == 1
    assert "schema/parties.schema.json: file not found" in result.output


def test_version_shows_tool_and_dataset_version(monkeypatch, tmp_path):
    pkg = make_package(tmp_path / "p")
    monkeypatch.chdir(pkg)
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    version = json.loads((pkg / "datapackage.json").read_text())["version"]
    assert f"dataset version {version}" in result.output


def test_countries_check_passes_on_the_committed_table(tmp_path):
    pkg = make_package(tmp_path / "p")
    assert runner.invoke(app, ["countries", str(pkg), "--check"]).exit_code == 0
    (pkg / "dataset" / "countries.csv").write_text("iso3\n", encoding="utf-8")
    assert runner.invoke(app, ["countries", str(pkg), "--check"]).exit_code == 1
    assert runner.invoke(app, ["countries", str(pkg)]).exit_code == 0
    assert runner.invoke(app, ["countries", str(pkg), "--check"]).exit_code == 0

"""`dca release`, CITATION.cff, CHANGELOG.md and the dataset version."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from schema.tableschema import load_package
from scripts.cli import app
from scripts.release import ROOT_FILES, SUMS, ZIP_DATE, build_release
from tests.packages import ROOT, make_package

runner = CliRunner()
FRICTIONLESS = str(Path(sys.executable).parent / "frictionless")
CFF_SCHEMA = Path(__file__).resolve().parent / "fixtures_exports" / "cff-1.2.0.schema.json"


def _releasable(dest: Path) -> Path:
    """The synthetic package plus the files a release needs from the repository root."""
    pkg = make_package(dest)
    for name in ROOT_FILES:
        shutil.copy2(ROOT / name, pkg / name)
    return pkg


@pytest.fixture(scope="module")
def pkg_dir(tmp_path_factory) -> Path:
    return _releasable(tmp_path_factory.mktemp("release") / "p")


@pytest.fixture(scope="module")
def released(pkg_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    return build_release(pkg_dir, out)


def _top(pkg_dir: Path) -> str:
    pkg = load_package(pkg_dir)
    return f"{pkg.name}-{pkg.version}"


def test_release_archive_name_layout_and_entries(pkg_dir, released):
    top = _top(pkg_dir)
    assert released.archive.name == f"{top}.zip"
    with zipfile.ZipFile(released.archive) as zf:
        infos = zf.infolist()
        names = [i.filename for i in infos]
    assert names == sorted(names) and all(n.startswith(f"{top}/") for n in names)
    inside = {n[len(top) + 1:] for n in names}
    expected = {"datapackage.json", "LICENSE", "CITATION.cff", "README.md", "CHANGELOG.md", SUMS,
                "docs/codebook.md", "docs/codebook.html",
                "docs/figures/agreements_per_year_by_type.svg", "docs/figures/top_countries.svg",
                "exports/datapackage.json"}
    expected |= {f"schema/{p.name}" for p in (pkg_dir / "schema").glob("*.json")}
    expected |= {f"dataset/{p.name}" for p in (pkg_dir / "dataset").glob("*.csv")}
    expected |= {f"exports/{n}.{ext}" for n in ("agreements_flat", "dyads", "directed_dyads", "dyad_years", "directed_dyad_years")
                 for ext in ("csv", "parquet", "dta")}
    assert inside == expected
    for i in infos:
        assert i.date_time == ZIP_DATE
        assert i.compress_type == zipfile.ZIP_DEFLATED
        assert (i.external_attr >> 16) & 0o777 == 0o644
    sidecar = released.archive.with_name(released.archive.name + ".sha256")
    digest = hashlib.sha256(released.archive.read_bytes()).hexdigest()
    assert sidecar.read_text() == f"{digest}  {released.archive.name}\n" and released.sha256 == digest


def test_release_unzipped_validates_and_checksums_verify(pkg_dir, released, tmp_path):
    with zipfile.ZipFile(released.archive) as zf:
        zf.extractall(tmp_path)
    top = tmp_path / _top(pkg_dir)
    for descriptor in (top / "datapackage.json", top / "exports" / "datapackage.json"):
        result = subprocess.run([FRICTIONLESS, "validate", str(descriptor)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout[-3000:]
    lines = (top / SUMS).read_text().splitlines()
    paths = [l.split("  ", 1)[1] for l in lines]
    assert paths == sorted(paths)
    on_disk = sorted(p.relative_to(top).as_posix() for p in top.rglob("*") if p.is_file() and p.name != SUMS)
    assert paths == on_disk
    for line in lines:
        digest, path = line.split("  ", 1)
        assert hashlib.sha256((top / path).read_bytes()).hexdigest() == digest, path
    if shutil.which("sha256sum"):
        assert subprocess.run(["sha256sum", "--quiet", "-c", SUMS], cwd=top).returncode == 0
    # the data in the bundle is the package's, byte for byte
    assert (top / "dataset" / "agreements.csv").read_bytes() == (pkg_dir / "dataset" / "agreements.csv").read_bytes()
    assert "Synthetic Test Agreement B" in (top / "exports" / "agreements_flat.csv").read_text()


def test_release_is_byte_identical_when_built_twice(pkg_dir, released, tmp_path):
    """Once in this process, once in a fresh one with another hash seed and working directory."""
    out = tmp_path / "again"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    result = subprocess.run([sys.executable, "-m", "scripts.cli", "release", str(pkg_dir), "--out", str(out), "-q"],
                            cwd=tmp_path, env=env | {"PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    again = out / released.archive.name
    assert again.read_bytes() == released.archive.read_bytes()
    assert (out / f"{again.name}.sha256").read_bytes() == released.archive.with_name(f"{again.name}.sha256").read_bytes()


def test_release_builds_fresh_exports_not_a_stale_build(pkg_dir, released, tmp_path):
    stale = pkg_dir / "build" / "exports"
    stale.mkdir(parents=True)
    (stale / "agreements_flat.csv").write_text("stale\n")
    try:
        again = build_release(pkg_dir, tmp_path)
    finally:
        shutil.rmtree(pkg_dir / "build")
    assert again.archive.read_bytes() == released.archive.read_bytes()


def test_cli_release_default_folder_and_refusals(tmp_path):
    pkg = _releasable(tmp_path / "p")
    result = runner.invoke(app, ["release", str(pkg), "-q"])
    assert result.exit_code == 0, result.output
    assert (pkg / "dist" / f"{_top(pkg)}.zip").exists()
    # CITATION.cff must carry the dataset version
    cff = pkg / "CITATION.cff"
    cff.write_text(re.sub(r'^version: .*$', 'version: "9.9.9"', cff.read_text(), flags=re.M))
    result = runner.invoke(app, ["release", str(pkg), "--out", str(tmp_path / "d1"), "-q"])
    assert result.exit_code == 1 and "CITATION.cff: version '9.9.9' differs" in result.output
    assert not (tmp_path / "d1").exists()
    shutil.copy2(ROOT / "CITATION.cff", cff)
    (pkg / "LICENSE").unlink()
    result = runner.invoke(app, ["release", str(pkg), "--out", str(tmp_path / "d2"), "-q"])
    assert result.exit_code == 1 and "LICENSE is missing" in result.output


def test_cli_release_refuses_an_invalid_package(tmp_path):
    bad = make_package(tmp_path / "bad", "dangling_references")
    for name in ROOT_FILES:
        shutil.copy2(ROOT / name, bad / name)
    result = runner.invoke(app, ["release", str(bad), "--out", str(tmp_path / "d"), "-q"])
    assert result.exit_code == 1 and "does not validate" in result.output
    assert not (tmp_path / "d").exists()


# --- citation, changelog, version --------------------------------------------------------------

def _cff() -> dict:
    data = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    # YAML may read an unquoted date as a date; CFF's schema wants the text
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}


def test_citation_cff_is_valid_cff_1_2_0():
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = [e.message for e in validator.iter_errors(_cff())]
    assert not errors, errors
    cff = _cff()
    assert cff["cff-version"] == "1.2.0" and cff["type"] == "dataset" and cff["license"] == "CC-BY-4.0"
    assert cff["authors"] == [{"name": "Defence Cooperation Agreements project contributors"}]
    assert dt.date.fromisoformat(cff["date-released"])


def test_citation_version_matches_datapackage():
    version = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert str(_cff()["version"]) == version


def test_changelog_has_a_section_for_the_current_version():
    version = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    m = re.search(rf"^## \[{re.escape(version)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$", text, re.M)
    assert m, f"CHANGELOG.md needs a '## [{version}] - YYYY-MM-DD' section"
    assert m.group(1) == _cff()["date-released"]
    assert "### Added" in text[m.end():]


def test_version_is_shown_by_the_cli(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, ["--version"])
    version = json.loads((ROOT / "datapackage.json").read_text(encoding="utf-8"))["version"]
    assert result.exit_code == 0 and f"dataset version {version}" in result.output

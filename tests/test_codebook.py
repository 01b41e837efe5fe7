"""`dca codebook`: generated from the schemas and the data, never stale, never by hand."""
from __future__ import annotations

import re
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schema.tableschema import load_package
from scripts.cli import app
from scripts.codebook import FIG_COUNTRIES, FIG_YEARS, HTML, MD, render_codebook, slug, stale_files
from scripts.export_columns import EXPORTS, dyad_year_rules
from tests.packages import ROOT, make_package

runner = CliRunner()


@pytest.fixture(scope="module")
def pkg_dir(tmp_path_factory) -> Path:
    pkg = make_package(tmp_path_factory.mktemp("codebook") / "p")
    for name in ("CITATION.cff", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, pkg / name)
    return pkg


@pytest.fixture(scope="module")
def rendered(pkg_dir) -> dict[str, bytes]:
    return render_codebook(pkg_dir)


@pytest.fixture(scope="module")
def md(rendered) -> str:
    return rendered[MD].decode("utf-8")


def test_committed_codebook_is_current():
    """docs/ must be what `dca codebook` gives for the committed package: regenerate it after any
    change to the schemas, the data, CITATION.cff or CHANGELOG.md."""
    stale = stale_files(ROOT, ROOT / "docs")
    assert not stale, f"docs/ is out of date ({', '.join(stale)}): run `.venv/bin/dca codebook` and commit docs/"


def test_every_resource_field_and_code_with_its_definition(pkg_dir, md):
    pkg = load_package(pkg_dir)
    for r in pkg.resources:
        assert f"### {r.title} ({r.name})" in md
        for f in r.fields:
            assert re.search(rf"^\| \d+ \| `{f.name}` \| {f.type} \|", md, re.M), f"{r.name}.{f.name}"
            if f.enum:
                assert f"#### Vocabulary: {r.name}.{f.name}" in md
    agreement_type = pkg.resource("agreements").field("agreement_type")
    for code, definition in agreement_type.definitions().items():
        assert f"| `{code}` | {agreement_type.labels()[code]} | {definition} |" in md
    # a vocabulary whose field does not define its codes borrows the definitions of the same codes
    assert "The codes and definitions of `agreements.status`." in md
    assert "| `in_force` | In force | in force | 1 | 33.3% |" in md


def test_types_constraints_keys_and_missing_values(md):
    assert "| 1 | `agreement_id` | string | yes | Agreement id |" in md
    assert "- Primary key: `agreement_id`, `country_iso3`" in md
    assert "- Foreign key: `venue_country_iso3` → `countries`.`iso3`" in md
    assert "unique; pattern `^[a-z0-9-]+-s[0-9]+$`" in md
    assert "## Missing values" in md and "An empty cell is the only missing value" in md
    assert "- Missing values: empty cell" in md


def test_coverage_from_the_data(md):
    # three agreements; one has an end date, two an entry into force, two a venue
    assert "| 12 | `end_on` | string |" in md and "| 33.3% (1) |" in md
    assert re.search(r"\| `entry_into_force_on` \|.*\| 66\.7% \(2\) \|", md)
    assert "| Americas | 1 | 33.3% | 3 |" in md
    assert "| Europe | 2 | 66.7% | 3 |" in md
    assert "| Asia | 1 | 33.3% | 1 |" in md
    assert "| year | agreements | Americas | Asia | Europe |" in md
    assert "| 1999 | 1 |  |  | 1 |" in md
    assert "| 2001 | 1 |  | 1 | 1 |" in md
    assert "| 2003 | 1 | 1 |  |  |" in md
    assert f"]({FIG_YEARS})" in md and f"]({FIG_COUNTRIES})" in md


def test_export_rules_citation_version_and_changelog(pkg_dir, md):
    pkg = load_package(pkg_dir)
    assert f"dataset version **{pkg.version}**" in md
    for rule in dyad_year_rules():
        assert rule in md
    for name, columns in EXPORTS.items():
        assert f"### {name}" in md
        for c in columns:
            assert f"| `{c.name}` | {c.type} |" in md
    assert "## How to cite" in md and f"(Version {pkg.version}) [Data set]" in md and "@misc{" in md
    assert "## Changelog" in md and f"### [{pkg.version}]" in md and "#### Added" in md
    assert "dca release" in md and "SHA256SUMS" in md


def test_contents_links_point_at_headings(md, rendered):
    html = rendered[HTML].decode("utf-8")
    anchors = set(re.findall(r"\]\(#([^)]+)\)", md))
    ids = set(re.findall(r' id="([^"]+)"', html))
    assert anchors and anchors <= ids, anchors - ids
    assert "<table>" in html and f'src="{FIG_YEARS}"' in html
    assert slug("Status history (status_history)") == "status-history-status_history"


def _png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, kinds = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        kinds.append(kind)
        pos += 12 + length
    return kinds


def test_figures_are_pngs_without_time_or_software(rendered):
    for name in (FIG_YEARS, FIG_COUNTRIES):
        kinds = _png_chunks(rendered[name])
        assert b"tIME" not in kinds
        assert b"Software" not in rendered[name] and b"Creation Time" not in rendered[name]


def test_codebook_is_deterministic(pkg_dir, rendered):
    assert render_codebook(pkg_dir) == rendered


def test_cli_codebook_check_and_write(pkg_dir, tmp_path):
    docs = tmp_path / "docs"
    assert runner.invoke(app, ["codebook", str(pkg_dir), "--out", str(docs), "--check"]).exit_code == 1
    result = runner.invoke(app, ["codebook", str(pkg_dir), "--out", str(docs)])
    assert result.exit_code == 0 and "Wrote 4 files" in result.output
    assert sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*") if p.is_file()) == sorted([MD, HTML, FIG_YEARS, FIG_COUNTRIES])
    assert runner.invoke(app, ["codebook", str(pkg_dir), "--out", str(docs), "--check"]).exit_code == 0
    # a change in the data makes it stale
    changed = make_package(tmp_path / "changed")
    for name in ("CITATION.cff", "CHANGELOG.md"):
        shutil.copy2(pkg_dir / name, changed / name)
    assert runner.invoke(app, ["codebook", str(changed), "--out", str(docs), "--check"]).exit_code == 0
    agreements = changed / "dataset" / "agreements.csv"
    agreements.write_text(agreements.read_text().replace(",expired,", ",terminated,"))
    result = runner.invoke(app, ["codebook", str(changed), "--out", str(docs), "--check"])
    assert result.exit_code == 1 and "codebook.md" in result.output


def test_scope_is_stated_once_and_quoted_in_the_guide_and_the_codebook():
    """The inclusion rule lives in docs/scope.md; the guide and the codebook carry it word for word."""
    scope = (ROOT / "docs" / "scope.md").read_text(encoding="utf-8")
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    inner = guide.split("<!-- scope:start", 1)[1].split("-->", 1)[1].split("<!-- scope:end -->", 1)[0]
    assert inner.strip() == scope.strip()
    md = (ROOT / "docs" / "codebook.md").read_text(encoding="utf-8")
    assert scope.strip() in md
    assert "two independent origins" in scope and "`instrument`" in scope


def test_status_ages_from_status_as_of_to_the_data_date(md):
    # data date 2010-02-01 (deu-nor-1999, expired); fra-ind (in force) and bra-chl-per (ratified) are 5-10 years older
    assert "the data date, 2010-02-01" in md
    assert "| under 1 year | 1 | 0 |" in md
    assert "| 5 to 10 years | 1 | 1 |" in md
    assert "| 10 years or more | 0 | 0 |" in md

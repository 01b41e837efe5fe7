"""A source address with feed tracking parameters is the same page as without them; the validator says
which parameters to remove instead of letting two spellings of one page count as two sources."""
from __future__ import annotations

import csv

from scripts.findings import render_text
from scripts.validate import validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import make_package


def _with_url(tmp_path, url):
    pkg = make_package(tmp_path / "p")
    path = pkg / "dataset" / "sources.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows[1]["url"] = url
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return render_text(validate_package(pkg, FIXED_TODAY))


def test_tracking_parameters_are_named_with_the_fix(tmp_path):
    out = _with_url(tmp_path, "https://example.net/synthetic/page?id=7&utm_source=feed&utm_medium=rss")
    (line,) = [ln for ln in out.splitlines() if "tracking parameters" in ln]
    assert "dataset/sources.csv:3" in line and "url:" in line and "remove everything" in line


def test_an_ordinary_query_string_is_fine(tmp_path):
    assert "tracking parameters" not in _with_url(tmp_path, "https://example.net/synthetic/page?id=7&lang=en")

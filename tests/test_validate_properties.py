"""Whatever a contributor types into a cell or a file, `dca validate` answers with
findings, never a traceback, and a finding always names its file."""
from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scripts.validate import validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import make_package

_TEMPLATE = Path(tempfile.mkdtemp(prefix="dca-prop-")) / "pkg"
make_package(_TEMPLATE)
FILES = ["agreements.csv", "parties.csv", "sources.csv", "equipment.csv", "status_history.csv"]


def _copy() -> Path:
    dest = Path(tempfile.mkdtemp(prefix="dca-prop-case-")) / "pkg"
    shutil.copytree(_TEMPLATE, dest)
    return dest


def _check(pkg: Path):
    findings = validate_package(pkg, FIXED_TODAY)
    for f in findings:
        assert f.file and f.message
    shutil.rmtree(pkg.parent, ignore_errors=True)
    return findings


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(FILES), row=st.integers(0, 3), col=st.integers(0, 12), value=st.text(max_size=40))
def test_any_cell_value_gives_findings_not_errors(file, row, col, value):
    pkg = _copy()
    path = pkg / "dataset" / file
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    r = rows[1 + row % (len(rows) - 1)]
    r[col % len(r)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    _check(pkg)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(FILES), junk=st.binary(max_size=60), at=st.integers(0, 400))
def test_any_bytes_in_a_file_give_findings_not_errors(file, junk, at):
    pkg = _copy()
    path = pkg / "dataset" / file
    data = path.read_bytes()
    at = at % (len(data) + 1)
    path.write_bytes(data[:at] + junk + data[at:])
    _check(pkg)

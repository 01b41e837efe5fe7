"""Every kind of bad input, as a broken copy of a small synthetic package, with the
exact findings a contributor should see, and the same findings as the reference
validator wherever the reference validator has an opinion."""
from __future__ import annotations

import frictionless
import pytest

from scripts.findings import FRICTIONLESS_CODES, render_text
from scripts.validate import validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import FIXTURES, cases, make_package

CASES = cases()


def test_there_is_a_case_for_every_kind_of_bad_input():
    kinds = {"missing_file", "empty_file", "missing_column", "extra_column", "misspelt_column", "byte_order_mark",
             "crlf_line_endings", "not_utf8", "unbalanced_quote", "blank_lines", "duplicate_ids",
             "dangling_references", "unknown_codes", "bad_vocabulary", "wrong_types"}
    assert kinds <= set(CASES)


def test_base_fixture_is_valid(tmp_path):
    pkg = make_package(tmp_path / "base")
    assert validate_package(pkg, FIXED_TODAY) == []
    assert frictionless.validate(str(pkg / "datapackage.json")).valid


@pytest.mark.parametrize("case", CASES)
def test_findings_are_exactly_the_expected_ones(tmp_path, case):
    pkg = make_package(tmp_path / case, case)
    got = render_text(validate_package(pkg, FIXED_TODAY))
    expected = (FIXTURES / case / "expected.txt").read_text(encoding="utf-8")
    assert got == expected


def _reference(pkg):
    report = frictionless.validate(str(pkg / "datapackage.json"))
    errors = []
    for task in report.tasks:
        for e in task.errors:
            errors.append((task.place, e.type,
                           getattr(e, "row_number", None), getattr(e, "field_name", None) or None))
    blank = {(f, r) for f, t, r, _ in errors if t == "blank-row"}
    # frictionless also reports a blank row as lacking its primary key; that is the same problem
    return [e for e in errors if not (e[1] == "primary-key" and (e[0], e[2]) in blank)]


# The reference validator maps cells to fields by position; dca reads a file whose columns a
# spreadsheet moved by column name (and says so once), so there the two disagree on purpose.
READ_BY_NAME = {"spreadsheet_edit"}


@pytest.mark.parametrize("case", [c for c in CASES if c not in READ_BY_NAME])
def test_same_findings_as_the_reference_validator(tmp_path, case):
    pkg = make_package(tmp_path / case, case)
    ours = [f for f in validate_package(pkg, FIXED_TODAY) if f.code in FRICTIONLESS_CODES]
    reference = _reference(pkg)

    def matches(f, ref):
        file, code, row, field = ref
        return (f.file == file and f.code == code and (row is None or f.row == row)
                and (field is None or code == "foreign-key" or f.field == field))

    missing = [r for r in reference if not any(matches(f, r) for f in ours)]
    assert missing == [], f"the reference validator reports {missing} and dca does not"
    # frictionless stops reading a file it cannot decode or find; dca goes on and may say more there.
    stopped = {r[0] for r in reference if r[1] in {"encoding-error", "source-error", "scheme-error"}}
    extra = [f for f in ours if f.file not in stopped and not any(matches(f, r) for r in reference)]
    assert extra == [], f"dca reports {extra} and the reference validator does not"

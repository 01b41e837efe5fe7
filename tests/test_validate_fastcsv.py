"""The fast reader (scripts/fastcsv.py, pyarrow) must read a file exactly as the row-by-row
reader does: the same cells, nulls, row and line numbers and findings; and it must hand every
file it cannot read exactly to the row-by-row reader."""
from __future__ import annotations

import pytest

from schema.tableschema import load_package
from scripts import readcsv
from scripts.fastcsv import read_regular
from tests.packages import ROOT

PARTIES = load_package(ROOT).resource("parties")
HEADER = b"agreement_id,country_iso3,signatory_name,signatory_title\n"

REGULAR = {
    "plain": HEADER + b"a-1,FRA,Jean,Minister\na-2,DEU,,\n",
    "no final newline": HEADER + b"a-1,FRA,Jean,Minister",
    "quoted comma and doubled quote": HEADER + b'a-1,FRA,"Doe, Jane","the ""acting"" minister"\n',
    "quoted newlines": HEADER + b'a-1,FRA,"two\nlines","three\n\nlines"\na-2,DEU,x,y\n"a-3",ITA,"\n",z\n',
    "stray quotes inside cells": HEADER + b'a-1,FRA,x"y,"ab"cd\na-2,DEU,"q""",\n',
    "non-ASCII": HEADER + "a-1,FRA,Zoë,ministre d’État\u2028\n".encode(),
    "columns moved": b"country_iso3,agreement_id,signatory_title,signatory_name\nFRA,a-1,t,n\n",
    "a renamed and a missing column": b"agreement_id,iso3,signatory_name\na-1,FRA,n\n",
    "an extra column": HEADER.rstrip(b"\n") + b",extra\na-1,FRA,n,t,e\n",
    "header only": HEADER,
}
IRREGULAR = {
    "short row": HEADER + b"a-1,FRA,n\n",
    "long row": HEADER + b"a-1,FRA,n,t,extra\n",
    "blank line": HEADER + b"a-1,FRA,n,t\n\na-2,DEU,n,t\n",
    "row of empty cells": HEADER + b",,,\n",
    "CRLF": HEADER.replace(b"\n", b"\r\n") + b"a-1,FRA,n,t\r\n",
    "bad UTF-8": HEADER + b"a-1,FRA,\xff\xfe,t\n",
    "quote never closed": HEADER + b'a-1,FRA,"n,t\na-2,DEU,n,t\n',
    "unclosed quote after a multi-line row": HEADER + b'a-1,FRA,"x\ny",t\na-2,DEU,n"\n',
    "quoted header": b'"agreement_id",country_iso3,signatory_name,signatory_title\na-1,FRA,n,t\n',
}


@pytest.mark.parametrize("case", sorted(REGULAR))
def test_fast_reader_reads_as_the_row_by_row_reader(case):
    data = REGULAR[case]
    got = read_regular(data, PARTIES)
    assert got is not None, "a regular file must take the fast path"
    header, frame, lines = got
    slow = readcsv._read_python(data, "dataset/parties.csv", PARTIES, [], None)
    assert header == slow.header
    assert frame.schema == slow.frame.schema
    assert frame.to_dict(as_series=False) == slow.frame.to_dict(as_series=False)
    assert lines == slow.line_numbers
    assert list(range(2, frame.height + 2)) == slow.row_numbers


@pytest.mark.parametrize("case", sorted(IRREGULAR))
def test_irregular_files_go_to_the_row_by_row_reader(case):
    assert read_regular(IRREGULAR[case], PARTIES) is None


def test_read_table_findings_do_not_depend_on_the_reader(tmp_path, monkeypatch):
    """Through read_table: the same Table whether or not the fast path is allowed."""
    for case, data in {**REGULAR, **IRREGULAR}.items():
        (tmp_path / "dataset").mkdir(exist_ok=True)
        (tmp_path / PARTIES.path).write_bytes(data)
        fast = readcsv.read_table(tmp_path, PARTIES)
        monkeypatch.setattr(readcsv, "read_regular", lambda data, resource: None)
        slow = readcsv.read_table(tmp_path, PARTIES)
        monkeypatch.undo()
        assert fast.findings == slow.findings, case
        assert fast.frame.to_dict(as_series=False) == slow.frame.to_dict(as_series=False), case
        assert (fast.row_numbers, fast.line_numbers, fast.blank_rows) == (slow.row_numbers, slow.line_numbers, slow.blank_rows), case
        assert getattr(fast, "present") == getattr(slow, "present"), case

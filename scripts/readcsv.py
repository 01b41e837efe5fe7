"""Reading a CSV resource the way the reference validator does, but saying more.

Rows are numbered as frictionless numbers them (header = row 1, blank rows
counted), cells are mapped to schema fields by position, and short or long rows are
reported as missing or extra cells: so the findings line up with `frictionless
validate`. On top of that it reports what frictionless passes over silently (a
byte-order mark, CRLF line endings, a quote that is never closed) and keeps going
after bytes that are not UTF-8, naming each line that holds them.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from schema.tableschema import Resource

from .fastcsv import read_regular
from .findings import Finding, suggest
from .safe_read import Unreadable, read_data_file

csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Table:
    """The cells of one resource, column by column, positionally mapped to fields."""

    resource: Resource
    file: str
    header: list[str]
    frame: pl.DataFrame
    row_numbers: list[int]
    line_numbers: list[int]
    blank_rows: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True

    @property
    def height(self) -> int:
        return len(self.row_numbers)

    @property
    def columns(self) -> dict[str, list[str | None]]:
        """The cells as Python lists (for callers that want them; the checks use `frame`)."""
        return {n: self.frame.get_column(n).to_list() for n in self.frame.columns}


def _decode(data: bytes, file: str, findings: list[Finding]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Name every line with bad bytes, then go on with replacement characters so
    # that the rest of the file is still checked.
    lines = data.split(b"\n")
    for i, raw in enumerate(lines, start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as e:
            bad = raw[e.start : e.start + 4]
            findings.append(
                Finding(
                    file, i, None,
                    f"bytes {bad!r} are not valid UTF-8 (column {e.start + 1}); "
                    "save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8')",
                    "encoding-error", i,
                )
            )
    return data.decode("utf-8", errors="replace")


def read_table(root: Path, resource: Resource) -> Table:
    file = resource.path
    findings: list[Finding] = []
    empty = Table(resource, file, [], _text_frame({f.name: [] for f in resource.fields}), [], [], findings=findings, readable=False)
    path = root / file
    try:
        data = read_data_file(path)
    except Unreadable as e:
        findings.append(Finding(file, None, None, str(e), "scheme-error"))
        return empty
    except FileNotFoundError:
        findings.append(Finding(file, None, None, f"file not found; the package lists resource '{resource.name}' at this path: create it (header row: {','.join(resource.field_names)})", "scheme-error"))
        return empty
    except OSError as e:
        findings.append(Finding(file, None, None, f"cannot be read: {e.strerror}", "scheme-error"))
        return empty
    if not data.strip(b"\xef\xbb\xbf \t\r\n"):
        findings.append(Finding(file, None, None, f"file is empty; it needs at least the header row: {','.join(resource.field_names)}", "source-error"))
        return empty
    if data.startswith(b"\xef\xbb\xbf"):
        findings.append(Finding(file, 1, None, "file starts with a byte-order mark (BOM); save it as UTF-8 without BOM (or run `dca fmt`)", "byte-order-mark", 1))
        data = data[3:]
    if b"\r\n" in data:
        first = data[: data.index(b"\r\n")].count(b"\n") + 1
        n = data.count(b"\r\n")
        findings.append(Finding(file, first, None, f"{n} line{'s' if n != 1 else ''} end in CRLF (Windows line endings), the first here; the package uses LF: run `dca fmt` to fix", "line-endings", first))
    fast = read_regular(data, resource)
    if fast is not None:
        header, frame, line_numbers = fast
        findings.extend(_check_header(file, header, resource.field_names))
        t = Table(resource, file, header, frame, list(range(2, frame.height + 2)), line_numbers, [], findings)
        t.present = set(_positions(header, resource.field_names))  # type: ignore[attr-defined]
        return t
    return _read_python(data, file, resource, findings, empty)


def _text_frame(columns: dict[str, list[str | None]]) -> pl.DataFrame:
    return pl.DataFrame(columns, schema={n: pl.Utf8 for n in columns})


UNCLOSED = "a quote (\") opened in this row is never closed, so the rest of the file was read as one cell; close the quote or remove it"


def _read_python(data: bytes, file: str, resource: Resource, findings: list[Finding], empty: Table) -> Table:
    """The row-by-row reader, for files that are not plain regular CSV (ragged or blank rows, CR
    line ends, bad bytes, a stray quote): slower, but it says what is wrong on each row."""
    text = _decode(data, file, findings)

    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    names = resource.field_names
    width = 0
    columns: dict[str, list[str | None]] = {n: [] for n in names}
    row_numbers: list[int] = []
    line_numbers: list[int] = []
    blank_rows: list[int] = []
    missing = set(resource.missing_values)
    row_no = 0
    line = 1
    try:
        for cells in reader:
            start_line = line
            line = reader.line_num + 1
            row_no += 1
            if header is None:
                header = cells
                findings.extend(_check_header(file, header, names))
                width = len(header)
                position = _positions(header, names)
                continue
            if not cells or all(c == "" for c in cells):
                blank_rows.append(row_no)
                findings.append(Finding(file, row_no, None, "row is blank; delete the empty line", "blank-row", start_line))
                continue
            if reader.line_num > start_line and _unclosed(text, start_line):
                findings.append(Finding(file, row_no, None, UNCLOSED, "unbalanced-quote", start_line))
            if len(cells) > width:
                for pos in range(width, len(cells)):
                    findings.append(Finding(file, row_no, None, f"row has an extra cell at position {pos + 1} ('{_short(cells[pos])}'); the header has {width} columns: remove the cell or quote a value that contains a comma", "extra-cell", start_line))
            elif len(cells) < width:
                for pos in range(len(cells), width):
                    fname = header[pos]
                    findings.append(Finding(file, row_no, fname, f"cell is missing: the row has {len(cells)} of {width} cells; add the missing comma-separated value (empty is allowed for optional fields)", "missing-cell", start_line))
            row_numbers.append(row_no)
            line_numbers.append(start_line)
            for n in names:
                i = position.get(n, -1)
                if 0 <= i < len(cells):
                    v = cells[i]
                    columns[n].append(None if v in missing else v)
                else:
                    columns[n].append(None)
    except csv.Error as e:  # pragma: no cover - the stdlib reader is lenient; kept for odd bytes
        findings.append(Finding(file, row_no + 1, None, f"the CSV cannot be parsed here ({e}); check quotes and separators", "format-error", line))
    if header is None:
        findings.append(Finding(file, None, None, "file is empty; it needs at least the header row", "source-error"))
        return empty
    # Fields beyond the header are absent: their cells are not checked (frictionless
    # reports the missing label only).
    present = set(_positions(header, names))
    t = Table(resource, file, header, _text_frame(columns), row_numbers, line_numbers, blank_rows, findings)
    t.present = present  # type: ignore[attr-defined]
    return t


def _unclosed(text: str, start_line: int) -> bool:
    """True when the quotes from start_line to the end of the text never balance."""
    lines = text.split("\n")
    rest = "\n".join(lines[start_line - 1 :])
    return rest.count('"') % 2 == 1


def _short(v: str, n: int = 40) -> str:
    v = v.replace("\n", " ")
    return v if len(v) <= n else v[: n - 1] + "…"


def _positions(header: list[str], names: list[str]) -> dict[str, int]:
    """Where each schema field's values are: under its own name wherever that column is (a
    spreadsheet may have moved it), else at its schema position when the label there is no
    schema name (a misspelt or renamed column, still checked as that field)."""
    pos = {n: header.index(n) for n in names if n in header}
    for i, n in enumerate(names):
        if n not in pos and i < len(header) and header[i] not in names:
            pos[n] = i
    return pos


def _reordered(file: str, header: list[str], names: list[str]) -> Finding | None:
    """One finding for columns in another order than the schema's (as a spreadsheet leaves them
    after a column is moved), naming the moved ones; None when the order is the schema's."""
    known = [h for h in header if h in names]
    expected = [n for n in names if n in known]
    if known == expected:
        return None
    import difflib

    kept: set[str] = set()
    for block in difflib.SequenceMatcher(a=expected, b=known, autojunk=False).get_matching_blocks():
        kept.update(known[block.b : block.b + block.size])
    moved = [n for n in known if n not in kept]
    where = "; ".join(f"'{n}' is column {header.index(n) + 1}, expected {names.index(n) + 1}" for n in moved)
    return Finding(file, 1, None,
                   f"the columns are not in the schema's order ({where}); the values are read by column name, "
                   f"so the findings below are about them: run `dca fmt` to put the columns back in order "
                   f"({','.join(names)})", "column-order", 1)


def _check_header(file: str, header: list[str], names: list[str]) -> list[Finding]:
    out: list[Finding] = []
    if header == names:
        return out
    moved = _reordered(file, header, names)
    if moved is not None and len(set(header)) == len(header):
        out.append(moved)
        for pos, label in enumerate(header):
            if label not in names:
                hint = suggest(label, [n for n in names if n not in header])
                extra = f"; did you mean '{hint}'?" if hint else ""
                out.append(Finding(file, 1, None, f"column {pos + 1} '{label}' is not in the schema; expected columns: {','.join(names)}{extra}", "extra-label", 1))
        for n in names:
            if n not in header:
                out.append(Finding(file, 1, n, f"column '{n}' is missing from the header (expected at position {names.index(n) + 1}); add it, empty if unknown", "missing-label", 1))
        return out
    for pos, label in enumerate(header):
        if pos >= len(names):
            hint = suggest(label, names)
            extra = f"; did you mean '{hint}'?" if hint and hint not in header else ""
            out.append(Finding(file, 1, None, f"column {pos + 1} '{label}' is not in the schema; expected columns: {','.join(names)}{extra}", "extra-label", 1))
            continue
        expected = names[pos]
        if label != expected:
            if expected not in header:
                hint = f"rename '{label}' to '{expected}'"
            else:
                hint = f"the columns are out of order; expected: {','.join(names)}"
            out.append(Finding(file, 1, expected, f"column {pos + 1} is headed '{label}' but the schema expects '{expected}' here; {hint}", "incorrect-label", 1))
    for pos in range(len(header), len(names)):
        out.append(Finding(file, 1, names[pos], f"column '{names[pos]}' is missing from the header (expected at position {pos + 1}); add it, empty if unknown", "missing-label", 1))
    return out

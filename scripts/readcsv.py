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

from schema.tableschema import Resource

from .findings import Finding, suggest
from .safe_read import Unreadable, read_data_file

csv.field_size_limit(16 * 1024 * 1024)


@dataclass
class Table:
    """The cells of one resource, column by column, positionally mapped to fields."""

    resource: Resource
    file: str
    header: list[str]
    columns: dict[str, list[str | None]]
    row_numbers: list[int]
    line_numbers: list[int]
    blank_rows: list[int] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    readable: bool = True

    @property
    def height(self) -> int:
        return len(self.row_numbers)


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
    empty = Table(resource, file, [], {f.name: [] for f in resource.fields}, [], [], findings=findings, readable=False)
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
                continue
            if not cells or all(c == "" for c in cells):
                blank_rows.append(row_no)
                findings.append(Finding(file, row_no, None, "row is blank; delete the empty line", "blank-row", start_line))
                continue
            if reader.line_num > start_line and _unclosed(text, start_line):
                findings.append(Finding(file, row_no, None, "a quote (\") opened in this row is never closed, so the rest of the file was read as one cell; close the quote or remove it", "unbalanced-quote", start_line))
            if len(cells) > width:
                for pos in range(width, len(cells)):
                    findings.append(Finding(file, row_no, None, f"row has an extra cell at position {pos + 1} ('{_short(cells[pos])}'); the header has {width} columns: remove the cell or quote a value that contains a comma", "extra-cell", start_line))
            elif len(cells) < width:
                for pos in range(len(cells), width):
                    fname = names[pos] if pos < len(names) else header[pos]
                    findings.append(Finding(file, row_no, fname, f"cell is missing: the row has {len(cells)} of {width} cells; add the missing comma-separated value (empty is allowed for optional fields)", "missing-cell", start_line))
            row_numbers.append(row_no)
            line_numbers.append(start_line)
            for i, n in enumerate(names):
                if i < width and i < len(cells):
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
    present = {n for i, n in enumerate(names) if i < width}
    t = Table(resource, file, header, columns, row_numbers, line_numbers, blank_rows, findings)
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


def _check_header(file: str, header: list[str], names: list[str]) -> list[Finding]:
    out: list[Finding] = []
    if header == names:
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

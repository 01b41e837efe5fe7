"""The canonical form of the dataset's CSV files, shared by `dca fmt`, `dca add` and
`dca validate`.

Why one fixed form: when every file is written the same way (columns in the
schema's order, rows sorted by primary key, no stray spaces, quotes only where a
cell needs them, LF line endings, UTF-8 without BOM, a final newline), two people
adding records touch different lines, merges rarely conflict and a diff shows only
real changes.

The form is produced by one function, `canonical_bytes`, on a polars frame of
strings, so the check inside `dca validate` costs one vectorised pass plus a byte
comparison even for a 100k-agreement package. Its quoting is the csv module's
QUOTE_MINIMAL (a test holds the two equal), except that a bare carriage return in
a cell is quoted too: the csv module leaves it bare and then cannot read it back.

Dates are not touched beyond trimming: a date known to the month stays YYYY-MM.
"""
from __future__ import annotations

import bisect
import csv
import io
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from schema.tableschema import Resource

from .findings import Finding

csv.field_size_limit(16 * 1024 * 1024)

# Stripped from both ends of every cell: ASCII and Unicode spaces, and a stray BOM.
WHITESPACE = " \t\n\r\f\v\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
BOM = b"\xef\xbb\xbf"
CODE = "not-canonical"


def _normalised(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Cells trimmed, CRLF inside cells made LF, empty cells null, empty rows gone."""
    cell = [pl.col(n).cast(pl.Utf8).str.replace_all("\r\n", "\n", literal=True).str.strip_chars(WHITESPACE).alias(n) for n in names]
    df = frame.select(cell)
    df = df.select([pl.when(pl.col(n) == "").then(None).otherwise(pl.col(n)).alias(n) for n in names])
    return df.filter(~pl.all_horizontal([pl.col(n).is_null() for n in names]))


def canonical_bytes(frame: pl.DataFrame, resource: Resource) -> bytes:
    """The file's bytes in canonical form, from a frame holding every schema column."""
    names = resource.field_names
    df = _normalised(frame, names)
    key = [k for k in resource.primary_key if k in names]
    if key and df.height > 1:
        # Strings sort by code point in both polars and Python; a null key is "" and sorts first.
        df = df.sort(key, maintain_order=True, nulls_last=False)
    buf = io.BytesIO()
    df.write_csv(buf, line_terminator="\n", quote_style="necessary", null_value="")
    return buf.getvalue()


def same_rows(a: pl.DataFrame, b: pl.DataFrame, resource: Resource) -> bool:
    """True when two frames hold the same rows once normalised, in any order (the lossless check)."""
    names = resource.field_names
    na, nb = _normalised(a, names), _normalised(b, names)
    if na.height != nb.height:
        return False
    na, nb = na.sort(names, nulls_last=False), nb.sort(names, nulls_last=False)
    return na.equals(nb)


# --- reading a file that is about to be rewritten ---------------------------------


@dataclass
class Parsed:
    """A file read strictly enough to rewrite it without losing anything, or why not."""

    frame: pl.DataFrame | None
    problem: str | None = None
    header: list[str] | None = None


def parse_for_rewrite(data: bytes, resource: Resource) -> Parsed:
    """Read a CSV file for `dca fmt` / `dca add`, refusing anything it could damage.

    A rewrite must never drop a row or a column, so a file is refused (with the
    reason) when its bytes are not UTF-8, a quote is never closed, a column is not
    in the schema or is missing, a label repeats, or a row has more or fewer cells
    than the header. Blank lines hold no data and are dropped.
    """
    names = resource.field_names
    if data.startswith(BOM):
        data = data[len(BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        return Parsed(None, f"line {line} holds bytes that are not UTF-8; save the file as UTF-8 (in a spreadsheet: 'CSV UTF-8') first")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            if header is None:
                header = [c.strip(WHITESPACE) for c in cells]
                problem = _header_problem(header, names)
                if problem:
                    return Parsed(None, problem, header)
                continue
            if not cells or all(c.strip(WHITESPACE) == "" for c in cells):
                continue
            if len(cells) != len(header):
                return Parsed(None, f"line {reader.line_num} has {len(cells)} cells but the header has {len(header)}; "
                                    "fix that row by hand (a value with a comma needs quotes)", header)
            rows.append(cells)
    except csv.Error as e:
        return Parsed(None, f"the file cannot be read safely near line {reader.line_num} ({e}); a quote (\") is probably never closed: fix it by hand", header)
    if header is None:
        return Parsed(None, f"the file is empty; it needs at least the header row: {','.join(names)}")
    columns = {label: [r[i] for r in rows] for i, label in enumerate(header)}
    frame = pl.DataFrame({n: columns[n] for n in names}, schema={n: pl.Utf8 for n in names})
    return Parsed(frame, None, header)


def _header_problem(header: list[str], names: list[str]) -> str | None:
    seen: set[str] = set()
    for label in header:
        if label in seen:
            return f"column '{label}' appears twice in the header; remove one by hand"
        seen.add(label)
    unknown = [h for h in header if h not in names]
    missing = [n for n in names if n not in header]
    if unknown:
        return (f"column{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)} "
                f"{'are' if len(unknown) > 1 else 'is'} not in the schema; `dca fmt` never drops data, so rename or remove "
                f"{'them' if len(unknown) > 1 else 'it'} by hand (expected columns: {','.join(names)})")
    if missing:
        return (f"column{'s' if len(missing) > 1 else ''} {', '.join(repr(m) for m in missing)} "
                f"{'are' if len(missing) > 1 else 'is'} missing from the header; add {'them' if len(missing) > 1 else 'it'} by hand")
    return None


# --- where and how a file differs from its canonical form ---------------------------


def first_difference(a: bytes, b: bytes) -> int | None:
    """Offset of the first byte where a and b differ (None when equal), in chunks so it stays fast."""
    if a == b:
        return None
    n = min(len(a), len(b))
    step = 1 << 16
    for start in range(0, n, step):
        if a[start:start + step] != b[start:start + step]:
            for i in range(start, min(start + step, n)):
                if a[i] != b[i]:
                    return i
    return n


def _record_at(data: bytes, pos: int) -> tuple[int, list[str]]:
    """Line number of pos and the cells of the line it is on (for describing a difference)."""
    line = data.count(b"\n", 0, pos) + 1
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    raw = (data[start:] if end < 0 else data[start:end]).decode("utf-8", "replace")
    try:
        cells = next(csv.reader(io.StringIO(raw, newline="")), [])
    except csv.Error:  # a NUL byte or a cut-off quote: the cells are only used to name the difference
        cells = raw.split(",")
    return line, cells


def describe_difference(old: bytes, new: bytes, resource: Resource, header: list[str] | None = None) -> tuple[int, str]:
    """(line in old, plain-words reason) for the first place old differs from the canonical new."""
    names = resource.field_names
    pos = first_difference(old, new)
    if pos is None:
        return 0, "no difference"
    if old.startswith(BOM):
        return 1, "the file starts with a byte-order mark (BOM)"
    if b"\r\n" in old[: old.find(b"\n", pos) + 1 or len(old)]:
        return old.count(b"\n", 0, pos) + 1, "lines end in CRLF (Windows line endings)"
    if pos >= len(old):
        return old.count(b"\n") + (0 if old.endswith(b"\n") else 1), "the last line has no line break at its end"
    line, cells = _record_at(old, pos)
    _, canon = _record_at(new, pos) if pos < len(new) else (0, [])
    if line == 1:
        if header and [h for h in header] != names and sorted(header) == sorted(names):
            return 1, "the columns are not in the schema's order"
        return 1, "the header is not the schema's field names separated by commas"
    if pos >= len(new):
        return line, "there are blank lines or empty rows at the end"
    if not cells or all(c.strip(WHITESPACE) == "" for c in cells):
        return line, "there is a blank line or an empty row here"
    order = header or names
    key = [order.index(k) for k in resource.primary_key if k in order]
    ckey = [names.index(k) for k in resource.primary_key if k in names]
    got = [cells[i].strip(WHITESPACE) if i < len(cells) else "" for i in key]
    want = [canon[i] if i < len(canon) else "" for i in ckey]
    if key and got != want:
        return line, f"the rows are not in order of {', '.join(resource.primary_key)}"
    if cells == canon:
        return line, "a value is quoted where no quotes are needed"
    if [c.strip(WHITESPACE) for c in cells] == canon:
        return line, "a value has spaces at its start or end"
    return line, "a value is written differently (spaces, quotes or line breaks)"


def not_canonical_findings(root: Path, tables: dict, frames: dict[str, pl.DataFrame]) -> list[Finding]:
    """`dca validate`'s check that each file is already as `dca fmt` would write it.

    Runs on the frames the validator has already read, so it costs one vectorised
    pass and one byte comparison per file. Files with a reading problem (BOM,
    CRLF, blank lines, bad header, bad bytes) are skipped: their own findings say
    what to do, and once those are fixed this check speaks if it still needs to.
    """
    out: list[Finding] = []
    for name, t in tables.items():
        if not t.readable or t.findings or name not in frames:
            continue
        res = t.resource
        if list(res.missing_values) != [""]:
            continue  # the frame cannot give back other missing-value tokens byte for byte
        try:
            data = (Path(root) / t.file).read_bytes()
        except OSError:
            continue
        new = canonical_bytes(frames[name], res)
        if new == data:
            continue
        line, reason = describe_difference(data, new, res, t.header)
        i = bisect.bisect_right(t.line_numbers, line)
        row = t.row_numbers[i - 1] if i else 1
        out.append(Finding(t.file, row, None,
                           f"is not in canonical form from here on ({reason}); run `dca fmt` to rewrite it",
                           CODE, line))
    return out

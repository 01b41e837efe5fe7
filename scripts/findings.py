"""A validation finding and the ways it is shown to people and machines.

Findings are the user interface of the project for contributors: each one names
the file, the row (as `frictionless` counts rows: the header is row 1, so a row
number is also the line number in an editor unless a cell spans lines), the field,
what is wrong and what would be right.
"""
from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import Iterable

import orjson

# Codes that mirror the error types of the reference validator (frictionless).
FRICTIONLESS_CODES = {
    "blank-row", "extra-cell", "missing-cell", "type-error", "constraint-error",
    "unique-error", "primary-key", "foreign-key", "extra-label", "missing-label",
    "incorrect-label", "duplicate-label", "blank-label", "encoding-error", "source-error",
    "scheme-error", "format-error",
}


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    row: int | None
    field: str | None
    message: str
    code: str
    line: int | None = None  # physical line in the file, for editors and CI annotations

    def text(self) -> str:
        where = self.file if self.row is None else f"{self.file}:{self.row}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


def sort_key(f: Finding) -> tuple:
    return (f.file, f.row if f.row is not None else -1, f.field or "", f.code, f.message)


def suggest(value: str, allowed: Iterable[str]) -> str | None:
    """The allowed value a contributor most probably meant, if any is close.

    Besides whole-value similarity, compares the value with each part of a
    snake_case code, so that 'aproved' suggests 'politically_approved'.
    """
    allowed = list(allowed)
    v = value.strip().lower().replace(" ", "_").replace("-", "_")
    if v in allowed:
        return v
    best = difflib.get_close_matches(v, allowed, n=1, cutoff=0.6)
    if best:
        return best[0]
    scored = []
    for a in allowed:
        parts = a.split("_")
        ratio = max(difflib.SequenceMatcher(None, v, p).ratio() for p in parts)
        if ratio >= 0.8:
            scored.append((ratio, a))
    if scored:
        return max(scored)[1]
    return None


NOTE_CODES = {"rules-skipped", "data-skipped"}  # said to the reader, but not a problem in the data


def problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code not in NOTE_CODES]


def render_text(findings: list[Finding]) -> str:
    """Findings grouped by file, then a count line, then any notes."""
    notes = [f for f in findings if f.code in NOTE_CODES]
    findings = problems(findings)
    if not findings:
        return "The package is valid: no problems found.\n"
    out: list[str] = []
    current = None
    for f in sorted(findings, key=sort_key):
        if f.file != current:
            if current is not None:
                out.append("")
            n = sum(1 for g in findings if g.file == f.file)
            out.append(f"{f.file} ({n} problem{'s' if n != 1 else ''})")
            current = f.file
        out.append("  " + f.text())
    files = len({f.file for f in findings})
    out.append("")
    out.append(f"{len(findings)} problem{'s' if len(findings) != 1 else ''} in {files} file{'s' if files != 1 else ''}.")
    out.extend(f"Note: {n.message}." for n in notes)
    return "\n".join(out) + "\n"


def render_json(findings: list[Finding]) -> str:
    data = {
        "valid": not problems(findings),
        "count": len(problems(findings)),
        "findings": [f.as_dict() for f in sorted(problems(findings), key=sort_key)],
        "notes": [f.message for f in findings if f.code in NOTE_CODES],
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"


def _escape_annotation(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(findings: list[Finding]) -> str:
    """GitHub Actions workflow commands: each finding annotates its CSV line."""
    out = []
    notes = [f for f in findings if f.code in NOTE_CODES]
    findings = problems(findings)
    for f in sorted(findings, key=sort_key):
        props = [f"file={f.file}"]
        line = f.line or f.row
        if line:
            props.append(f"line={line}")
        title = f"{f.field}" if f.field else f.code
        props.append(f"title={_escape_annotation(title).replace(',', '%2C').replace(':', '%3A')}")
        out.append(f"::error {','.join(props)}::{_escape_annotation(f.text())}")
    out.extend(f"::notice::{_escape_annotation(n.message)}" for n in notes)
    out.append(f"{len(findings)} problem{'s' if len(findings) != 1 else ''} found.")
    return "\n".join(out) + "\n"

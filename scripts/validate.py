"""`dca validate`: every check of the package, as findings a contributor can act on.

Two layers, both run as pandera schemas over polars frames so the whole package is
checked in a few vectorised passes: first what the Frictionless standard defines
(types, constraints, primary and foreign keys; the findings match the reference
validator's, which a test holds), then the dataset's own rules (`schema.rules`).
"""
from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandera.polars as pa
import polars as pl

from schema import rules as rules_mod
from schema.pandera_schemas import build_schema
from schema.tableschema import DescriptorError, Field, Package, Resource, load_package

from .canonical import not_canonical_findings
from .descriptor import descriptor_findings
from .findings import Finding, suggest
from .memory import give_back_freed_memory
from .readcsv import Table, read_table

PATTERN_HINTS = {
    "^[A-Z]{3}$": "expected an upper-case ISO 3166-1 alpha-3 code such as PAK",
    "^[A-Z]{2}$": "expected an upper-case ISO 3166-1 alpha-2 code such as PK",
    "^[A-Z]{2,3}$": "expected an upper-case abbreviation such as PAK",
    rules_mod.PARTIAL_DATE_PATTERN: "expected a date as YYYY-MM-DD, or YYYY-MM or YYYY when only the month or year is known",
    "^https?://[^\\s]+$": "expected a full address starting with http:// or https://, without spaces",
}
TYPE_HINTS = {
    "integer": "expected a whole number such as 4 (leave empty when unknown)",
    "number": "expected a number such as 4.5",
    "date": "expected a date as YYYY-MM-DD",
    "year": "expected a year such as 2014",
    "boolean": "expected true or false",
}
RULE_RESOURCES = {"agreements", "parties", "sources", "equipment", "status_history"}


def _short(v: object, n: int = 60) -> str:
    s = str(v).replace("\n", " ")
    return s if len(s) <= n else s[: n - 1] + "…"


def _pattern_hint(f: Field) -> str:
    p = f.constraints["pattern"]
    if p in PATTERN_HINTS:
        return PATTERN_HINTS[p]
    if f.name.endswith("_id"):
        return f"expected the id format described for {f.name} (pattern {p})"
    return f"expected the pattern {p}"


class _Frames:
    """The tables of a package as polars frames of strings, and how to place a finding."""

    def __init__(self, pkg: Package, tables: dict[str, Table]):
        self.pkg = pkg
        self.tables = tables
        self.frames = {name: t.frame for name, t in tables.items()}

    def country_hint(self, value: str | None) -> str:
        """'; did you mean MAR (Morocco)?' for a value typed where a country code belongs."""
        if not value or "countries" not in self.frames:
            return ""
        if not hasattr(self, "_countries"):
            from .country_names import Country, CountryIndex

            rows = self.frames["countries"].iter_rows(named=True)
            self._countries = CountryIndex([Country(r["iso3"], r.get("iso2") or "", r.get("name") or r["iso3"],
                                                    r.get("iso_name") or r.get("name") or r["iso3"], r.get("cow_abbr") or "")
                                            for r in rows if r.get("iso3")])
        likely = self._countries.likely(value)
        return f"; did you mean {' or '.join(c.label() for c in likely)}?" if likely else ""

    def at(self, name: str, index: int, field: str | None, message: str, code: str) -> Finding:
        t = self.tables[name]
        return Finding(t.file, t.row_numbers[index], field, message, code, t.line_numbers[index])


def _failures(schema: pa.DataFrameSchema, df: pl.DataFrame) -> pl.DataFrame | None:
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as e:
        return e.failure_cases
    return None


def _field_findings(fr: _Frames, res: Resource, present: set[str]) -> list[Finding]:
    df = fr.frames[res.name]
    readable = {n: f for n, f in fr.frames.items() if fr.tables[n].readable}
    out: list[Finding] = []
    for fk in res.foreign_keys:
        if fk.resource not in readable and fk.resource in fr.tables:
            other = fr.tables[fk.resource].file
            out.append(Finding(fr.tables[res.name].file, None, fk.fields[0],
                               f"references to {other} cannot be checked because that file could not be read (see its problem)",
                               "scheme-error"))
    schema = build_schema(res, present, lookups=readable)
    fc = _failures(schema, df)
    if fc is None:
        return out
    fc = fc.filter(pl.col("index").is_not_null())
    # Repeated keys are reported per check in one vectorised pass: the first few with
    # the row they repeat, then a count (200,000 duplicates must not mean 200,000 scans).
    repeats: dict[str, list[int]] = {}
    candidates: dict[int, tuple[list[str], dict[str, str | None]]] = {}
    for row in fc.iter_rows(named=True):
        check, idx, col = row["check"], int(row["index"]), row["column"]
        if check == "primary-key" or check == "unique-error":
            repeats.setdefault(check if check == "primary-key" else f"unique-error:{col}", []).append(idx)
            continue
        if check.startswith("foreign-key"):
            out.append(_key_finding(fr, res, check, idx, candidates))
            continue
        f = res.field(col)
        value = df.get_column(col)[idx]
        out.append(fr.at(res.name, idx, col, _cell_message(fr, res, f, check, value, idx), check.split(":")[0]))
    for key, idxs in repeats.items():
        out.extend(_repeat_findings(fr, res, key, sorted(set(idxs))))
    return out


DUPLICATES_SHOWN = 10


def _repeat_findings(fr: _Frames, res: Resource, key: str, idxs: list[int]) -> list[Finding]:
    """The first DUPLICATES_SHOWN rows that repeat a key, each with the row it repeats, then a count."""
    df = fr.frames[res.name]
    cols = res.primary_key if key == "primary-key" else [key.split(":", 1)[1]]
    shown = idxs[:DUPLICATES_SHOWN]
    firsts = (df.with_row_index("_i").select(pl.col("_i").first().over(cols).alias("_first"))
              .get_column("_first").gather(shown).to_list())
    rows = df.select(cols).gather(shown).to_dicts()
    t = fr.tables[res.name]
    out = []
    for idx, first, row in zip(shown, firsts, rows):
        first_row = t.row_numbers[first]
        if key == "primary-key":
            vals = ", ".join(f"{c}={row[c]!r}" for c in cols)
            out.append(fr.at(res.name, idx, cols[0] if len(cols) == 1 else None,
                             f"duplicate key ({vals}): row {first_row} already has it; each row needs its own key (remove the repeat or give it a distinct id)",
                             "primary-key"))
        else:
            out.append(fr.at(res.name, idx, cols[0],
                             f"'{_short(row[cols[0]])}' is already used on row {first_row}; each {cols[0]} must be unique", "unique-error"))
    rest = len(idxs) - len(shown)
    if rest > 0:
        what = "key" if key == "primary-key" else cols[0]
        out.append(fr.at(res.name, idxs[len(shown)], cols[0] if len(cols) == 1 else None,
                         f"and {rest:,} more rows from here on repeat a {what} already used ({len(idxs):,} in all; the first "
                         f"{len(shown)} are listed): remove the repeated rows", "primary-key" if key == "primary-key" else "unique-error"))
    return out


def _cell_message(fr: _Frames, res: Resource, f: Field, check: str, value: str | None, idx: int) -> str:
    v = f"'{_short(value)}'"
    cons = f.constraints
    if check == "type-error":
        return f"{v} is not a valid {f.type}; {TYPE_HINTS.get(f.type, '')}".rstrip("; ")
    kind = check.split(":", 1)[1]
    if kind == "required":
        return f"is empty but required ({f.title.lower()}); fill it in"
    if kind == "enum":
        hint = suggest(value or "", cons["enum"])
        msg = f"{v} is not allowed; expected one of: {', '.join(cons['enum'])}"
        return msg + (f"; did you mean '{hint}'?" if hint else "")
    if kind == "pattern":
        hint = fr.country_hint(value) if f.name.endswith("iso3") else ""
        return f"{v} is not in the expected form; {_pattern_hint(f)}{hint}"
    if kind == "minLength":
        return f"{v} is too short; it needs at least {cons['minLength']} characters"
    if kind == "maxLength":
        return f"is too long ({len(value or '')} characters); at most {cons['maxLength']} are allowed"
    if kind == "minimum":
        return f"{v} is too small; the minimum is {cons['minimum']}"
    if kind == "maximum":
        return f"{v} is too large; the maximum is {cons['maximum']}"
    return f"{v} breaks the constraint {kind}"


def _key_finding(fr: _Frames, res: Resource, check: str, idx: int, candidates: dict[int, tuple[list[str], dict[str, str | None]]]) -> Finding:
    df = fr.frames[res.name]
    row = df.row(idx, named=True)
    i = int(check.split(":")[1])
    fk = res.foreign_keys[i]
    target = fr.pkg.resource(fk.resource)
    ref = fr.frames.get(fk.resource)
    vals = [row[c] for c in fk.fields]
    label = ", ".join(f"'{v}'" for v in vals)
    msg = f"{label} is not in {Path(target.path).name} ({', '.join(fk.reference_fields)})"
    if fk.resource == "countries":
        pass  # country_hint below suggests by code and by name
    elif ref is not None and len(fk.fields) == 1 and vals[0]:
        if i not in candidates:
            candidates[i] = (ref.get_column(fk.reference_fields[0]).drop_nulls().unique().sort().to_list(), {})
        options, seen = candidates[i]
        if vals[0] not in seen:  # the same dangling value is often repeated: look it up once
            seen[vals[0]] = _nearest(vals[0], options)
        hint = seen[vals[0]]
        if hint:
            msg += f"; did you mean '{hint}'?"
    if fk.resource == "countries":
        msg += "; use an ISO 3166-1 alpha-3 code listed in countries.csv" + fr.country_hint(vals[0])
    else:
        msg += f"; add the {fk.resource} row first or correct the reference"
    return fr.at(res.name, idx, fk.fields[0], msg, "foreign-key")


def _nearest(value: str, candidates: list[str]) -> str | None:
    import difflib

    if value.upper() in candidates:
        return value.upper()
    best = difflib.get_close_matches(value, candidates, n=1, cutoff=0.75)
    return best[0] if best else None


def _rule_findings(fr: _Frames, today: dt.date | None) -> list[Finding]:
    if not RULE_RESOURCES <= set(fr.frames):
        return []
    rule_list = rules_mod.rules(fr.pkg, today)
    enriched = rules_mod.enrich(fr.frames)
    out: list[Finding] = []
    for name, schema in rules_mod.rule_schemas(rule_list).items():
        df = enriched[name]
        fc = _failures(schema, df)
        if fc is None:
            continue
        fc = fc.filter(pl.col("index").is_not_null())
        for (check,), group in fc.group_by(["check"]):
            rule = rule_list[int(check.split(":")[1])]
            idxs = group.get_column("index").cast(pl.Int64).to_list()
            msgs = df.with_columns(rule.message.alias("_message")).get_column("_message").gather(idxs).to_list()
            for i, m in zip(idxs, msgs):
                out.append(fr.at(name, i, rule.field, m, rule.code))
    return out


def validate_package(root: Path | str, today: dt.date | None = None) -> list[Finding]:
    """All findings for the package at root; an empty list means it is valid."""
    return check_package(root, today)[0]


def check_package(root: Path | str, today: dt.date | None = None) -> tuple[list[Finding], dict[str, pl.DataFrame] | None]:
    """The findings, and the data as read for them: each resource as a frame of text cells (missing values
    null) in schema order, or None when the data was not read or a file could not be. `dca build` builds
    from these frames once there are no findings, so that a build parses the CSV files once, not twice."""
    return read_package(root).check(today)


@dataclass
class Reading:
    """A package's files read, before the checks of their cells: what `dca build` starts from beside the
    checks (scripts/cli.py). ``frames``: each resource as a frame of text cells, when every file was read
    and nothing was found wrong yet, else None."""

    findings: list[Finding]
    pkg: Package | None = None
    tables: dict[str, Table] | None = None

    @property
    def frames(self) -> dict[str, pl.DataFrame] | None:
        if self.findings or self.tables is None or not all(t.readable for t in self.tables.values()):
            return None
        return {name: t.frame for name, t in self.tables.items()}

    def check(self, today: dt.date | None = None) -> tuple[list[Finding], dict[str, pl.DataFrame] | None]:
        """The findings of every check (these first), and the frames as check_package returns them."""
        findings = list(self.findings)
        if self.tables is None:
            return findings, None
        pkg, tables = self.pkg, self.tables
        fr = _Frames(pkg, tables)
        for r in pkg.resources:
            t = tables[r.name]
            if not t.readable:
                continue
            findings.extend(_field_findings(fr, r, getattr(t, "present", set(r.field_names))))
        # The dataset's own rules read across tables and assume well-formed cells: run
        # over a package with the problems above they would mostly repeat them (an
        # unknown country code would also show as a wrong id, a missing party, ...).
        # So they run once the Frictionless-level checks pass, and the output says so.
        if any(f.code not in COSMETIC for f in findings):
            findings.append(Finding("datapackage.json", None, None, RULES_SKIPPED, "rules-skipped"))
        else:
            findings.extend(_rule_findings(fr, today))
        # Last and separate: is each file already as `dca fmt` writes it? (one cheap pass)
        findings.extend(not_canonical_findings(pkg.root, tables, fr.frames))
        give_back_freed_memory()  # so that `dca build` starts from the frames' size, not from the checks' peak
        return findings, (fr.frames if all(t.readable for t in tables.values()) else None)


def read_package(root: Path | str) -> Reading:
    """The descriptor checked and the files read (Reading.check does the rest of check_package)."""
    root = Path(root)
    # The data is read only once the descriptor is sound: a broken schema would
    # otherwise show as a wrong cell on every row, or stop the checks half-way.
    broken = descriptor_findings(root)
    if broken:
        return Reading(broken + [Finding("datapackage.json", None, None, DATA_SKIPPED, "data-skipped")])
    try:
        pkg = load_package(root)
    except DescriptorError as e:  # pragma: no cover - descriptor_findings reports these first
        return Reading([Finding(e.file, None, None, e.message, "descriptor-error")])
    findings: list[Finding] = []
    # The files are read two at a time: the parser releases the GIL, and each file is one parse of its own.
    with ThreadPoolExecutor(2, thread_name_prefix="dca-read") as readers:
        tables = dict(zip([r.name for r in pkg.resources], readers.map(lambda r: read_table(pkg.root, r), pkg.resources)))
    for t in tables.values():
        findings.extend(t.findings)
    return Reading(findings, pkg, tables)


COSMETIC = {"byte-order-mark", "line-endings", "column-order"}  # the data read fine (by column name); `dca fmt` fixes these
DATA_SKIPPED = (
    "the data files were not checked yet because the descriptor or a schema has the problems above "
    "(they say how the data is to be read); fix them and run `dca validate` again"
)
RULES_SKIPPED = (
    "the dataset's own rules (parties, sources, dates, ids, duplicates) were not checked yet "
    "because of the problems above; fix them and run `dca validate` again"
)

"""One agreement as a contributor writes it, and the rows it becomes.

A record is one mapping, the same whether it comes from a YAML/JSON file
(`dca add --from`) or from the prompts:

    agreement: {title, agreement_type, signed_on, venue_city, venue_country, ...}
    parties: [{country, signatory_name, signatory_title}, ...]
    sources: [{url or citation, title, publisher, ...}, ...]
    equipment: [{designation, category, supplier, recipient, ..., source: 1}, ...]
    status_history: [{status_on, agreement_status or equipment_status, equipment: 1, description, source: 1}, ...]

Its keys are the schema's field names, read from schema/*.schema.json (so a new
field needs no change here) with three kinds of translation: ids are generated,
never typed; `*_iso3` fields are given as a country name or code without the
suffix (`country: Russia`); references to the record's own sources and equipment
are 1-based numbers into its lists (`source: 2`). signed_precision follows from
how much of signed_on is given.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schema.tableschema import Field, Package

from . import fieldcheck
from .country_names import CountryIndex
from .findings import suggest

# (record key, resource, how one item is named in messages)
SECTIONS = [
    ("agreement", "agreements", "agreement"),
    ("parties", "parties", "party"),
    ("sources", "sources", "source"),
    ("equipment", "equipment", "equipment item"),
    ("status_history", "status_history", "status step"),
]
CHILD_LETTER = {"sources": "s", "equipment": "e", "status_history": "h"}
PRECISION = {10: "day", 7: "month", 4: "year"}
DERIVED = {"agreements": {"signed_precision"}}


class RecordError(Exception):
    """The record cannot become rows; each problem names where it is."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RecordField:
    key: str      # the key in a record
    field: Field  # the schema field it fills
    kind: str     # value | country | source | equipment


def record_fields(pkg: Package, resource: str) -> list[RecordField]:
    """The keys a contributor fills in for one resource, in the schema's order."""
    res = pkg.resource(resource)
    refs = {fk.fields[0]: fk.resource for fk in res.foreign_keys if len(fk.fields) == 1}
    own_id = res.primary_key[0] if len(res.primary_key) == 1 else None
    out = []
    for f in res.fields:
        if f.name in ("agreement_id", own_id) or f.name in DERIVED.get(resource, set()):
            continue
        target = refs.get(f.name)
        if target == "countries":
            out.append(RecordField(f.name.removesuffix("_iso3"), f, "country"))
        elif target == "sources":
            # The source a row cites is `source: N`; another reference to a source
            # (a reprint naming what it copies) keeps its own name: `reprint_of: N`.
            out.append(RecordField("source" if f.name == "source_id" else f.name, f, "source"))
        elif target == "equipment":
            out.append(RecordField("equipment", f, "equipment"))
        else:
            out.append(RecordField(f.name, f, "value"))
    return out


def load_record_file(path: Path) -> dict[str, Any]:
    """Read a record from YAML or JSON ('-' reads standard input)."""
    import sys

    import yaml

    label = "standard input" if str(path) == "-" else str(path)
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RecordError([f"{label}: file not found"]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise RecordError([f"{label}: cannot be read ({e}); save it as UTF-8 text"]) from None
    try:
        if str(path).endswith(".json"):
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise RecordError([f"{label}: not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        what = getattr(e, "problem", None) or str(e)
        raise RecordError([f"{label}: not valid YAML{where}: {what} (a value containing ': ' or starting with a quote needs quotes around it)"]) from None
    if not isinstance(data, dict):
        raise RecordError([f"{label}: expected a record with 'agreement', 'parties' and 'sources' (see `dca add --template`)"])
    return data


def _text(value: Any, kind: str) -> tuple[str, str | None]:
    """A YAML/JSON value as the text a CSV cell holds, or why it cannot be one."""
    if value is None:
        return "", None
    if isinstance(value, bool):
        if kind == "country":
            return "", "YAML reads this as true/false; put the code in quotes (e.g. \"NO\" for Norway)"
        return "", "YAML reads this as true/false; put the value in quotes"
    if isinstance(value, dt.datetime):
        return "", "give a date (YYYY-MM-DD), not a date and time"
    if isinstance(value, dt.date):
        return value.isoformat(), None
    if isinstance(value, int):
        return str(value), None
    if isinstance(value, float):
        return (str(int(value)), None) if value.is_integer() else (str(value), None)
    if isinstance(value, str):
        return value.strip(), None
    return "", "expected a single value, not a list or a mapping"


def _empty(item: Any) -> bool:
    return isinstance(item, dict) and all(v in (None, "") for v in item.values())


@dataclass
class Plan:
    """The rows a record becomes, per resource, every field present in schema order."""

    agreement_id: str
    rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    @property
    def agreement(self) -> dict[str, str]:
        return self.rows["agreements"][0]

    def party_codes(self) -> list[str]:
        return [r["country_iso3"] for r in self.rows.get("parties", [])]


def new_agreement_id(iso3s: list[str], signed_on: str, existing: set[str]) -> str:
    """Parties' ISO3 codes in lower case, sorted, then the signing date; -b, -c ... when taken."""
    base = "-".join(sorted({c.lower() for c in iso3s})) + "-" + signed_on
    if base not in existing:
        return base
    letters = "bcdefghijklmnopqrstuvwxyz"
    for suffix in [*letters, *(f"{a}{n}" for n in range(2, 1000) for a in letters)]:
        if f"{base}-{suffix}" not in existing:
            return f"{base}-{suffix}"
    raise RecordError([f"too many agreements already share the id {base}"])  # pragma: no cover


def build_plan(pkg: Package, record: dict[str, Any], countries: CountryIndex, existing_ids: set[str],
               today: dt.date | None = None) -> Plan:
    """Check a record and turn it into rows; RecordError lists every problem found."""
    problems: list[str] = []
    known = [s for s, _, _ in SECTIONS]
    for key in record:
        if key not in known:
            hint = suggest(str(key), known)
            problems.append(f"'{key}' is not part of a record (expected: {', '.join(known)})" + (f"; did you mean '{hint}'?" if hint else ""))
    items: dict[str, list[dict[str, Any]]] = {}
    for key, resource, noun in SECTIONS:
        raw = record.get(key)
        if key == "agreement":
            if not isinstance(raw, dict):
                problems.append("agreement: missing; give the agreement's fields under 'agreement:' (see `dca add --template`)")
                raw = {}
            items[resource] = [raw]
            continue
        if raw is None:
            raw = []
        if not isinstance(raw, list) or not all(isinstance(i, dict) for i in raw):
            problems.append(f"{key}: expected a list of items, each starting with '- '")
            raw = []
        items[resource] = [i for i in raw if not _empty(i)]

    n_sources = len(items["sources"])
    n_equipment = len(items["equipment"])
    values: dict[str, list[dict[str, str]]] = {}
    for key, resource, noun in SECTIONS:
        fields = record_fields(pkg, resource)
        allowed = {rf.key: rf for rf in fields}
        aliases = {rf.field.name: rf for rf in fields if rf.kind == "country"}
        out = []
        for n, item in enumerate(items[resource], start=1):
            where = noun if key == "agreement" else f"{noun} {n}"
            row: dict[str, str] = {}
            for k in item:
                if k not in allowed and k not in aliases:
                    hint = suggest(str(k), list(allowed))
                    problems.append(f"{where}: '{k}' is not a field here (expected: {', '.join(allowed)})" + (f"; did you mean '{hint}'?" if hint else ""))
            for rf in fields:
                raw_value = item.get(rf.key, item.get(rf.field.name) if rf.kind == "country" else None)
                text, err = _text(raw_value, rf.kind)
                if err:
                    problems.append(f"{where}, {rf.key}: {err}")
                    continue
                if rf.kind == "country":
                    if text:
                        r = countries.resolve(text)
                        if not r.iso3:
                            problems.append(f"{where}, {rf.key}: {r.error()}")
                            continue
                        text = r.iso3
                    elif rf.field.required:
                        problems.append(f"{where}, {rf.key}: is required; give the country's name or ISO code")
                        continue
                elif rf.kind in ("source", "equipment"):
                    count = n_sources if rf.kind == "source" else n_equipment
                    if text == "" and rf.kind == "source" and count == 1 and rf.field.required:
                        text = "1"
                    if text == "" and not rf.field.required:
                        row[rf.field.name] = ""
                        continue
                    if not text.isdigit() or not 1 <= int(text) <= count:
                        noun_ref = "source" if rf.kind == "source" else "equipment item"
                        if count == 0:
                            problems.append(f"{where}, {rf.key}: there is no {noun_ref} in this record to refer to")
                        else:
                            problems.append(f"{where}, {rf.key}: give the number of the {noun_ref} in this record's list (1 to {count})"
                                            + (f", not '{text}'" if text else ""))
                        continue
                else:
                    err = fieldcheck.check(rf.field, text, today)
                    if err:
                        problems.append(f"{where}, {rf.key}: {err}")
                        continue
                row[rf.field.name] = text
            out.append(row)
        values[resource] = out

    parties = [p.get("country_iso3", "") for p in values["parties"]]
    codes = [c for c in parties if c]
    if len(items["parties"]) < 2:
        problems.append(f"parties: an agreement needs at least two state parties; {len(items['parties'])} given")
    for c in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"parties: {c} is listed more than once; give each party once")
    if n_sources == 0:
        problems.append("sources: give at least one source (a URL or a full bibliographic reference) that supports the record")
    for n, s in enumerate(values["sources"], start=1):
        if "url" in s and "citation" in s and not s["url"] and not s["citation"]:
            problems.append(f"source {n}: give its url or, when it has none, a full bibliographic reference in citation")
    if problems:
        raise RecordError(problems)

    agreement = values["agreements"][0]
    signed_on = agreement["signed_on"]
    aid = new_agreement_id(codes, signed_on, existing_ids)
    plan = Plan(aid)
    for key, resource, _ in SECTIONS:
        res = pkg.resource(resource)
        rows = []
        for n, v in enumerate(values[resource], start=1):
            row = {name: "" for name in res.field_names}
            row.update(v)
            row["agreement_id"] = aid
            if resource in CHILD_LETTER:
                row[res.primary_key[0]] = f"{aid}-{CHILD_LETTER[resource]}{n}"
            for name, kind in (("source_id", "s"), ("equipment_id", "e"), ("reprint_of", "s")):
                if name in row and resource in CHILD_LETTER and name != res.primary_key[0] and row[name]:
                    row[name] = f"{aid}-{kind}{row[name]}"
            if resource == "agreements" and "signed_precision" in row:
                row["signed_precision"] = PRECISION.get(len(signed_on), "")
            rows.append(row)
        plan.rows[resource] = rows
    return plan


def append_note(plan: Plan, note: str) -> None:
    """Add a sentence to the agreement's notes (e.g. why a probable duplicate is not one)."""
    a = plan.agreement
    a["notes"] = f"{a['notes'].rstrip()} {note}".strip() if a.get("notes") else note

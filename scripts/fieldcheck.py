"""Checking one value a contributor gives for one schema field, as they type it.

`dca add` asks again on a bad value (prompts) or names the field (record files)
before anything else happens, with the same constraints the schema states; the
whole-package validation then covers what involves several fields or tables.
Plain words, never a regular expression shown to a contributor for dates.
"""
from __future__ import annotations

import datetime as dt
import re

from schema.tableschema import Field

from .findings import suggest

PARTIAL_DATE_HINT = "write YYYY-MM-DD, or YYYY-MM / YYYY if only the month or year is known (never invent a day or month)"
DATE_HINT = "write YYYY-MM-DD"


def is_partial_date(f: Field) -> bool:
    """A field holding an ISO date truncated to what is known (its pattern accepts YYYY, YYYY-MM and YYYY-MM-DD)."""
    p = f.constraints.get("pattern")
    return bool(p) and all(re.fullmatch(p, s) for s in ("2014", "2014-11", "2014-11-20"))


def format_hint(f: Field) -> str:
    """What to type, for a prompt: empty when the field needs no particular form."""
    if is_partial_date(f):
        return "YYYY-MM-DD, or YYYY-MM / YYYY if only that is known"
    if f.type == "date":
        return "YYYY-MM-DD"
    if f.type == "integer":
        return "a whole number"
    if f.type == "number":
        return "a number, no thousands separators"
    if f.name.endswith("currency"):
        return "ISO 4217 code, e.g. USD"
    if f.name == "url":
        return "starting with https:// or http://"
    return ""


def _calendar(value: str) -> bool:
    if len(value) != 10:
        return True
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _future(value: str, today: dt.date) -> bool:
    return value > today.isoformat()[: len(value)]


def check(f: Field, value: str, today: dt.date | None = None) -> str | None:
    """None when value is acceptable for f, else what is wrong and what would be right."""
    today = today or dt.date.today()
    c = f.constraints
    if value == "":
        return f"is required ({f.title.lower()}); fill it in" if f.required else None
    v = f"'{value}'"
    if f.enum and value not in f.enum:
        hint = suggest(value, f.enum)
        return f"{v} is not one of: {', '.join(f.enum)}" + (f"; did you mean '{hint}'?" if hint else "")
    if f.type == "integer":
        if not re.fullmatch(r"[0-9]+|-[0-9]+", value):
            return f"{v} is not a whole number; leave it empty when unknown (never estimate)"
        n = int(value)
        if "minimum" in c and n < c["minimum"]:
            return f"{v} is too small; the minimum is {c['minimum']}"
        if "maximum" in c and n > c["maximum"]:
            return f"{v} is too large; the maximum is {c['maximum']}"
    if f.type == "number":
        try:
            n = float(value)
        except ValueError:
            return f"{v} is not a number; write it without thousands separators or currency (e.g. 1500000000 for 1.5 billion)"
        if "minimum" in c and n < c["minimum"]:
            return f"{v} is too small; the minimum is {c['minimum']}"
    if f.name.endswith("currency") and value:
        from schema.rules import currency_codes

        codes = currency_codes()
        if value.upper() in codes and value not in codes:
            return f"{v} is not an ISO 4217 currency code; did you mean '{value.upper()}'?"
        if value not in codes:
            hint = suggest(value, codes)
            return f"{v} is not an ISO 4217 currency code such as USD or EUR" + (f"; did you mean '{hint}'?" if hint else "")
        return None
    if f.type == "date":
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value) or not _calendar(value):
            return f"{v} is not a date; {DATE_HINT}"
    if is_partial_date(f):
        if not re.fullmatch(c["pattern"], value) or not _calendar(value):
            return f"{v} is not a date; {PARTIAL_DATE_HINT}"
    elif "pattern" in c and not re.fullmatch(c["pattern"], value):
        if c["pattern"] == "^[A-Z]{3}$":
            return f"{v} is not an ISO3 country code such as PAK"
        if f.name == "url":
            return f"{v} is not a web address; give the full address starting with https:// or http://, without spaces"
        return f"{v} is not in the expected form (pattern {c['pattern']})"
    if (f.type == "date" or is_partial_date(f)) and _future(value, today):
        return f"{v} is in the future (today is {today.isoformat()}); dates record what has happened"
    if "minLength" in c and len(value) < c["minLength"]:
        return f"{v} is too short; it needs at least {c['minLength']} characters"
    if "maxLength" in c and len(value) > c["maxLength"]:
        return f"is too long ({len(value)} characters); at most {c['maxLength']} are allowed"
    return None

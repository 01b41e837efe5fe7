"""Checking query parameters, with messages that say what would be accepted.

An empty parameter (``status=``) is the same as an absent one, as HTML forms send them.

Each endpoint declares its parameters as ``Params`` (which gives the OpenAPI
description and exact schemas) and checks the values here, so that every mistake is
reported in one problem document naming each bad parameter, the value given and
the allowed values.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from .problems import Problem

ISO3 = re.compile(r"^[A-Za-z]{3}$")
COW = re.compile(r"^[0-9]{1,4}$")
PARTIAL_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")
MAX_LIMIT = 1000
DEFAULT_LIMIT = 50
MAX_TEXT = 200


class Checker:
    """Collects parameter errors; ``done()`` raises one 422 problem listing them all."""

    def __init__(self) -> None:
        self.errors: list[dict[str, Any]] = []

    def fail(self, parameter: str, message: str, *, value: Any = None, allowed: list[str] | None = None) -> None:
        err: dict[str, Any] = {"parameter": parameter, "message": message}
        if value is not None:
            err["value"] = value
        if allowed is not None:
            err["allowed"] = allowed
        self.errors.append(err)

    def done(self) -> None:
        if self.errors:
            detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in self.errors)
            raise Problem(422, detail, errors=self.errors)

    # -- single checks; each returns the cleaned value, or None after recording an error

    def choices(self, name: str, values: Iterable[str] | None, allowed: list[str], what: str) -> tuple[str, ...]:
        out: list[str] = []
        for v in values or ():
            for part in v.split(","):
                part = part.strip()
                if not part:
                    continue
                if part in allowed:
                    if part not in out:
                        out.append(part)
                else:
                    self.fail(name, f"{part!r} is not a valid {what}; allowed values: {', '.join(allowed)}",
                              value=part, allowed=allowed)
        return tuple(out)

    def choice(self, name: str, value: str | None, allowed: list[str], what: str) -> str | None:
        if value is None or not value.strip():
            return None
        if value in allowed:
            return value
        self.fail(name, f"{value!r} is not a valid {what}; allowed values: {', '.join(allowed)}", value=value, allowed=allowed)
        return None

    def country(self, name: str, value: str | None, known: dict[str, str], cow: dict[int, str] | None = None,
                *, cow_only: bool = False) -> str | None:
        """The ISO3 code of a country given by ISO3 code or (with ``cow``) Correlates of War code."""
        if value is None or not value.strip():
            return None
        v = value.strip()
        if cow is not None and COW.match(v):
            iso3 = cow.get(int(v))
            if iso3 is None:
                self.fail(name, f"{v!r} is not the Correlates of War code of a country of this dataset; "
                          "the codes are the cow_code of /v1/countries", value=value)
            return iso3
        if cow_only:
            self.fail(name, f"{value!r} is not a Correlates of War country code (a number, e.g. 365)", value=value)
            return None
        if not ISO3.match(v):
            self.fail(name, f"{value!r} is not a country code: give an ISO 3166-1 alpha-3 code (three letters, e.g. PAK)"
                      + (" or a Correlates of War code (e.g. 770)" if cow is not None else ""), value=value)
            return None
        code = v.upper()
        if code not in known:
            self.fail(name, f"{code!r} is not a known country code; the list is at /v1/countries", value=value)
            return None
        return code

    def partial_date(self, name: str, value: str | None) -> tuple[str, str] | None:
        """(text, precision) for YYYY, YYYY-MM or YYYY-MM-DD that exists in the calendar."""
        if value is None or not value.strip():
            return None
        m = PARTIAL_DATE.match(value.strip())
        bad = f"{value!r} is not a date; use YYYY, YYYY-MM or YYYY-MM-DD (e.g. 2014, 2014-11 or 2014-11-20)"
        if not m:
            self.fail(name, bad, value=value)
            return None
        y, mo, d = m.groups()
        try:
            if d:
                dt.date(int(y), int(mo), int(d))
                return f"{y}-{mo}-{d}", "day"
            if mo:
                dt.date(int(y), int(mo), 1)
                return f"{y}-{mo}", "month"
            if int(y) < 1:
                raise ValueError
            return y, "year"
        except ValueError:
            self.fail(name, f"{value!r} is not a date in the calendar; check the month and day", value=value)
            return None

    def text(self, name: str, value: str | None, *, max_len: int = MAX_TEXT) -> str | None:
        if value is None or not value.strip():
            return None
        if len(value) > max_len:
            self.fail(name, f"is {len(value)} characters long; at most {max_len} are allowed")
            return None
        if "\x00" in value:
            self.fail(name, "contains a NUL character")
            return None
        return value

    def limit(self, value: str | None, *, allow_all: bool) -> int | str | None:
        if value is None or not value:
            return DEFAULT_LIMIT
        v = value  # exactly as documented: digits or `all` (no spaces, no upper case)
        if v == "all":
            if allow_all:
                return "all"
            self.fail("limit", f"limit=all is not available here; use 1 to {MAX_LIMIT}", value=value)
            return None
        if not re.fullmatch(r"[0-9]{1,9}", v):
            self.fail("limit", f"{value!r} is not a number; use 1 to {MAX_LIMIT}, or all", value=value)
            return None
        n = int(v)
        if not 1 <= n <= MAX_LIMIT:
            self.fail("limit", f"{n} is out of range; use 1 to {MAX_LIMIT}, or all", value=value)
            return None
        return n

    def fields(self, values: Iterable[str] | None, allowed: list[str]) -> list[str] | None:
        if not values:
            return None
        out: list[str] = []
        for v in values:
            for part in v.split(","):
                part = part.strip()
                if not part:
                    continue
                if part not in allowed:
                    self.fail("fields", f"{part!r} is not a field; allowed: {', '.join(allowed)}", value=part, allowed=allowed)
                elif part not in out:
                    out.append(part)
        if not out and not any(e["parameter"] == "fields" for e in self.errors):
            self.fail("fields", f"name at least one field; allowed: {', '.join(allowed)}", allowed=allowed)
        return out or None


def upper_bound(text: str, precision: str) -> tuple[str | None, str | None]:
    """(inclusive, exclusive) string bounds on signed_on for signed_to.

    Partial dates order as their first day (ISO text sorts that way), so ``2014``
    ends before ``2015`` and ``2014-11`` before ``2014-12``; a full date is inclusive.
    """
    if precision == "day":
        return text, None
    y = int(text[:4])
    if precision == "month":
        m = int(text[5:7])
        if m < 12:
            return None, f"{y:04d}-{m + 1:02d}"
    return (None, f"{y + 1:04d}") if y < 9999 else (None, None)


def like_pattern(value: str) -> str:
    """A case-insensitive substring LIKE pattern with the wildcards escaped."""
    v = value.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{v}%"


# --------------------------------------------------------------------------- declared parameters

class Param:
    """A query parameter: its OpenAPI description and exact schema.

    Endpoints read ``request.query_params`` themselves (FastAPI's per-parameter
    validation would cost more than the query on the hot paths) and check values
    with ``Checker``; the schema documents precisely what is accepted.
    """

    __slots__ = ("name", "description", "schema", "multi", "explode")

    def __init__(self, name: str, description: str, schema: dict[str, Any], *, multi: bool = False, explode: bool = True) -> None:
        self.name = name
        self.description = description
        self.schema = schema
        self.multi = multi
        self.explode = explode

    def openapi(self) -> dict[str, Any]:
        schema = copy.deepcopy(self.schema)
        if self.name != "fields":  # fields= names no field: refused, as its schema (minItems 1) says
            schema = allow_empty(schema)
        p: dict[str, Any] = {"name": self.name, "in": "query", "required": False,
                             "description": self.description, "schema": schema}
        if self.schema.get("type") == "array":
            p["style"], p["explode"] = "form", self.explode
        return p


class Params:
    """The query parameters of one endpoint."""

    def __init__(self, *params: Param) -> None:
        self.params = {p.name: p for p in params}
        self.names = frozenset(self.params)
        self._absent: dict[str, Any] = dict.fromkeys(self.params)
        self._multi = frozenset(p.name for p in params if p.multi)
        self._order = {name: i for i, name in enumerate(self.params)}

    def __add__(self, other: "Params") -> "Params":
        return Params(*self.params.values(), *other.params.values())

    def openapi(self) -> dict[str, Any]:
        return {"parameters": [p.openapi() for p in self.params.values()]}

    def read(self, query) -> dict[str, Any]:
        """name -> list of values (multi) or the single value (None if absent); unknown names are a 400.

        ``query``: the (name, value) pairs of ``query_items`` (or a Starlette ``QueryParams``).
        """
        items = query if isinstance(query, list) else list(query.multi_items())
        if not items:
            return {name: ([] if p.multi else None) for name, p in self.params.items()}
        names = self.names
        given: dict[str, list[str]] = {}
        nul = False
        for k, v in items:
            vs = given.get(k)
            if vs is None:
                given[k] = [v]
            else:
                vs.append(v)
            if "\x00" in v:
                nul = True
        unknown = [k for k in given if k not in names]  # in the order first given
        if unknown:
            allowed = sorted(names)
            raise Problem(
                400,
                f"unknown query parameter{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}; "
                f"this endpoint takes: {', '.join(allowed) or 'none'}",
                type="unknown-parameter",
                errors=[{"parameter": u, "message": "unknown parameter", "allowed": allowed} for u in unknown],
            )
        if nul:
            bad = sorted({k for k, v in items if "\x00" in v})
            raise Problem(422, "; ".join(f"{n}: contains a NUL character" for n in bad),
                          errors=[{"parameter": n, "message": "contains a NUL character"} for n in bad])
        out = dict(self._absent)
        for name in self._multi:
            out[name] = []
        repeated = []
        for name, values in given.items():
            if name in self._multi:
                out[name] = values
            else:
                if len(values) > 1:
                    repeated.append(name)
                out[name] = values[-1]
        if len(repeated) > 1:
            repeated.sort(key=self._order.__getitem__)  # named in the order the endpoint declares them
        if repeated:
            raise Problem(422, "; ".join(f"{n}: given more than once; give it once" for n in repeated),
                          errors=[{"parameter": n, "message": "given more than once"} for n in repeated])
        return out


def query_items(request) -> list[tuple[str, str]]:
    """The request's query parameters as (name, value) pairs, as Starlette's ``QueryParams`` reads them.

    That is ``parse_qsl(query, keep_blank_values=True)`` of the query string decoded as
    Latin-1; when nothing in it needs unquoting (no ``%``, no ``+``) a split on ``&`` and
    the first ``=`` gives the same pairs, without building a multidict per request.
    """
    raw = request.scope.get("query_string", b"")
    if not raw:
        return []
    text = raw.decode("latin-1")
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True)
    out = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            out.append((name, value))
    return out


def allow_empty(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema of a parameter widened to accept the empty string, which the server reads as absent.

    Enumerations gain ``""``, patterns become optional, and alternatives gain an empty
    branch; an array's items are widened the same way (``status=`` is one empty item).
    """
    if schema.get("type") == "array":
        schema["items"] = allow_empty(schema["items"])
        return schema
    if "$ref" in schema:  # a component (the country codes): the empty string is a branch of its own
        return {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    if "anyOf" in schema:
        schema["anyOf"] = [allow_empty(b) for b in schema["anyOf"]]
        if not any(b.get("type") == "string" and ("enum" in b or "pattern" in b) for b in schema["anyOf"]):
            schema["anyOf"].append({"type": "string", "maxLength": 0})
        return schema
    if "enum" in schema and "" not in schema["enum"]:
        schema["enum"] = [*schema["enum"], ""]
    elif "pattern" in schema:
        pattern = schema["pattern"]
        if pattern.startswith("^") and pattern.endswith("$"):
            schema["pattern"] = f"^(?:{pattern[1:-1]})?$"
    elif schema.get("type") == "string" and schema.get("minLength", 0) > 0:
        schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    elif schema.get("type") in ("integer", "number"):  # `year_from=`: absent, not a malformed number
        schema = {"anyOf": [schema, {"type": "string", "maxLength": 0}]}
    return schema


# Defined once, as components of the OpenAPI description (api/main.py): the country codes
# (an enum of the build's codes once it is open) and a country given by either kind of code.
ISO3_SCHEMA = {"$ref": "#/components/schemas/CountryCode"}
COW_SCHEMA = {"$ref": "#/components/schemas/CowCode"}
COUNTRY_SCHEMA = {"$ref": "#/components/schemas/CountryRef"}
ISO3_PATTERN = "^[A-Za-z]{3}$"
COMPONENTS = {
    "CountryCode": {"type": "string", "pattern": ISO3_PATTERN, "title": "CountryCode",
                    "description": "ISO 3166-1 alpha-3 country code (upper case; lower case is accepted too)."},
    "CowCode": {"type": "integer", "minimum": 1, "maximum": 9999, "title": "CowCode",
                "description": "Correlates of War numeric state code (the cow_code of /v1/countries), e.g. 365."},
    "CountryRef": {"title": "CountryRef", "description": "A country by ISO3 code or Correlates of War code (`RUS` or `365`).",
                   "anyOf": [{"$ref": "#/components/schemas/CountryCode"}, {"$ref": "#/components/schemas/CowCode"}]},
}
NO_NUL = "^[^\\x00]*$"  # free text: anything but NUL, which no parameter may hold
# Years 0001-9999 (the server refuses year 0), then a month, then a day that exists (format date).
YEAR = "(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
DATE_SCHEMA = {"anyOf": [
    {"type": "string", "pattern": f"^{YEAR}(?:-(?:0[1-9]|1[0-2]))?$"},
    {"type": "string", "format": "date", "pattern": f"^{YEAR}-[0-9]{{2}}-[0-9]{{2}}$"},
]}


def enum_array(values: list[str]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "string", "enum": values}}


def fields_param(values: list[str]) -> Param:
    return Param("fields", "Fields to return, comma-separated (e.g. `fields=agreement_id,title`).",
                 {"type": "array", "items": {"type": "string", "enum": values}, "minItems": 1}, multi=True, explode=False)


PAGING = Params(
    Param("limit", f"Items per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT}); `all` returns every matching row "
          "in one streamed response (JSON, CSV or NDJSON).",
          # Written as the text the server parses (digits, leading zeros allowed), so that no
          # generator sends 5.0 or 1e3 for an integer and expects it to be taken.
          {"anyOf": [{"type": "string", "pattern": "^0{0,5}(?:[1-9][0-9]{0,2}|1000)$"}, {"type": "string", "enum": ["all"]}]}),
    Param("cursor", "Opaque position from the `next` link of the previous page (do not build or edit it).",
          {"type": "string", "pattern": "^[A-Za-z0-9_-]*(?:[.][A-Za-z0-9_-]*)?$", "maxLength": 2048}),
    Param("format", "json (default), csv or ndjson; overrides the Accept header (text/csv, application/x-ndjson).",
          {"type": "string", "enum": ["json", "csv", "ndjson"]}),
)

"""SQLAlchemy Core statements for every endpoint, built from the SQLModel tables.

Statements are built per *shape* (which filters are present, how many values each
has, the sort, whether a cursor is given) with named bind parameters only, so every
user value reaches the database as a parameter, and each shape is compiled once
per dialect (``Database.compiled``). Hot paths select the pre-serialised JSON of
``agreement_docs`` and drive from the precomputed ``party_index`` / ``dyad_index``
tables, so that a page is one index range scan.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Column, MetaData, String, Table, and_, bindparam, exists, func, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql import ColumnElement, Select

from scripts.dyad_store import DYAD_COLUMNS, DYAD_YEAR_COLUMNS, DYAD_YEARS, DYADS
from schema.tables import (
    Agreement,
    AgreementDoc,
    BuildMeta,
    Country,
    CountrySummary,
    DyadIndex,
    Equipment,
    Party,
    PartyIndex,
    Source,
)

A = Agreement.__table__
P = Party.__table__
PI = PartyIndex.__table__
DY = DyadIndex.__table__
DOC = AgreementDoc.__table__
C = Country.__table__
CS = CountrySummary.__table__
E = Equipment.__table__
S = Source.__table__
META = BuildMeta.__table__

# The full-text index is an FTS5 virtual table in SQLite; PostgreSQL holds the same
# tokens in a plain table with a GIN index (scripts/pgload.py).
_fts_md = MetaData()
FTS = Table("agreements_fts", _fts_md, Column("agreement_id", String), Column("title", String), Column("summary", String))
PG_FTS = Table("agreements_fts", MetaData(), Column("agreement_id", String), Column("tokens", String))
# Each agreement's list item as one CSV record (scripts/build.py: csv_record), for CSV exports.
CSVREC = Table("agreement_csv", MetaData(), Column("agreement_id", String, primary_key=True), Column("csv_record", String))


class as_bytes(FunctionElement):
    """A pre-serialised document column as stored. SQLite hands it over as bytes (CAST AS
    BLOB: no UTF-8 decoding and re-encoding per row); other back ends as text."""

    inherit_cache = True
    name = "as_bytes"


@compiles(as_bytes)
def _as_bytes_default(element, compiler, **kw):
    return compiler.process(element.clauses, **kw)


@compiles(as_bytes, "sqlite")
def _as_bytes_sqlite(element, compiler, **kw):
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


def keyset_condition(cols: list[tuple[ColumnElement, bool]], prefix: str = "k") -> ColumnElement:
    """Rows strictly after the key (k0, k1, ...) in the order of ``cols`` ((column, descending) pairs)."""
    ors = []
    for i, (col, desc) in enumerate(cols):
        eqs = [c == bindparam(f"{prefix}{j}") for j, (c, _) in enumerate(cols[:i])]
        k = bindparam(f"{prefix}{i}")
        ors.append(and_(*eqs, col < k if desc else col > k))
    first, desc0 = cols[0]
    # The leading bound lets the planner use an index range on the first sort column.
    lead = first <= bindparam(f"{prefix}0") if desc0 else first >= bindparam(f"{prefix}0")
    return and_(lead, or_(*ors)) if len(cols) > 1 else ors[0]


def order(cols: list[tuple[ColumnElement, bool]]) -> list[ColumnElement]:
    return [c.desc() if d else c.asc() for c, d in cols]


# --------------------------------------------------------------------------- agreements

AGREEMENT_SORTS = ("signed_on", "agreement_id", "title")


@dataclass(frozen=True)
class AgreementFilter:
    parties: tuple[str, ...] = ()
    signed_from: str | None = None     # signed_on >= this
    signed_to_incl: str | None = None  # signed_on <= this (a full date)
    signed_to_excl: str | None = None  # signed_on < this (the start of the period after a year or month)
    types: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    venue: str | None = None
    categories: tuple[str, ...] = ()
    designation: str | None = None     # LIKE pattern, lower case, escaped
    q: str | None = None               # backend-specific full-text query
    sort: str = "signed_on"
    desc: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.parties or self.signed_from or self.signed_to_incl or self.signed_to_excl or self.types
                    or self.instruments or self.statuses or self.venue or self.categories or self.designation or self.q)

    @property
    def index_driven(self) -> bool:
        """A page is one bounded index range scan (party/dyad index, or all rows by date or id)."""
        if self.q or self.designation or self.categories or self.venue or self.instruments:
            return False
        if self.parties:
            return self.sort != "title" and (len(self.parties) < 3)
        return not (self.types or self.statuses) and self.sort in ("signed_on", "agreement_id")

    def shape(self) -> tuple:
        return (len(self.parties), bool(self.signed_from), bool(self.signed_to_incl), bool(self.signed_to_excl),
                len(self.types), len(self.instruments), len(self.statuses), bool(self.venue), len(self.categories),
                bool(self.designation), bool(self.q), self.sort, self.desc)

    def params(self) -> dict[str, Any]:
        p: dict[str, Any] = {}
        for prefix, values in (("p", self.parties), ("t", self.types), ("i", self.instruments), ("s", self.statuses),
                               ("c", self.categories)):
            if values:  # (most are empty: one test each, per request)
                p.update({f"{prefix}{i}": v for i, v in enumerate(values)})
        for k, v in (("signed_from", self.signed_from), ("signed_to_incl", self.signed_to_incl),
                     ("signed_to_excl", self.signed_to_excl), ("venue", self.venue), ("designation", self.designation),
                     ("q", self.q)):
            if v is not None:
                p[k] = v
        return p

    def scope(self) -> str:
        """What a cursor is bound to: the filter and the sort (not the limit)."""
        return repr((self.parties, self.signed_from, self.signed_to_incl, self.signed_to_excl, self.types,
                     self.instruments, self.statuses, self.venue, self.categories, self.designation, self.q, self.sort, self.desc))


@dataclass
class _Plan:
    from_: Any
    aid: ColumnElement
    signed: ColumnElement
    conds: list[ColumnElement] = field(default_factory=list)
    sort_cols: list[tuple[ColumnElement, bool]] = field(default_factory=list)


def _plan(f: AgreementFilter, postgres: bool) -> _Plan:
    n = len(f.parties)
    type_col = status_col = venue_col = title_col = inst_col = None
    if n >= 2:
        # Parties are sorted: the first two are a dyad (iso3_a < iso3_b); any others must also be parties.
        d = DY.alias("d")
        conds = [d.c.iso3_a == bindparam("p0"), d.c.iso3_b == bindparam("p1")]
        for i in range(2, n):
            conds.append(exists().where(P.c.agreement_id == d.c.agreement_id, P.c.country_iso3 == bindparam(f"p{i}")))
    elif n == 1:
        d = PI.alias("d")
        conds = [d.c.country_iso3 == bindparam("p0")]
        type_col, status_col = d.c.agreement_type, d.c.status
    else:
        d = A.alias("d")
        conds = []
        type_col, status_col, venue_col, title_col = d.c.agreement_type, d.c.status, d.c.venue_country_iso3, d.c.title
        inst_col = d.c.instrument
    aid, signed = d.c.agreement_id, d.c.signed_on
    from_ = d
    need_a = ((f.types and type_col is None) or (f.statuses and status_col is None)
              or (f.venue and venue_col is None) or (f.sort == "title" and title_col is None)
              or (f.instruments and inst_col is None))
    if need_a:
        a = A.alias("a")
        from_ = d.join(a, a.c.agreement_id == aid)
        type_col = type_col if type_col is not None else a.c.agreement_type
        status_col = status_col if status_col is not None else a.c.status
        venue_col = venue_col if venue_col is not None else a.c.venue_country_iso3
        title_col = title_col if title_col is not None else a.c.title
        inst_col = inst_col if inst_col is not None else a.c.instrument
    if f.signed_from:
        conds.append(signed >= bindparam("signed_from"))
    if f.signed_to_incl:
        conds.append(signed <= bindparam("signed_to_incl"))
    if f.signed_to_excl:
        conds.append(signed < bindparam("signed_to_excl"))
    if f.types:
        conds.append(type_col.in_([bindparam(f"t{i}") for i in range(len(f.types))]) if len(f.types) > 1 else type_col == bindparam("t0"))
    if f.instruments:
        conds.append(inst_col.in_([bindparam(f"i{i}") for i in range(len(f.instruments))]))
    if f.statuses:
        conds.append(status_col.in_([bindparam(f"s{i}") for i in range(len(f.statuses))]) if len(f.statuses) > 1 else status_col == bindparam("s0"))
    if f.venue:
        conds.append(venue_col == bindparam("venue"))
    if f.categories or f.designation:
        ec = [E.c.agreement_id == aid]
        if f.categories:
            ec.append(E.c.category.in_([bindparam(f"c{i}") for i in range(len(f.categories))]))
        if f.designation:
            ec.append(func.lower(E.c.designation).like(bindparam("designation"), escape="\\"))
        conds.append(exists().where(*ec))
    if f.q:
        if postgres:
            match = func.to_tsvector(literal_column("'simple'"), PG_FTS.c.tokens).op("@@")(
                func.to_tsquery(literal_column("'simple'"), bindparam("q")))
            conds.append(aid.in_(select(PG_FTS.c.agreement_id).where(match)))
        else:
            match = literal_column("agreements_fts").op("MATCH")(bindparam("q"))
            conds.append(aid.in_(select(FTS.c.agreement_id).where(match)))
    sort_col = {"signed_on": signed, "agreement_id": aid, "title": title_col}[f.sort]
    sort_cols = [(aid, f.desc)] if f.sort == "agreement_id" else [(sort_col, f.desc), (aid, f.desc)]
    return _Plan(from_, aid, signed, conds, sort_cols)


def agreements_page(f: AgreementFilter, postgres: bool, with_cursor: bool, limited: bool = True, csv: bool = False) -> Select:
    """list_json (or, with ``csv``, the CSV record), then the sort key values, for one page (LIMIT :limit) or all rows."""
    plan = _plan(f, postgres)
    conds = list(plan.conds)
    if with_cursor:
        conds.append(keyset_condition(plan.sort_cols))
    doc = CSVREC if csv else DOC
    col = as_bytes(CSVREC.c.csv_record if csv else DOC.c.list_json)
    stmt = (
        select(col, *[c for c, _ in plan.sort_cols])
        .select_from(plan.from_.join(doc, doc.c.agreement_id == plan.aid))
        .where(*conds)
        .order_by(*order(plan.sort_cols))
    )
    return stmt.limit(bindparam("limit")) if limited else stmt


def agreements_count(f: AgreementFilter, postgres: bool, with_cursor: bool = False) -> Select:
    plan = _plan(f, postgres)
    conds = list(plan.conds)
    if with_cursor:
        conds.append(keyset_condition(plan.sort_cols))
    return select(func.count()).select_from(plan.from_).where(*conds)


def agreement_ids(f: AgreementFilter, postgres: bool) -> Select:
    plan = _plan(f, postgres)
    return select(plan.aid).select_from(plan.from_).where(*plan.conds)


def agreement_detail() -> Select:
    return select(as_bytes(DOC.c.detail_json)).where(DOC.c.agreement_id == bindparam("agreement_id"))


# --------------------------------------------------------------------------- stats

_ONE, _FOUR = literal_column("1"), literal_column("4")


def stats_statements(f: AgreementFilter, postgres: bool) -> dict[str, Select]:
    ids = None if f.is_empty else agreement_ids(f, postgres)
    year = func.substr(A.c.signed_on, _ONE, _FOUR)

    def restrict(stmt: Select, col: ColumnElement) -> Select:
        return stmt if ids is None else stmt.where(col.in_(ids))

    return {
        "total": restrict(select(func.count()).select_from(A), A.c.agreement_id),
        "year": restrict(select(year, func.count()).select_from(A), A.c.agreement_id).group_by(year).order_by(year),
        "type": restrict(select(A.c.agreement_type, func.count()).select_from(A), A.c.agreement_id).group_by(A.c.agreement_type),
        "status": restrict(select(A.c.status, func.count()).select_from(A), A.c.agreement_id).group_by(A.c.status),
        "country": restrict(select(P.c.country_iso3, func.count()).select_from(P), P.c.agreement_id)
        .group_by(P.c.country_iso3).order_by(func.count().desc(), P.c.country_iso3),
    }


# --------------------------------------------------------------------------- simple tables

@dataclass(frozen=True)
class TableFilter:
    """Filters of the countries, equipment and sources lists: (column, number of values) pairs."""

    eq: tuple[tuple[str, int], ...] = ()
    like: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    sort: str = ""
    values: tuple[tuple[str, Any], ...] = ()

    def shape(self) -> tuple:
        return (self.eq, self.like, self.flags, self.sort)

    def params(self) -> dict[str, Any]:
        return dict(self.values)

    def scope(self) -> str:
        return repr((self.eq, self.like, self.flags, self.sort, self.values))


def _with_cow_columns(names: list[str]) -> list[str]:
    """Each ``*_iso3`` country column followed by its ``*_cow_code`` (joined from countries)."""
    out = []
    for n in names:
        out.append(n)
        if n.endswith("_iso3"):
            out.append(n[: -len("_iso3")] + "_cow_code")
    return out


EQUIPMENT_COLUMNS = _with_cow_columns([c.name for c in E.columns])
SOURCE_COLUMNS = [c.name for c in S.columns]
COUNTRY_COLUMNS = [c.name for c in C.columns] + ["agreement_count", "partner_count", "first_signed_on", "last_signed_on"]
COUNTRY_SORTS = {"iso3": False, "name": False, "-agreement_count": True}


def _eq_conds(t, f: TableFilter) -> list[ColumnElement]:
    conds = []
    for name, n in f.eq:
        col = t.c[name]
        conds.append(col == bindparam(f"{name}0") if n == 1 else col.in_([bindparam(f"{name}{i}") for i in range(n)]))
    for name in f.like:
        conds.append(func.lower(t.c[name]).like(bindparam(f"{name}_like"), escape="\\"))
    return conds


def _table_page(t, columns, key, f: TableFilter, with_cursor: bool, limited: bool) -> Select:
    conds = _eq_conds(t, f)
    cols = [(t.c[key], False)]
    if with_cursor:
        conds.append(keyset_condition(cols))
    stmt = select(*[t.c[c] for c in columns], t.c[key]).where(*conds).order_by(*order(cols))
    return stmt.limit(bindparam("limit")) if limited else stmt


def _table_count(t, key, f: TableFilter, with_cursor: bool) -> Select:
    conds = _eq_conds(t, f)
    if with_cursor:
        conds.append(keyset_condition([(t.c[key], False)]))
    return select(func.count()).select_from(t).where(*conds)


def equipment_page(f: TableFilter, with_cursor: bool, limited: bool = True) -> Select:
    sup, rec = C.alias("sup"), C.alias("rec")
    cols = []
    for name in EQUIPMENT_COLUMNS:
        if name == "supplier_cow_code":
            cols.append(sup.c.cow_code.label(name))
        elif name == "recipient_cow_code":
            cols.append(rec.c.cow_code.label(name))
        else:
            cols.append(E.c[name])
    conds = _eq_conds(E, f)
    keys = [(E.c.equipment_id, False)]
    if with_cursor:
        conds.append(keyset_condition(keys))
    j = E.outerjoin(sup, sup.c.iso3 == E.c.supplier_iso3).outerjoin(rec, rec.c.iso3 == E.c.recipient_iso3)
    stmt = select(*cols, E.c.equipment_id).select_from(j).where(*conds).order_by(*order(keys))
    return stmt.limit(bindparam("limit")) if limited else stmt


def equipment_count(f: TableFilter, with_cursor: bool = False) -> Select:
    return _table_count(E, "equipment_id", f, with_cursor)


def sources_page(f: TableFilter, with_cursor: bool, limited: bool = True) -> Select:
    return _table_page(S, SOURCE_COLUMNS, "source_id", f, with_cursor, limited)


def sources_count(f: TableFilter, with_cursor: bool = False) -> Select:
    return _table_count(S, "source_id", f, with_cursor)


def _country_parts(f: TableFilter):
    j = C.outerjoin(CS, CS.c.iso3 == C.c.iso3)
    count = func.coalesce(CS.c.agreement_count, 0)
    cols = [C.c[c] for c in C.columns.keys()] + [
        count.label("agreement_count"),
        func.coalesce(CS.c.partner_count, 0).label("partner_count"),
        CS.c.first_signed_on,
        CS.c.last_signed_on,
    ]
    conds = []
    for name, n in f.eq:
        conds.append(C.c[name] == bindparam(f"{name}0") if n == 1 else C.c[name].in_([bindparam(f"{name}{i}") for i in range(n)]))
    if "has_agreements" in f.flags:
        conds.append(CS.c.iso3.is_not(None))
    if "no_agreements" in f.flags:
        conds.append(CS.c.iso3.is_(None))
    sort = f.sort or "iso3"
    if sort == "iso3":
        keys = [(C.c.iso3, False)]
    elif sort == "name":
        keys = [(C.c.name, False), (C.c.iso3, False)]
    else:
        keys = [(count, True), (C.c.iso3, False)]
    return j, cols, conds, keys


def countries_page(f: TableFilter, with_cursor: bool, limited: bool = True) -> Select:
    j, cols, conds, keys = _country_parts(f)
    if with_cursor:
        conds.append(keyset_condition(keys))
    stmt = select(*cols, *[k for k, _ in keys]).select_from(j).where(*conds).order_by(*order(keys))
    return stmt.limit(bindparam("limit")) if limited else stmt


def countries_count(f: TableFilter, with_cursor: bool = False) -> Select:
    j, _, conds, keys = _country_parts(f)
    if with_cursor:
        conds.append(keyset_condition(keys))
    return select(func.count()).select_from(j).where(*conds)


def country_one() -> Select:
    j, cols, _, _ = _country_parts(TableFilter())
    return select(*cols, CS.c.partners_json).select_from(j).where(C.c.iso3 == bindparam("iso3"))


def country_names() -> Select:
    return select(C.c.iso3, C.c.name)


# --------------------------------------------------------------------------- dyads and dyad-years

@dataclass(frozen=True)
class DyadFilter:
    """Filters of /v1/dyads and /v1/dyad-years: a state on either side, a pair, a year range, a rule."""

    state: str | None = None
    pair: tuple[str, str] | None = None  # sorted: (iso3_a, iso3_b)
    year_from: int | None = None
    year_to: int | None = None
    rule: str | None = None  # dyad-years only

    def shape(self) -> tuple:
        return (bool(self.state), bool(self.pair), self.year_from is not None, self.year_to is not None, bool(self.rule))

    def params(self) -> dict[str, Any]:
        p: dict[str, Any] = {}
        if self.state:
            p["state"] = self.state
        if self.pair:
            p["pair_a"], p["pair_b"] = self.pair
        if self.year_from is not None:
            p["year_from"] = self.year_from
        if self.year_to is not None:
            p["year_to"] = self.year_to
        if self.rule:
            p["rule"] = self.rule
        return p

    def scope(self) -> str:
        return repr((self.state, self.pair, self.year_from, self.year_to, self.rule))


def _dyad_parts(t, f: DyadFilter, year_col: str, keys: list[str]):
    conds: list[ColumnElement] = []
    if f.rule:
        conds.append(t.c.rule == bindparam("rule"))
    if f.state:
        conds.append(or_(t.c.iso3_a == bindparam("state"), t.c.iso3_b == bindparam("state")))
    if f.pair:
        conds += [t.c.iso3_a == bindparam("pair_a"), t.c.iso3_b == bindparam("pair_b")]
    if f.year_from is not None:
        conds.append(t.c[year_col] >= bindparam("year_from"))
    if f.year_to is not None:
        conds.append(t.c[year_col] <= bindparam("year_to"))
    return conds, [(t.c[k], False) for k in keys]


def _dyad_page(t, columns, year_col, keys, f: DyadFilter, with_cursor: bool, limited: bool) -> Select:
    conds, sort = _dyad_parts(t, f, year_col, keys)
    if with_cursor:
        conds.append(keyset_condition(sort))
    stmt = select(*[t.c[c] for c in columns], *[c for c, _ in sort]).where(*conds).order_by(*order(sort))
    return stmt.limit(bindparam("limit")) if limited else stmt


def _dyad_count(t, year_col, keys, f: DyadFilter, with_cursor: bool) -> Select:
    conds, sort = _dyad_parts(t, f, year_col, keys)
    if with_cursor:
        conds.append(keyset_condition(sort))
    return select(func.count()).select_from(t).where(*conds)


DYAD_KEYS = ["agreement_id", "iso3_a", "iso3_b"]
DYAD_YEAR_KEYS = ["iso3_a", "iso3_b", "year"]


def dyads_page(f: DyadFilter, with_cursor: bool, limited: bool = True) -> Select:
    return _dyad_page(DYADS, DYAD_COLUMNS, "signed_year", DYAD_KEYS, f, with_cursor, limited)


def dyads_count(f: DyadFilter, with_cursor: bool = False) -> Select:
    return _dyad_count(DYADS, "signed_year", DYAD_KEYS, f, with_cursor)


def dyad_years_page(f: DyadFilter, with_cursor: bool, limited: bool = True) -> Select:
    return _dyad_page(DYAD_YEARS, DYAD_YEAR_COLUMNS, "year", DYAD_YEAR_KEYS, f, with_cursor, limited)


def dyad_years_count(f: DyadFilter, with_cursor: bool = False) -> Select:
    return _dyad_count(DYAD_YEARS, "year", DYAD_YEAR_KEYS, f, with_cursor)

"""The charts' numbers: the statements that count them and the one aggregation of their rows.

Kept apart from ``api.web.data`` (which reads requests, so imports FastAPI and the routes) so
that the codebook's figures (scripts/figures.py), drawn during ``dca build``, share the pages'
statements and aggregation without importing the web framework: about half a second of the
build's imports, on a path where every CPU second counts (issue #15).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal_column, select

from schema.tables import StatusHistory

from .. import vocab
from ..queries import A, AgreementFilter, agreement_ids, stats_statements

H = StatusHistory.__table__

TOP_COUNTRIES = 10


def _year_type(f: AgreementFilter, postgres: bool, column: str = "agreement_type"):
    """Agreements per (year of signature, type or instrument): the by_year of /v1/stats split by ``column``."""
    year = func.substr(A.c.signed_on, literal_column("1"), literal_column("4"))
    col = A.c[column]
    stmt = select(year, col, func.count()).select_from(A)
    if not f.is_empty:
        stmt = stmt.where(A.c.agreement_id.in_(agreement_ids(f, postgres)))
    return stmt.group_by(year, col).order_by(year, col)


def _status_changes(f: AgreementFilter, postgres: bool):
    """Dated status steps of agreements (not of equipment) per (year, status reached)."""
    year = func.substr(H.c.status_on, literal_column("1"), literal_column("4"))
    stmt = (select(year, H.c.agreement_status, func.count()).select_from(H)
            .where(H.c.equipment_id.is_(None), H.c.agreement_status.is_not(None)))
    if not f.is_empty:
        stmt = stmt.where(H.c.agreement_id.in_(agreement_ids(f, postgres)))
    return stmt.group_by(year, H.c.agreement_status).order_by(year, H.c.agreement_status)


@dataclass
class Stats:
    total: int
    years: list[str]
    types: list[str]
    counts: dict[tuple[str, str], int]   # (year, type) -> count
    by_year: list[tuple[str, int]]
    by_country: list[tuple[str, str, int]]   # iso3, name, count (most first)
    all_countries: dict[str, int] = field(default_factory=dict)   # iso3 -> agreements, every party (the map)
    instruments: list[str] = field(default_factory=list)
    instrument_counts: dict[tuple[str, str], int] = field(default_factory=dict)   # (year, instrument) -> count
    statuses: list[str] = field(default_factory=list)
    status_counts: dict[tuple[str, str], int] = field(default_factory=dict)   # (year, status reached) -> steps


def stats_statements_web(f: AgreementFilter, postgres: bool) -> dict[str, tuple[tuple, Any]]:
    """name -> (cache key, statement) of every number ``Stats`` holds: the total and per-country counts of
    /v1/stats (compiled under its keys, so shared with it) and the per-year splits of the charts."""
    shape = f.shape()
    return {
        "total": (("stats", "total", shape), lambda: stats_statements(f, postgres)["total"]),
        "country": (("stats", "country", shape), lambda: stats_statements(f, postgres)["country"]),
        "year_type": (("web", "year_type", shape), lambda: _year_type(f, postgres)),
        "year_instrument": (("web", "year_instrument", shape), lambda: _year_type(f, postgres, "instrument")),
        "status_changes": (("web", "status_changes", shape), lambda: _status_changes(f, postgres)),
    }


def stats_from_rows(rows: dict[str, list[tuple]], names: dict[str, str], *, top: int = TOP_COUNTRIES) -> Stats:
    """The charts' numbers from the rows of ``stats_statements_web``: one aggregation for the pages (rows
    from the served database) and the codebook's figures (rows from the package, scripts/figures.py)."""
    counts: dict[tuple[str, str], int] = {}
    for y, t, n in rows["year_type"]:
        if y:
            counts[(str(y), t)] = n
    years: list[str] = []
    if counts:
        lo, hi = int(min(y for y, _ in counts)), int(max(y for y, _ in counts))
        years = [f"{y:04d}" for y in range(lo, hi + 1)]
    types = [t for t in vocab.enum("agreements", "agreement_type") if any(tt == t for _, tt in counts)]
    by_year = [(y, sum(n for (yy, _), n in counts.items() if yy == y)) for y in years]
    by_country = [(iso, names.get(iso) or iso, n) for iso, n in rows["country"][:top]]
    inst = {(str(y), t or ""): n for y, t, n in rows["year_instrument"] if y}
    instruments = [t for t in vocab.enum("agreements", "instrument") if any(tt == t for _, tt in inst)]
    steps = {(str(y), st): n for y, st, n in rows["status_changes"] if y}
    statuses = [st for st in vocab.enum("agreements", "status") if any(ss == st for _, ss in steps)]
    return Stats(rows["total"][0][0], years, types, counts, by_year, by_country,
                 all_countries={iso: n for iso, n in rows["country"]}, instruments=instruments, instrument_counts=inst,
                 statuses=statuses, status_counts=steps)

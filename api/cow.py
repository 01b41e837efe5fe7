"""Correlates of War codes of the open build, for ``ccode=`` filters and COW columns.

Countries are keyed by ISO3 in the database; researchers' files are keyed by COW
codes. Both maps are read once per build (a snapshot) and kept on it, so accepting
``ccode=365`` costs a dictionary look-up per request.
"""
from __future__ import annotations

from sqlalchemy import select

from schema.tables import Country

C = Country.__table__


def _stmt():
    return select(C.c.iso3, C.c.cow_code)


def by_iso3(state) -> dict[str, int]:
    """ISO3 -> COW code (countries without one are absent)."""
    return _tables(state)[0]


def to_iso3(state) -> dict[int, str]:
    """COW code -> ISO3 (countries.csv gives no COW code to two ISO3 codes)."""
    return _tables(state)[1]


def _tables(state) -> tuple[dict[str, int], dict[int, str]]:
    t = getattr(state, "_cow_tables", None)
    if t is None:
        db = state.db
        rows = db.execute(db.compiled("country_cow", _stmt))
        iso = {i: int(c) for i, c in rows if c is not None}
        t = (iso, {c: i for i, c in iso.items()})
        state._cow_tables = t
    return t

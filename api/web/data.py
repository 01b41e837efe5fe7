"""What the web pages show, read with the API's own checks and statements.

Nothing here talks HTTP to the API: filters are checked by ``agreement_filter`` (the
function behind /v1/agreements and /v1/stats), lists are produced by ``listing.respond``
(the same keyset cursors, counts and caches as /v1/agreements; its JSON is parsed), and
the other reads compile statements from ``api.queries``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import Request
from sqlalchemy import bindparam, func, select
from starlette.routing import Match

from .. import listing, vocab
from ..params import Checker
from ..queries import (
    A,
    COUNTRY_COLUMNS,
    DY,
    CSVREC,
    EQUIPMENT_COLUMNS,
    AgreementFilter,
    TableFilter,
    agreement_detail,
    agreement_ids,
    agreements_count,
    agreements_page,
    countries_page,
    country_one,
    equipment_page,
)
from ..downloads import build_files  # noqa: F401 - the pages list the same files as /v1/downloads
from ..routes.agreements import KIND, LIST_FIELDS, SORTS, agreement_filter
from ..streaming import CsvEncoder
from . import stats as web_stats
from .stats import TOP_COUNTRIES, Stats

if TYPE_CHECKING:  # the open build a request is served from (``api.state.ready``)
    from ..state import Snapshot

DEFAULT_SORT = "-signed_on"   # the page shows the newest first; the API's default is signed_on
DEFAULT_LIMIT = 25
PAGE_SIZES = (10, 25, 50, 100)
COUNTRY_PAGE_LIMIT = 100
MAX_PARTY_SELECTS = 6

# Query parameters of the front page, in the order they are written into links.
MULTI = ("party", "type", "instrument", "status", "equipment_category")
SINGLE = ("signed_from", "signed_to", "venue_country", "designation", "q")
FILTER_NAMES = ("party", "signed_from", "signed_to", "type", "instrument", "status", "venue_country", "equipment_category",
                "designation", "q")


@dataclass
class WebQuery:
    """The front page's state, as read from its query string (the values as given, trimmed)."""

    filters: dict[str, Any] = field(default_factory=dict)   # name -> list (MULTI) or str | None
    sort: str | None = None
    limit: str | None = None
    cursor: str | None = None
    page: int = 1

    @classmethod
    def read(cls, query) -> "WebQuery":
        filters: dict[str, Any] = {}
        for name in MULTI:
            values = []
            for raw in query.getlist(name) + (query.getlist("country") if name == "party" else []):
                for part in raw.split(","):
                    part = part.strip()
                    if name == "party":
                        part = part.upper()
                    if part and part not in values:
                        values.append(part)
            filters[name] = values
        for name in SINGLE:
            v = (query.get(name) or "").strip()
            filters[name] = (v.upper() if name == "venue_country" else v) or None
        q = cls(filters=filters)
        q.sort = (query.get("sort") or "").strip() or None
        q.limit = (query.get("limit") or "").strip() or None
        q.cursor = (query.get("cursor") or "").strip() or None
        try:
            q.page = min(max(int(query.get("page") or 1), 1), 10**6)
        except ValueError:
            q.page = 1
        return q

    # -- the values as query-string pairs -------------------------------------------------
    def filter_pairs(self) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for name in FILTER_NAMES:
            v = self.filters.get(name)
            if isinstance(v, list):
                pairs += [(name, x) for x in v]
            elif v:
                pairs.append((name, v))
        return pairs

    def view_pairs(self, *, sort: str | None = None, limit: str | None = None) -> list[tuple[str, str]]:
        """Filters, then sort and limit (not when they are the page's defaults)."""
        s = sort if sort is not None else self.sort
        lim = limit if limit is not None else self.limit
        pairs = self.filter_pairs()
        if s and s != DEFAULT_SORT:
            pairs.append(("sort", s))
        if lim and lim != str(DEFAULT_LIMIT):
            pairs.append(("limit", lim))
        return pairs

    @property
    def effective_sort(self) -> str:
        return self.sort or DEFAULT_SORT

    @property
    def is_filtered(self) -> bool:
        return bool(self.filter_pairs())

    def api_params(self) -> dict[str, Any]:
        """The parameters as ``agreement_filter`` reads them from /v1/agreements."""
        p: dict[str, Any] = {name: self.filters.get(name) for name in FILTER_NAMES}
        p["country"] = None
        p["sort"] = self.effective_sort
        return p


def check_query(state: Snapshot, wq: WebQuery) -> tuple[AgreementFilter, int]:
    """The checked filter and page size; a Problem (422) naming every bad value otherwise."""
    check = Checker()
    limit = check.limit(wq.limit or str(DEFAULT_LIMIT), allow_all=False)
    f = agreement_filter(state, check, wq.api_params())  # calls check.done()
    return f, int(limit)


@dataclass
class AgreementList:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    equipment: dict[str, list[dict[str, Any]]]


async def list_agreements(request: Request, state: Snapshot, f: AgreementFilter, limit: int, cursor: str | None,
                          *, with_equipment: bool = True) -> AgreementList:
    """One page of agreements, exactly as /v1/agreements gives it (same statements, cursor and count)."""
    pg = not state.db.is_sqlite
    key_types = (str,) if f.sort == "agreement_id" else (str, str)
    resp = await listing.respond(
        request, state, KIND,
        shape=f.shape(), scope=f.scope(), params=f.params(),
        page_stmt=lambda with_cursor, limited, records=False: agreements_page(f, pg, with_cursor, limited, records),
        count_stmt=lambda with_cursor: agreements_count(f, pg, with_cursor),
        fmt="json", limit=limit, cursor=cursor, fields=None, key_types=key_types, inline=f.index_driven,
    )
    body = orjson.loads(resp.body)
    items = body["items"]
    equipment = await equipment_of(state, [a["agreement_id"] for a in items]) if with_equipment and items else {}
    return AgreementList(items, body["total"], body["next_cursor"], equipment)


async def equipment_of(state: Snapshot, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """agreement_id -> its equipment items, for the agreements of one page (one statement)."""
    db = state.db
    f = TableFilter(eq=(("agreement_id", len(ids)),), values=tuple((f"agreement_id{i}", v) for i, v in enumerate(ids)))
    c = db.compiled(("web", "equipment_of", len(ids)), lambda: equipment_page(f, False, False))
    out: dict[str, list[dict[str, Any]]] = {}
    for row in await db.fetch_all(c, f.params()):
        item = dict(zip(EQUIPMENT_COLUMNS, row))
        out.setdefault(item["agreement_id"], []).append(item)
    return out


async def party_countries(state: Snapshot) -> list[tuple[str, str]]:
    """(iso3, name) of every country party to at least one agreement, by name: the choices of the country selects."""
    return [(c["iso3"], c["name"]) for c in await countries_with_agreements(state)]


def _pairs(f: AgreementFilter, postgres: bool):
    """Agreements per (pair of parties, type): the edges of the partner network."""
    stmt = (select(DY.c.iso3_a, DY.c.iso3_b, A.c.agreement_type, func.count())
            .select_from(DY.join(A, A.c.agreement_id == DY.c.agreement_id)))
    if not f.is_empty:
        stmt = stmt.where(DY.c.agreement_id.in_(agreement_ids(f, postgres)))
    return stmt.group_by(DY.c.iso3_a, DY.c.iso3_b, A.c.agreement_type).order_by(DY.c.iso3_a, DY.c.iso3_b, A.c.agreement_type)


@dataclass
class Pair:
    """Two states and the agreements they are both party to (in the filtered set)."""

    a: str
    b: str
    total: int
    by_type: dict[str, int]

    @property
    def main_type(self) -> str:
        """The type of most of the pair's agreements (ties: the first in the vocabulary)."""
        order = vocab.enum("agreements", "agreement_type")
        return max(self.by_type, key=lambda t: (self.by_type[t], -order.index(t) if t in order else -99))


async def pairs(state: Snapshot, f: AgreementFilter) -> list[Pair]:
    """Every pair of states with agreements together in the filter's set, most agreements first (cached per build)."""
    key = ("web", "pairs", f.shape(), tuple(sorted(f.params().items())))
    cached = state.cache.get(key)
    if cached is not None:
        return cached
    db = state.db
    c = db.compiled(("web", "pairs", f.shape()), lambda: _pairs(f, not db.is_sqlite))
    found: dict[tuple[str, str], Pair] = {}
    for a, b, t, n in await db.fetch_all(c, f.params()):
        p = found.setdefault((a, b), Pair(a, b, 0, {}))
        p.total += n
        p.by_type[t] = n
    result = sorted(found.values(), key=lambda p: (-p.total, p.a, p.b))
    state.cache.put(key, result)
    return result


async def stats(state: Snapshot, f: AgreementFilter, *, top: int = TOP_COUNTRIES) -> Stats:
    """The numbers of /v1/stats for a filter (same statements), with years split by type."""
    key = ("web", "stats", f.shape(), tuple(sorted(f.params().items())), top)
    cached = state.cache.get(key)
    if cached is not None:
        return cached
    db = state.db
    params = f.params()
    rows = {name: await db.fetch_all(db.compiled(ckey, build), params)
            for name, (ckey, build) in web_stats.stats_statements_web(f, not db.is_sqlite).items()}
    result = web_stats.stats_from_rows(rows, state.countries, top=top)
    state.cache.put(key, result)
    return result


async def agreement(state: Snapshot, agreement_id: str) -> dict[str, Any] | None:
    """The document of /v1/agreements/{id}, or None."""
    if len(agreement_id) > 200 or "\x00" in agreement_id:
        return None
    db = state.db
    row = await db.fetch_one(db.compiled("agreement_detail", agreement_detail), {"agreement_id": agreement_id}, inline=True)
    return orjson.loads(db.docs.detail(row[0])) if row else None


def _one_csv():
    return select(CSVREC.c.csv_record).where(CSVREC.c.agreement_id == bindparam("agreement_id"))


async def agreement_csv(state: Snapshot, agreement_id: str) -> bytes | None:
    """One agreement as /v1/agreements?format=csv writes it (header and the build's CSV record)."""
    if len(agreement_id) > 200 or "\x00" in agreement_id:
        return None
    db = state.db
    row = await db.fetch_one(db.compiled(("web", "agreement_csv"), _one_csv), {"agreement_id": agreement_id}, inline=True)
    if row is None:
        return None
    return CsvEncoder(KIND.csv_columns(LIST_FIELDS)).head() + db.docs.csv_records([row])


async def country(state: Snapshot, iso3: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The country of /v1/countries/{iso3} and its partners, or None."""
    code = iso3.strip().upper()
    if len(code) != 3 or not code.isalpha() or code not in state.countries:
        return None
    db = state.db
    row = await db.fetch_one(db.compiled("country_one", country_one), {"iso3": code}, inline=True)
    if row is None:
        return None
    item = dict(zip(COUNTRY_COLUMNS, row[: len(COUNTRY_COLUMNS)]))
    partners = orjson.loads(row[len(COUNTRY_COLUMNS)] or "[]")
    return item, partners


def country_filter(state: Snapshot, *iso3: str) -> AgreementFilter:
    """The agreements of one country, or (given two) of a pair: all of them are parties."""
    check = Checker()
    p = WebQuery(filters={"party": list(iso3)}).api_params()
    return agreement_filter(state, check, p)


def with_sort(f: AgreementFilter, sort: str) -> AgreementFilter:
    assert sort in SORTS
    return replace(f, sort=sort.lstrip("-"), desc=sort.startswith("-"))


# --------------------------------------------------------------------------- downloads

def app_serves(request: Request, path: str) -> bool:
    """Whether the app has a GET route (other than this package's) for ``path``."""
    scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "path_params": {}}
    for route in request.app.router.routes:
        if getattr(route, "endpoint", None) is not None and getattr(route.endpoint, "__module__", "").startswith(__package__):
            continue
        try:
            match, _ = route.matches(scope)
        except Exception:  # noqa: BLE001 - a route that cannot judge this scope does not serve it
            continue
        if match == Match.FULL:
            return True
    return False


async def countries_with_agreements(state: Snapshot) -> list[dict[str, Any]]:
    """Every country party to at least one agreement, by name, with its counts (as /v1/countries gives them)."""
    cached = state.cache.get(("web", "countries_with_agreements"))
    if cached is None:
        db = state.db
        f = TableFilter(flags=("has_agreements",), sort="name")
        c = db.compiled(("web", "party_countries"), lambda: countries_page(f, False, False))
        cached = [dict(zip(COUNTRY_COLUMNS, r)) for r in await db.fetch_all(c, f.params())]
        state.cache.put(("web", "countries_with_agreements"), cached)
    return cached

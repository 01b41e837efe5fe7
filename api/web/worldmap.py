"""The world map: every state shaded by its number of agreements, laid out here, drawn by ``_overview.html``.

Server-rendered inline SVG from the Natural Earth shapes of ``api.web.geo`` (Equal Earth
projection), so the map needs no script, no tiles and no other host. Each state with
agreements is a link to its country page and has a native tooltip; the template adds the same
numbers as a table (the text alternative). Classes, not inline styles, give the colours (CSP).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import geo

# Upper bounds of the shading classes q1..q5 (q5: anything above the last bound).
BINS = (1, 3, 7, 15)


@dataclass
class State:
    iso3: str
    name: str
    count: int
    cls: str
    d: str = ""
    cx: float = 0
    cy: float = 0
    href: str | None = None


@dataclass
class WorldMap:
    id: str
    title: str
    desc: str
    width: float
    height: float
    states: list[State] = field(default_factory=list)      # drawn: every shape, those with agreements last
    table: list[State] = field(default_factory=list)       # the text alternative: states with agreements, most first
    legend: list[tuple[str, str]] = field(default_factory=list)
    installed: bool = True

    @property
    def linked(self) -> list[State]:
        return [s for s in self.states if s.href]


def shade(n: int) -> str:
    if n <= 0:
        return "q0"
    for i, top in enumerate(BINS, start=1):
        if n <= top:
            return f"q{i}"
    return f"q{len(BINS) + 1}"


def legend() -> list[tuple[str, str]]:
    out, low = [], 1
    for i, top in enumerate(BINS, start=1):
        out.append((f"q{i}", str(low) if low == top else f"{low}–{top}"))
        low = top + 1
    out.append((f"q{len(BINS) + 1}", f"{low} or more"))
    return out


def world_map(counts: dict[str, int], names: dict[str, str], href, *, chart_id: str = "map",
              title: str = "Where the agreements are") -> WorldMap:
    """The map of ``counts`` (iso3 -> agreements the state is party to); ``href(iso3)`` links a state."""
    m = WorldMap(chart_id, title, "World map: each state shaded by the number of agreements it is party to; "
                 "states with agreements link to their page.", geo.WIDTH, geo.HEIGHT, legend=legend())
    shapes = geo.shapes()
    m.table = [State(iso, names.get(iso) or iso, n, shade(n), href=href(iso))
               for iso, n in sorted(counts.items(), key=lambda kv: (-kv[1], names.get(kv[0]) or kv[0])) if n > 0]
    if shapes is None:
        m.installed = False
        return m
    plain, linked = [], []
    for s in shapes:
        n = counts.get(s.iso3, 0)
        if s.is_point and n <= 0:
            continue   # a territory too small to see, party to nothing: left out
        st = State(s.iso3, names.get(s.iso3) or s.iso3, n, shade(n), s.d, s.cx, s.cy, href(s.iso3) if n > 0 else None)
        (linked if n > 0 else plain).append(st)
    m.states = plain + [s for s in linked if not s.d == ""] + [s for s in linked if s.d == ""]
    return m

"""The charts of the web pages and of the codebook: laid out here, drawn by ``templates/_charts.svg``.

One implementation for both (issue #14). The web pages inline the SVG (``inline_svg``);
``dca codebook`` writes the same drawing of the same numbers as standalone files
(``svg_document``, docs/figures/*.svg), fed by the same statements and aggregation
(``stats.stats_from_rows``; see scripts/figures.py). Why SVG from this module rather than
one charting library for both: matplotlib (which drew the codebook's PNGs) writes every
colour as a ``style`` attribute, which the pages' Content Security Policy (``style-src
'self'``) refuses, and the JavaScript libraries (Vega, Plotly...) would need a script and
a runtime for the codebook files; a few dozen lines of layout and one template need
neither, show without JavaScript, and keep the charts accessible.

Server-rendered, no JavaScript and no charting library, so the charts show without
JavaScript, offline, and under a Content Security Policy without inline scripts or
styles. On the pages colours come from classes in ``static/style.css``; the standalone
files carry the same colours as presentation attributes (``fill=``, ``stroke=``, which
are not styles), read from that stylesheet (``Paint``), so the palette is written once.
Every text reaches the SVG through the template, which escapes it. Each chart has a
title and description for screen readers and native tooltips (``<title>`` of each mark)
that carry the numbers; the pages add the numbers as a table, the codebook its tables.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from markupsafe import Markup, escape

from .labels import label

WIDTH = 440
FONT = 12


@dataclass
class Mark:
    x: float
    y: float
    w: float
    h: float
    cls: str
    tip: str


@dataclass
class Tick:
    pos: float
    text: str


@dataclass
class Row:
    """One bar of a horizontal bar chart, with its label (``text``, shortened from ``name``) and link (if any)."""

    y: float
    w: float
    text: str
    value: int
    href: str | None
    name: str = ""


@dataclass
class Chart:
    id: str
    title: str
    desc: str
    width: float
    height: float
    plot: tuple[float, float, float, float]   # left, top, right, bottom
    marks: list[Mark] = field(default_factory=list)
    xticks: list[Tick] = field(default_factory=list)
    yticks: list[Tick] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)   # (class, label)
    label_w: float = 0
    bar_h: float = 0
    kind: str = "columns"   # or "bars" (horizontal, ``rows``)

    @property
    def empty(self) -> bool:
        return not (self.marks or self.rows)


def nice_step(top: int, max_ticks: int = 5) -> int:
    """A step of 1, 2 or 5 times a power of ten giving at most ``max_ticks`` ticks above zero."""
    if top <= 0:
        return 1
    raw = top / max_ticks
    mag = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    for m in (1, 2, 5, 10):
        if m * mag >= raw:
            return max(1, int(m * mag))
    return int(10 * mag)


def _year_axis(years: list[str], left: float, band: float, bottom: float) -> list[Tick]:
    every = 1
    for step in (1, 2, 5, 10, 20, 50, 100):
        every = step
        if band * step >= 42:   # room for "2014" at up to 15 units
            break
    ticks = []
    for i, y in enumerate(years):
        if int(y) % every == 0 or (every > 1 and len(years) <= every and i == 0):
            ticks.append(Tick(round(left + band * (i + 0.5), 2), y))
    return ticks


def _value_axis(top_value: int, top: float, bottom: float) -> tuple[int, list[Tick]]:
    step = nice_step(max(top_value, 1), 4)
    ymax = max(step, math.ceil(max(top_value, 1) / step) * step)
    ticks = [Tick(round(bottom - (bottom - top) * v / ymax, 2), str(v)) for v in range(0, ymax + 1, step)]
    return ymax, ticks


def year_type_chart(years: list[str], types: list[str], counts: dict[tuple[str, str], int], *,
                    chart_id: str = "chart-years", all_types: list[str] | None = None, height: int = 230,
                    title: str = "Agreements signed per year, by type", width: float = WIDTH) -> Chart:
    """Agreements signed per year, stacked by type."""
    order = all_types or types
    left, top, right, bottom = 34.0, 8.0, width - 6.0, height - 24.0
    chart = Chart(chart_id, title,
                  "Stacked columns: for each year of signature, the number of agreements of each type.",
                  width, height, (left, top, right, bottom))
    if not years:
        return chart
    totals = {y: sum(counts.get((y, t), 0) for t in types) for y in years}
    ymax, chart.yticks = _value_axis(max(totals.values()), top, bottom)
    band = (right - left) / len(years)
    w = max(band * 0.78, 1.0)
    for i, y in enumerate(years):
        base = bottom
        for t in types:
            n = counts.get((y, t), 0)
            if not n:
                continue
            h = (bottom - top) * n / ymax
            base -= h
            chart.marks.append(Mark(round(left + band * i + (band - w) / 2, 2), round(base, 2), round(w, 2), round(h, 2),
                                    f"c{order.index(t)}", f"{y}, {label(t)}: {n}"))
    chart.xticks = _year_axis(years, left, band, bottom)
    chart.legend = [(f"c{order.index(t)}", label(t)) for t in types]
    return chart


def year_chart(by_year: list[tuple[str, int]], *, title: str, desc: str, chart_id: str) -> Chart:
    """A small column chart of counts per year (a timeline)."""
    height = 130
    left, top, right, bottom = 28.0, 8.0, WIDTH - 6.0, height - 24.0
    chart = Chart(chart_id, title, desc, WIDTH, height, (left, top, right, bottom))
    if not by_year:
        return chart
    ymax, chart.yticks = _value_axis(max(n for _, n in by_year), top, bottom)
    chart.yticks = [t for t in chart.yticks if t.text in ("0", str(ymax))]
    band = (right - left) / len(by_year)
    w = max(band * 0.7, 1.0)
    for i, (y, n) in enumerate(by_year):
        if n:
            h = (bottom - top) * n / ymax
            chart.marks.append(Mark(round(left + band * i + (band - w) / 2, 2), round(bottom - h, 2), round(w, 2), round(h, 2),
                                    "c0", f"{y}: {n} agreement{'s' if n != 1 else ''}"))
    chart.xticks = _year_axis([y for y, _ in by_year], left, band, bottom)
    return chart


def country_chart(by_country: list[tuple[str, str, int]], href=None, *, chart_id: str = "chart-countries",
                  title: str = "Most connected countries", width: float = WIDTH, label_w: float = 132.0,
                  max_chars: int = 16) -> Chart:
    """Horizontal bars: the countries party to the most agreements, each linking to its page (``href(iso3)``;
    without ``href``, as in the codebook's figure, the bars link nowhere)."""
    bar_h, gap = 16.0, 7.0
    n = len(by_country)
    height = 8 + n * (bar_h + gap) + 4
    left, top, right = label_w + 8, 8.0, width - 34.0
    chart = Chart(chart_id, title,
                  "Horizontal bars: the countries party to the most agreements, with the number of agreements.",
                  width, height, (left, top, right, height - 4), label_w=label_w, bar_h=bar_h, kind="bars")
    if not by_country:
        return chart
    top_value = max(c for _, _, c in by_country) or 1
    for i, (iso, name, count) in enumerate(by_country):
        y = top + i * (bar_h + gap)
        text = name if len(name) <= max_chars else name[:max_chars - 1] + "…"
        chart.rows.append(Row(y, round((right - left) * count / top_value, 2), text, count,
                              href(iso) if href else None, name))
    return chart


# --------------------------------------------------------------------------- a pair's timeline

@dataclass
class Step:
    x: float
    status: str
    tip: str


@dataclass
class Lane:
    """One agreement of a pair: a line from signing to its last known step, with a mark per status change."""

    y: float
    x1: float
    x2: float
    cls: str
    text: str
    href: str
    tip: str
    steps: list[Step] = field(default_factory=list)


@dataclass
class Timeline:
    id: str
    title: str
    desc: str
    width: float
    height: float
    plot: tuple[float, float, float, float]
    lanes: list[Lane] = field(default_factory=list)
    xticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.lanes


def _year_frac(date: str | None) -> float | None:
    """A date (YYYY, YYYY-MM or YYYY-MM-DD) as a year with its fraction; None if there is none."""
    if not date or len(date) < 4 or not date[:4].isdigit():
        return None
    y = int(date[:4])
    m = int(date[5:7]) if len(date) >= 7 and date[5:7].isdigit() else 6
    d = int(date[8:10]) if len(date) >= 10 and date[8:10].isdigit() else 15
    return y + (m - 1) / 12 + (d - 1) / 365


def pair_timeline(agreements: list[dict], history: dict[str, list[dict]], *, types: list[str], built: str,
                  href, chart_id: str = "pair-timeline", title: str = "Timeline") -> Timeline:
    """Each agreement on a time axis: signed (a dot coloured by type), each dated status step (a tick), the
    line to its end or, for one still running, to the build date. ``history``: agreement_id -> its steps."""
    lane_h, top = 38.0, 8.0
    left, right = 8.0, WIDTH * 1.6 - 8.0
    height = top + lane_h * max(len(agreements), 1) + 26
    bottom = height - 24
    t = Timeline(chart_id, title, "Timeline: one line per agreement from its signing to its end or to today, with a "
                 "mark for each dated change of status.", WIDTH * 1.6, height, (left, top, right, bottom))
    dates = []
    for a in agreements:
        dates += [_year_frac(a.get("signed_on")), _year_frac(a.get("end_on"))]
        dates += [_year_frac(h.get("status_on")) for h in history.get(a["agreement_id"], [])]
    dates = [d for d in dates if d is not None]
    if not dates:
        return t
    end = _year_frac(built) or max(dates)
    y0 = math.floor(min(dates))
    y1 = math.ceil(max(max(dates), end)) or y0 + 1
    if y1 <= y0:
        y1 = y0 + 1

    def x(v: float) -> float:
        return round(left + (right - left) * (v - y0) / (y1 - y0), 2)

    used = []
    for i, a in enumerate(agreements):
        s = _year_frac(a.get("signed_on"))
        if s is None:
            continue
        steps = [h for h in history.get(a["agreement_id"], []) if _year_frac(h.get("status_on")) is not None]
        stop = _year_frac(a.get("end_on"))
        if stop is None:
            stop = end if a.get("status") not in ("expired", "terminated", "superseded", "suspended") else \
                max([_year_frac(h["status_on"]) for h in steps] + [s])
        ty = a.get("agreement_type") or "other"
        if ty not in used:
            used.append(ty)
        title_text = a.get("title") or a["agreement_id"]
        lane = Lane(top + i * lane_h + 22, x(s), x(max(stop, s)), f"c{types.index(ty) if ty in types else 0}",
                    title_text if len(title_text) <= 70 else title_text[:69] + "…", href(a["agreement_id"]),
                    f"{title_text}: signed {a.get('signed_on')}, {label(ty)}, now {label(a.get('status') or '')}")
        for h in steps:
            st = h.get("agreement_status") or h.get("equipment_status") or ""
            lane.steps.append(Step(x(_year_frac(h["status_on"])), st,
                                   f"{h['status_on']}: {label(st) if st else ''} {h.get('description') or ''}".strip()))
        t.lanes.append(lane)
    band = (right - left) / (y1 - y0)
    t.xticks = [Tick(x(y), str(y)) for y in range(y0, y1 + 1)
                if (y - y0) % max(1, next(s for s in (1, 2, 5, 10, 20, 50) if band * s >= 42)) == 0]
    t.legend = [(f"c{types.index(ty) if ty in types else 0}", label(ty)) for ty in types if ty in used]
    return t


# --------------------------------------------------------------------------- drawing (pages and codebook)

STYLESHEET = Path(__file__).resolve().parent / "static" / "style.css"
# What the standalone files paint, by the name the template asks for: the stylesheet's rule for it.
PAINTED = {"text": ".chart-svg text", "grid": ".chart-svg .grid line", "baseline": ".chart-svg .baseline",
           "mark": ".chart-svg .mark", "bar": ".chart-svg .bar", "bar-value": ".chart-svg .bar-value"}
PRESENTATION = ("fill", "stroke", "stroke-width")   # the properties that are also SVG presentation attributes


@lru_cache(maxsize=4)
def stylesheet_rules(path: Path = STYLESHEET) -> dict[str, dict[str, str]]:
    """selector -> {property: value} of the stylesheet's plain rules (the first rule for a selector wins;
    ``var(--x)`` resolved from ``:root``). Enough for the one-line rules of style.css, not a CSS parser."""
    text = re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)
    rules: dict[str, dict[str, str]] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", text):
        decls = {}
        for decl in body.split(";"):
            name, colon, value = decl.partition(":")
            if colon:
                decls[name.strip()] = value.strip()
        for sel in selectors.split(","):
            rules.setdefault(" ".join(sel.split()), decls)
    root = rules.get(":root", {})
    for decls in rules.values():
        for k, v in decls.items():
            decls[k] = re.sub(r"var\((--[\w-]+)\)", lambda m: root.get(m.group(1), m.group(0)), v)
    return rules


class Paint:
    """The presentation attributes of a mark, by the names of its classes: what style.css gives those
    classes on the pages, for the standalone files, which no stylesheet reaches."""

    def __init__(self, rules: dict[str, dict[str, str]]):
        self.rules = rules

    def attrs(self, *names: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for name in names:
            decls = self.rules.get(PAINTED.get(name, f".{name}"), {})
            out.update({k: v for k, v in decls.items() if k in PRESENTATION and "var(" not in v})
        return out

    def __call__(self, *names: str) -> Markup:
        return Markup("".join(f' {k}="{escape(v)}"' for k, v in self.attrs(*names).items()))


class NoPaint(Paint):
    """On the pages the stylesheet colours the charts: no attributes."""

    def __init__(self):
        super().__init__({})

    def __call__(self, *names: str) -> Markup:
        return Markup("")


def _macros():
    from .render import env   # the pages' environment: autoescape on for .svg

    return env.get_template("_charts.svg").module


def inline_svg(ch: Chart) -> Markup:
    """The chart's ``<svg>`` element for a page (coloured by the stylesheet's classes)."""
    return _macros().inline(ch, NoPaint())


LEGEND_ROW = 18.0
CHAR_W = 7.2   # average advance of a 12-unit sans-serif character, for laying out the legend


@dataclass
class LegendItem:
    x: float
    y: float
    cls: str
    text: str


def legend_layout(legend: list[tuple[str, str]], width: float, left: float = 8.0) -> list[LegendItem]:
    """The legend's swatches and labels in rows that fit ``width``."""
    items, x, y = [], left, 0.0
    for cls, text in legend:
        w = 16 + CHAR_W * len(text) + 14
        if x > left and x + w > width:
            x, y = left, y + LEGEND_ROW
        items.append(LegendItem(round(x, 2), y, cls, text))
        x += w
    return items


def svg_document(ch: Chart, *, note: str = "") -> bytes:
    """The chart as a standalone SVG file (the codebook's figures): the same drawing as on the pages, with
    its title and legend drawn in, colours as presentation attributes, and no style attribute or element."""
    head = 30.0
    legend = legend_layout(ch.legend, ch.width)
    height = head + ch.height + (LEGEND_ROW * (legend[-1].y / LEGEND_ROW + 1) + 8 if legend else 0)
    text = _macros().document(ch, Paint(stylesheet_rules()), legend=legend, head=head, height=round(height, 2),
                              note=note)
    return (str(text).strip() + "\n").encode("utf-8")

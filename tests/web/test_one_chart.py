"""One chart implementation (issue #14): the codebook's figures and the front page's charts of the same data
come from the same functions and carry the same numbers, and every chart SVG is safe under the pages' CSP.

``real_db`` is a build of this repository's package; the build writes the codebook of that package
(build/docs/), so its figures and the pages served from the build describe the same data.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from api.web import charts, data, stats
from api.web.render import CSP
from scripts import figures
from scripts.codebook import FIG_COUNTRIES, FIG_YEARS, TOP_N, render_codebook
from tests.web.dom import parse

SVG = "{http://www.w3.org/2000/svg}"


def _figure(real_db, rel: str) -> ET.Element:
    return ET.fromstring((real_db.parent / "docs" / rel).read_bytes())


def _local(tag: str) -> str:
    return tag.split("}")[-1]


def _columns(marks, ticks, baseline_y: float) -> list[tuple[str, str, int]]:
    """(colour class, tooltip, value read back from the geometry) of each column segment."""
    top = max(ticks, key=lambda t: t[1])
    scale = top[1] / (baseline_y - top[0])   # value per unit of height
    out = []
    for cls, tip, h in marks:
        out.append((cls, tip, round(h * scale)))
    return out


def _page_columns(svg) -> list[tuple[str, str, int]]:
    marks = [(next(c for c in r.classes if re.fullmatch(r"c\d+", c)), r.find("title").text, float(r.get("height")))
             for r in svg.find_all("rect", cls="mark")]
    ticks = [(float(t.get("y")), int(t.text)) for t in svg.find_all("g", cls="axis")[0].find_all("text")]
    return _columns(marks, ticks, float(svg.find("line", cls="baseline").get("y1")))


def _file_columns(root: ET.Element) -> list[tuple[str, str, int]]:
    marks, ticks, baseline = [], [], None
    chart = next(g for g in root.iter(f"{SVG}g") if g.get("class") == "chart")
    axes = [g for g in chart.iter(f"{SVG}g") if g.get("class") == "axis"]
    ticks = [(float(t.get("y")), int(t.text)) for t in axes[0].iter(f"{SVG}text")]
    for r in chart.iter(f"{SVG}rect"):
        if "mark" in r.get("class", "").split():
            cls = next(c for c in r.get("class").split() if re.fullmatch(r"c\d+", c))
            marks.append((cls, r.find(f"{SVG}title").text, float(r.get("height"))))
    baseline = next(ln for ln in chart.iter(f"{SVG}line") if ln.get("class") == "baseline")
    return _columns(marks, ticks, float(baseline.get("y1")))


def test_year_figure_and_front_page_chart_carry_the_same_numbers(html, real_db):
    page = parse(html.get("/").text).by_id("chart-years")
    on_page = _page_columns(page)
    in_file = _file_columns(_figure(real_db, FIG_YEARS))
    assert on_page and on_page == in_file
    for _, tip, value in in_file:   # the drawn height is the number in the tooltip
        assert tip.endswith(f": {value}")
    # and the numbers are the API's: the per-year totals add up to /v1/stats
    stats = html.get("/v1/stats", headers={"Accept": "application/json"}).json()
    assert sum(v for *_, v in in_file) == stats["total"]


def _bars_page(svg) -> list[tuple[str, int, float]]:
    return [(a.find("rect").find("title").text, int(a.find("text", cls="bar-value").text), float(a.find("rect").get("width")))
            for a in svg.find_all("a", cls="bar-link")]


def _bars_file(root: ET.Element) -> list[tuple[str, int, float]]:
    out = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "bar-row":
            rect = g.find(f"{SVG}rect")
            value = next(t for t in g.iter(f"{SVG}text") if t.get("class") == "bar-value")
            out.append((rect.find(f"{SVG}title").text, int(value.text), float(rect.get("width"))))
    return out


def test_country_figure_and_front_page_chart_carry_the_same_numbers(html, real_db):
    on_page = _bars_page(parse(html.get("/").text).by_id("chart-countries"))
    in_file = _bars_file(_figure(real_db, FIG_COUNTRIES))
    assert len(on_page) == data.TOP_COUNTRIES and len(in_file) == TOP_N
    assert [(tip, v) for tip, v, _ in on_page] == [(tip, v) for tip, v, _ in in_file[: len(on_page)]]
    for bars in (on_page, in_file):   # bar lengths are proportional to the numbers
        longest = max(bars, key=lambda b: b[2])
        for tip, v, w in bars:
            assert tip.endswith(f": {v} agreement{'s' if v != 1 else ''}")
            assert abs(w / longest[2] * longest[1] - v) < 0.05
    stats = html.get("/v1/stats", headers={"Accept": "application/json"}).json()
    assert [v for _, v, _ in in_file] == [c["count"] for c in stats["by_country"][:TOP_N]]


def _shape(nodes) -> list[tuple[str, str]]:
    return [(n[0], n[1]) for n in nodes]


def test_figure_is_the_page_drawing_standalone(html, real_db):
    """Element for element, the codebook figure's chart is the page's chart (the same template macro)."""
    page = parse(html.get("/").text).by_id("chart-years")
    page_shape = [(n.tag, n.get("class") or "") for n in page.iter() if n.tag not in ("title", "desc")
                  or n.parent is not page]
    chart = next(g for g in _figure(real_db, FIG_YEARS).iter(f"{SVG}g") if g.get("class") == "chart")
    file_shape = [(_local(n.tag), n.get("class") or "") for n in chart.iter() if n is not chart]
    # the page's axis shows fewer year labels (it is narrower); everything else matches one to one
    strip = lambda shape: [s for s in shape if s != ("text", "")]  # noqa: E731
    assert strip(page_shape) == strip(file_shape)


def test_codebook_and_page_call_the_same_functions(html, tmp_path, monkeypatch):
    """A spy on the shared layout, aggregation and drawing sees both the codebook and the front page."""
    from tests.packages import copy_real_package

    calls: dict[str, list[str]] = {}

    def spy(module, name):
        real = getattr(module, name)

        def wrapper(*args, **kwargs):
            calls.setdefault(name, []).append(who)
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)

    for module, name in ((charts, "year_type_chart"), (charts, "country_chart"), (charts, "_macros"),
                         (stats, "stats_from_rows")):
        spy(module, name)
    who = "codebook"
    render_codebook(copy_real_package(tmp_path / "pkg"))
    who = "page"
    assert html.get("/?signed_from=1901").status_code == 200   # a filter no other test caches
    for name in ("year_type_chart", "country_chart", "_macros", "stats_from_rows"):
        assert {"codebook", "page"} <= set(calls.get(name, [])), (name, calls.get(name))
    assert figures.charts is charts and figures.stats is stats


def test_the_codebook_figures_draw_without_importing_the_web_framework():
    """The figures run inside `dca build`, where every import costs build time (issue #15): the module
    that draws them shares the pages' statements and aggregation but must not pull in FastAPI,
    Starlette or the pages' request code."""
    import subprocess
    import sys

    code = ("import sys, scripts.figures, scripts.codebook; "
            "print(sorted(m for m in ('fastapi', 'starlette', 'api.web.data', 'api.web.routes') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --------------------------------------------------------------------------- CSP

def test_the_pages_csp_refuses_inline_styles():
    """The premise of the rule below: style-src without 'unsafe-inline' (nor a hash or nonce)."""
    style = next(d for d in CSP.split(";") if d.strip().startswith("style-src")).split()[1:]
    assert style == ["'self'"]


@pytest.mark.parametrize("url", ["/", "/countries/PAK"])
def test_page_charts_have_no_style_attribute_or_element(html, url):
    doc = parse(html.get(url).text)
    svgs = doc.find_all("svg")
    assert svgs
    for svg in svgs:
        for n in [svg, *svg.iter()]:
            assert n.tag not in ("style", "script") and "style" not in n.attrs, (url, n.tag, n.attrs)


@pytest.mark.parametrize("rel", [FIG_YEARS, FIG_COUNTRIES])
def test_figure_files_are_csp_safe_accessible_svg(real_db, rel):
    raw = (real_db.parent / "docs" / rel).read_bytes()
    root = ET.fromstring(raw)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    ids = root.get("aria-labelledby").split()
    assert [_local(c.tag) for c in root[:2]] == ["title", "desc"] and [c.get("id") for c in root[:2]] == ids
    assert root[0].text.startswith(("Agreements signed per year", f"The {TOP_N} countries"))
    for n in root.iter():
        assert _local(n.tag) not in ("style", "script", "foreignObject", "image", "use")
        assert "style" not in n.attrib and not any(k.startswith("on") for k in n.attrib)
        assert not any("href" in k for k in n.attrib)   # nothing to fetch, nowhere to go
    assert b"<?xml-stylesheet" not in raw and b"url(" not in raw


def test_figure_colours_are_the_stylesheets():
    """The files' presentation attributes come from the rules that colour the same classes on the pages."""
    rules = charts.stylesheet_rules()
    paint = charts.Paint(rules)
    assert paint.attrs("c3") == {"fill": rules[".c3"]["fill"]}
    assert paint.attrs("mark", "c0") == {"stroke": "#fff", "stroke-width": "0.6", "fill": rules[".c0"]["fill"]}
    for name, selector in charts.PAINTED.items():
        assert selector in rules and paint.attrs(name), name
    assert str(charts.NoPaint()("mark", "c0")) == ""


def test_codebook_page_serves_the_svg_figures_with_the_pages_headers(html):
    doc = parse(html.get("/codebook").text)
    imgs = doc.find("article").find_all("img")
    assert {i.get("src").rsplit("/", 1)[-1] for i in imgs} == {FIG_YEARS.rsplit("/", 1)[-1], FIG_COUNTRIES.rsplit("/", 1)[-1]}
    for img in imgs:
        r = html.get(img.get("src"))
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        assert r.headers["content-security-policy"] == CSP
        ET.fromstring(r.content)
    assert html.get("/codebook/figures/top_countries.png").status_code == 404

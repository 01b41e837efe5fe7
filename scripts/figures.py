"""The codebook's figures: the web pages' charts (api/web/charts.py), of the package's numbers counted by
the web pages' statements (api/web/stats.py), written as standalone SVG files.

One chart implementation for the site and the codebook (issue #14). The package's resources are
loaded, by the build's own loader (``build.load_resources``), into an in-memory SQLite database
with the build's tables; there the statements the front page runs for its charts
(``stats.stats_statements_web``, unfiltered) count them, and the page's aggregation
(``stats.stats_from_rows``) and chart layout (``charts.year_type_chart``, ``charts.country_chart``)
make the figures. So a figure and the front page's chart of the same data show the same numbers,
drawn by the same code (``charts.svg_document`` is the page's drawing, standalone).

Deterministic on purpose: the SVG is text from a template, with rounded coordinates and no date,
so the same data give the same bytes and ``dca codebook --check`` can tell stale figures.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy.dialects import sqlite as sqlite_dialect

from api.db import Compiled
from api.queries import AgreementFilter, country_names
from api.web import charts, stats
from api.web.stats import Stats
from schema.tableschema import Package

from .build import create_tables, load_resources, read_frames

FIGURE_WIDTH = 720
COUNTRY_FIGURE_WIDTH = 600


def package_stats(pkg: Package, *, top: int, db: Path | None = None, con: sqlite3.Connection | None = None) -> Stats:
    """The numbers of the front page's charts, for every agreement of the package.

    `db`: the package's build database, whose resource tables the build's loader has filled already; read
    there instead of loading the package a second time (at 100k agreements the load is most of the
    codebook's time). `con`: a connection to such a database (`dca build`'s own, in its database thread,
    once the resources are loaded), used as it is and left open."""
    own = con is None
    if con is None:
        con = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True) if db is not None else sqlite3.connect(":memory:")
    try:
        if own and db is None:
            create_tables(con)
            with con:
                load_resources(con, read_frames(pkg))
        dialect = sqlite_dialect.dialect(paramstyle="qmark")
        f = AgreementFilter()

        def run(stmt) -> list[tuple]:
            c = Compiled(stmt, dialect)
            return con.execute(c.sql, c.bind(f.params())).fetchall()

        rows = {name: run(build()) for name, (_, build) in stats.stats_statements_web(f, False).items()}
        names = dict(run(country_names()))
    finally:
        if own:
            con.close()
    return stats.stats_from_rows(rows, names, top=top)


def agreements_per_year_by_type(st: Stats, version: str, all_types: list[str]) -> bytes:
    """Stacked columns: agreements signed per year, one colour per agreement type (the front page's chart)."""
    ch = charts.year_type_chart(st.years, st.types, st.counts, all_types=all_types, chart_id="chart-years",
                                height=300, width=FIGURE_WIDTH,
                                title=f"Agreements signed per year, by type (dataset version {version})")
    return charts.svg_document(ch, note="The numbers are in the codebook's tables.")


def top_countries(st: Stats, version: str, n: int) -> bytes:
    """Horizontal bars: the n countries party to most agreements, most first (the front page's chart, longer)."""
    ch = charts.country_chart(st.by_country[:n], chart_id="chart-countries", width=COUNTRY_FIGURE_WIDTH,
                              label_w=200.0, max_chars=30,
                              title=f"The {n} countries party to most agreements (dataset version {version})")
    return charts.svg_document(ch, note="Ties are in the order of the ISO3 codes.")

"""The codebook's figures, drawn with matplotlib's Agg renderer into PNG bytes.

Deterministic on purpose: no pyplot global state, a fixed font (DejaVu Sans, which
ships with matplotlib), fixed size and resolution, and no 'Software' or date
metadata in the PNG, so that regenerating the codebook from the same data gives
the same bytes and a test can tell when the committed figures are stale.
"""
from __future__ import annotations

import io
from collections import Counter

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 11,
    "svg.hashsalt": "dca",
    "path.simplify": True,
}


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    return buf.getvalue()


def agreements_per_year_by_type(years_types: list[tuple[int, str]], types: list[str], version: str) -> bytes:
    """Stacked bars: agreements signed per year, one colour per agreement type."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(10, 5.2))
        ax = fig.add_subplot()
        counts = Counter(years_types)
        if years_types:
            first, last = min(y for y, _ in years_types), max(y for y, _ in years_types)
        else:
            first = last = 2000
        years = list(range(first, last + 1))
        tab10 = matplotlib.colormaps["tab10"]
        colours = [tab10(i) for i in range(10)] + ["#393b79", "#8c6d31", "#e7ba52"]
        bottom = [0] * len(years)
        for i, t in enumerate(types):
            heights = [counts.get((y, t), 0) for y in years]
            if not any(heights):
                continue
            ax.bar(years, heights, bottom=bottom, width=0.8, color=colours[i % len(colours)], label=t, edgecolor="white", linewidth=0.3)
            bottom = [b + h for b, h in zip(bottom, heights)]
        ax.margins(y=0.06)
        ax.set_title(f"Agreements signed per year, by type (dataset version {version})")
        ax.set_xlabel("Year of signature")
        ax.set_ylabel("Agreements")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        if years_types:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="Agreement type")
        fig.subplots_adjust(left=0.07, right=0.74, top=0.92, bottom=0.1)
        return _png(fig)


def top_countries(rows: list[tuple[str, int]], version: str, n: int = 25) -> bytes:
    """Horizontal bars: the n countries party to most agreements (label, count), most first."""
    import matplotlib
    from matplotlib.figure import Figure

    rows = rows[:n]
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(8, max(2.5, 0.28 * len(rows) + 1.2)))
        ax = fig.add_subplot()
        labels = [r[0] for r in rows][::-1]
        values = [r[1] for r in rows][::-1]
        ax.barh(range(len(rows)), values, color="#3b6ea5", height=0.7)
        ax.set_yticks(range(len(rows)), labels)
        ax.set_ylim(-0.6, max(len(rows), 1) - 0.4)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v}", va="center", fontsize=8)
        ax.set_title(f"The {n} countries party to most agreements (dataset version {version})")
        ax.set_xlabel("Agreements the country is party to")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(x=0.08)
        fig.subplots_adjust(left=0.3, right=0.97, top=0.94, bottom=max(0.06, 0.6 / fig.get_figheight()))
        return _png(fig)

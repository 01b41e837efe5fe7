"""The partner network: states as nodes, agreements between two states as edges, laid out by networkx.

Edge width grows with the number of agreements of the pair, its colour is the type of most of
them (the same ``c0``... classes as the timelines), node size with the agreements of the state.
The layout is networkx's force-directed ``spring_layout`` with a fixed seed, so the same data
always give the same picture (and tests can compare); on a country page that country is pinned
at the centre. Computed once per build and filter (``data.pairs`` is cached; so is this).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from .labels import label

WIDTH, HEIGHT = 640.0, 440.0
MARGIN = 34.0


@dataclass
class Node:
    iso3: str
    name: str
    x: float
    y: float
    r: float
    count: int
    href: str
    text: str
    anchor: str
    focus: bool = False


@dataclass
class Edge:
    a: str
    b: str
    x1: float
    y1: float
    x2: float
    y2: float
    w: float
    cls: str
    total: int
    tip: str
    href: str


@dataclass
class Network:
    id: str
    title: str
    desc: str
    width: float = WIDTH
    height: float = HEIGHT
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.edges


def layout(pairs, focus: str | None = None, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Positions in [0, 1]² of every state of ``pairs`` (networkx spring layout, weighted by agreements)."""
    import networkx as nx

    g = nx.Graph()
    for p in pairs:
        g.add_edge(p.a, p.b, weight=p.total)
    if g.number_of_nodes() == 0:
        return {}
    if g.number_of_nodes() <= 2 and focus is None:
        pos = {n: (float(i), 0.5) for i, n in enumerate(sorted(g.nodes))}
    elif focus is not None and focus in g:
        pos = nx.spring_layout(g, pos={focus: (0.0, 0.0)}, fixed=[focus], seed=seed, weight="weight",
                               k=1.6 / math.sqrt(g.number_of_nodes()), iterations=200)
    else:
        return _components(g, seed)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    if focus is not None and focus in pos:   # keep the focus in the middle: a square box symmetric around it
        fx, fy = pos[focus]
        span_x = max(abs(x - fx) for x in xs) or 1.0
        span_y = max(abs(y - fy) for y in ys) or 1.0
        return {n: (0.5 + (x - fx) / (2 * span_x), 0.5 + (y - fy) / (2 * span_y)) for n, (x, y) in pos.items()}
    lo_x, hi_x, lo_y, hi_y = min(xs), max(xs), min(ys), max(ys)
    return {n: ((x - lo_x) / ((hi_x - lo_x) or 1.0), (y - lo_y) / ((hi_y - lo_y) or 1.0)) for n, (x, y) in pos.items()}


def _fit(pos: dict, box: tuple[float, float, float, float]) -> dict[str, tuple[float, float]]:
    """Positions stretched to fill box (x, y, width, height); a part with no height or width is centred."""
    x0, y0, w, h = box
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    sx, sy = max(xs) - min(xs), max(ys) - min(ys)
    return {n: (x0 + ((x - min(xs)) / sx * w if sx else w / 2), y0 + ((y - min(ys)) / sy * h if sy else h / 2))
            for n, (x, y) in pos.items()}


def _components(g, seed: int) -> dict[str, tuple[float, float]]:
    """Each connected part laid out on its own (a spring layout pushes separate parts to the far edges):
    the largest fills the left three quarters, the others are stacked in the strip to its right."""
    import networkx as nx

    parts = sorted((sorted(c) for c in nx.connected_components(g)), key=lambda c: (-len(c), c[0]))

    def lay(nodes):
        sub = g.subgraph(nodes)
        if len(nodes) <= 2:
            return {n: (float(i), 0.0) for i, n in enumerate(nodes)}
        return nx.spring_layout(sub, seed=seed, weight="weight", k=1.8 / math.sqrt(len(nodes)), iterations=200)

    if len(parts) == 1:
        return _fit(lay(parts[0]), (0.0, 0.0, 1.0, 1.0))
    out = _fit(lay(parts[0]), (0.0, 0.0, 0.76, 1.0))
    rest = parts[1:]
    weights = [math.sqrt(len(p)) for p in rest]
    y = 0.0
    for p, wgt in zip(rest, weights):
        h = wgt / sum(weights)
        out.update(_fit(lay(p), (0.82, y + h * 0.1, 0.18, h * 0.8)))
        y += h
    return out


def network(pairs, names: dict[str, str], node_href, pair_href, *, types: list[str], chart_id: str = "network",
            title: str = "Who is tied to whom", focus: str | None = None, counts: dict[str, int] | None = None) -> Network:
    """The network of ``pairs`` (``data.Pair``); ``counts`` (iso3 -> agreements) sizes the nodes."""
    net = Network(chart_id, title, "Network: a circle per state, a line between two states for their agreements "
                  "(thicker for more, coloured by the type of most of them); each links to its page.")
    pos = layout(pairs, focus)
    if not pos:
        return net
    counts = counts or {}
    if not counts:
        for p in pairs:
            counts[p.a] = counts.get(p.a, 0) + p.total
            counts[p.b] = counts.get(p.b, 0) + p.total
    top = max(counts.get(n, 1) for n in pos) or 1
    top_edge = max(p.total for p in pairs)
    w, h = net.width - 2 * MARGIN, net.height - 2 * MARGIN
    xy = {n: (round(MARGIN + x * w, 1), round(MARGIN + y * h, 1)) for n, (x, y) in pos.items()}
    used = []
    for p in sorted(pairs, key=lambda p: (p.total, p.a, p.b)):   # heavy edges drawn last, on top
        t = p.main_type
        if t not in used:
            used.append(t)
        (x1, y1), (x2, y2) = xy[p.a], xy[p.b]
        parts = ", ".join(f"{label(k)} {v}" for k, v in sorted(p.by_type.items(), key=lambda kv: -kv[1]))
        tip = f"{names.get(p.a, p.a)} and {names.get(p.b, p.b)}: {p.total} agreement{'s' if p.total != 1 else ''} ({parts})"
        net.edges.append(Edge(p.a, p.b, x1, y1, x2, y2, round(1.2 + 4.8 * math.sqrt(p.total / top_edge), 2),
                              f"c{types.index(t) if t in types else 0}", p.total, tip, pair_href(p.a, p.b)))
    small = len(pos) <= 24
    for n, (x, y) in sorted(xy.items(), key=lambda kv: kv[0]):
        name = names.get(n) or n
        text = name if small and len(name) <= 16 else n
        anchor = "start" if x < net.width * 0.8 else "end"
        net.nodes.append(Node(n, name, x, y, round(3.5 + 7 * math.sqrt(counts.get(n, 1) / top), 1), counts.get(n, 0),
                              node_href(n), text, anchor, n == focus))
    net.legend = [(f"c{types.index(t) if t in types else 0}", label(t)) for t in types if t in used]
    return net

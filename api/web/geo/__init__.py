"""The world map's geometry: Natural Earth country shapes from the npm package ``world-atlas``.

Why this way: the map is drawn on the server as inline SVG (no tiles, no script, no request to
another host, the CSP unchanged), so the page needs the shapes as data, not a map service.
``scripts/install_geometry.sh`` (run by ``make install``) fetches the pinned ``world-atlas``
tarball from the npm registry with ``npm pack`` and calls ``python -m api.web.geo`` to decode its
TopoJSON here, in Python, into ``world.json`` beside this file (not committed). After that
nothing is downloaded: the app reads the file once per process.

``world.json`` holds, per ISO 3166-1 alpha-3 code, the 1:110m polygons as (longitude, latitude)
rings; a state too small for the 1:110m file (Bahrain, Singapore...) gets a point at the centre
of its 1:50m shape instead, so that every state has one shape. Antarctica is left out.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORLD = HERE / "world.json"
WORLD_ATLAS_VERSION = "2.0.2"
SKIP = {"ATA"}   # Antarctica: a fifth of the map and party to nothing


# --------------------------------------------------------------------------- TopoJSON decoding

def _arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """The topology's arcs as absolute (lon, lat) points (undoing quantisation and delta encoding)."""
    t = topo.get("transform")
    out = []
    for arc in topo["arcs"]:
        if t:
            (sx, sy), (tx, ty) = t["scale"], t["translate"]
            x = y = 0
            pts = []
            for dx, dy in arc:
                x += dx
                y += dy
                pts.append((x * sx + tx, y * sy + ty))
        else:
            pts = [(p[0], p[1]) for p in arc]
        out.append(pts)
    return out


def _ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in indexes:
        pts = arcs[i] if i >= 0 else arcs[~i][::-1]
        ring.extend(pts if not ring else pts[1:])   # consecutive arcs share their end point
    return ring


def decode(topo: dict, name: str = "countries") -> list[tuple[str | None, str, list[list[list[tuple[float, float]]]]]]:
    """(id, name, polygons) of each geometry of one object; a polygon is a list of rings."""
    arcs = _arcs(topo)
    out = []
    for g in topo["objects"][name]["geometries"]:
        if g.get("type") == "Polygon":
            polys = [g["arcs"]]
        elif g.get("type") == "MultiPolygon":
            polys = g["arcs"]
        else:
            continue
        out.append((g.get("id"), (g.get("properties") or {}).get("name", ""),
                    [[_ring(arcs, r) for r in poly] for poly in polys]))
    return out


def _centre(polys) -> tuple[float, float]:
    """The centre of the largest polygon's outer ring (by bounding box): good enough to place a dot."""
    ring = max((p[0] for p in polys), key=lambda r: (max(x for x, _ in r) - min(x for x, _ in r))
               * (max(y for _, y in r) - min(y for _, y in r)))
    xs, ys = [x for x, _ in ring], [y for _, y in ring]
    return ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)


def convert(small: dict, medium: dict) -> dict:
    """world.json's content from world-atlas's countries-110m and countries-50m topologies."""
    import pycountry

    def iso3(numeric: str | None) -> str | None:
        c = pycountry.countries.get(numeric=numeric) if numeric else None
        return c.alpha_3 if c else None

    shapes: dict[str, dict] = {}
    for num, name, polys in decode(small):
        code = iso3(num)
        if code and code not in SKIP:
            shapes[code] = {"name": name, "polygons": [[[[round(x, 3), round(y, 3)] for x, y in r] for r in p] for p in polys]}
    for num, name, polys in decode(medium):
        code = iso3(num)
        if code and code not in SKIP and code not in shapes and polys:
            x, y = _centre(polys)
            shapes[code] = {"name": name, "point": [round(x, 3), round(y, 3)]}
    return {"source": f"world-atlas {WORLD_ATLAS_VERSION} (Natural Earth 1:110m, small states from 1:50m)",
            "shapes": dict(sorted(shapes.items()))}


# --------------------------------------------------------------------------- projection and SVG

WIDTH = 960.0
# Equal Earth (Šavrič, Patterson & Jenny 2018): equal-area, so no state looks bigger than it is.
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2
_XMAX = math.pi / (_M * _A1)   # x of (180°, 0°) in the unit projection (theta = 0 there)
SCALE = WIDTH / (2 * _XMAX)
LAT_TOP, LAT_BOTTOM = 84.0, -58.0   # crop: no Antarctica, a little sea above Greenland


def equal_earth(lon: float, lat: float) -> tuple[float, float]:
    """(lon, lat) in degrees to (x, y) in map units, y down, the top edge at LAT_TOP."""
    lam, phi = math.radians(lon), math.radians(lat)
    t = math.asin(_M * math.sin(phi))
    t2 = t * t
    t6 = t2 * t2 * t2
    x = lam * math.cos(t) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = t * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return (x + _XMAX) * SCALE, (_Y_TOP - y) * SCALE


def _y_unit(lat: float) -> float:
    t = math.asin(_M * math.sin(math.radians(lat)))
    t2 = t * t
    t6 = t2 * t2 * t2
    return t * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))


_Y_TOP = _y_unit(LAT_TOP)
HEIGHT = round((_Y_TOP - _y_unit(LAT_BOTTOM)) * SCALE, 1)


@dataclass(frozen=True)
class Shape:
    iso3: str
    d: str            # SVG path data ("" for a point)
    cx: float         # where a dot is drawn for a state too small for the 1:110m file
    cy: float

    @property
    def is_point(self) -> bool:
        return not self.d


def _unwrap(ring):
    """A ring that crosses the antimeridian (Russia's Chukotka, Fiji) made continuous, then clamped to ±180°,
    so that it is drawn at the map's edge rather than as a band across the whole map."""
    out = []
    shift = 0.0
    prev = None
    for lon, lat in ring:
        if prev is not None:
            if lon + shift - prev > 180:
                shift -= 360
            elif lon + shift - prev < -180:
                shift += 360
        prev = lon + shift
        out.append((prev, lat))
    return [(min(180.0, max(-180.0, lon)), lat) for lon, lat in out]


def _path(polygons) -> str:
    parts = []
    for poly in polygons:
        for ring in poly:
            pts = []
            last = None
            for lon, lat in _unwrap(ring):
                x, y = equal_earth(lon, lat)
                p = (round(x, 1), round(y, 1))
                if p != last:
                    pts.append(p)
                    last = p
            if len(pts) >= 3:
                parts.append("M" + "L".join(f"{x:g},{y:g}" for x, y in pts) + "Z")
    return "".join(parts)


@lru_cache(maxsize=1)
def shapes() -> tuple[Shape, ...] | None:
    """Every state's projected shape, computed once per process; None when world.json is not installed."""
    try:
        doc = json.loads(WORLD.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    out = []
    for iso, s in doc["shapes"].items():
        if "point" in s:
            x, y = equal_earth(*s["point"])
            out.append(Shape(iso, "", round(x, 1), round(y, 1)))
        else:
            out.append(Shape(iso, _path(s["polygons"]), 0, 0))
    return tuple(out)

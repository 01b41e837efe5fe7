"""The browsable web pages served at ``/`` by the same app as the API (which stays under ``/v1``).

* ``routes``: the pages (front page with the overview — world map, timelines, partner network,
  top pairs — then table, filters and downloads; one agreement; the countries, sortable and
  filterable; one country with its partner network; a pair of countries on a timeline; the
  codebook; how to cite), rendered on the server with Jinja2 (autoescape on) from the API's own
  query layer (``api.queries``, ``api.listing``), never through HTTP calls to itself.
* ``data``: reading what the pages show, with the API's checks and statements.
* ``charts``, ``worldmap``, ``network``: inline SVG computed in Python (no JavaScript, works
  offline); ``charts`` (with ``templates/_charts.svg``) also draws the codebook's figures; ``geo``: the map's Natural Earth shapes (npm ``world-atlas``, decoded at install time);
  ``pages``: the countries view, the codebook and the BibTeX entry.
* ``templates/`` and ``static/`` (one stylesheet, one small script for progressive
  enhancement; no build step, no third-party requests).

Every page carries a Content Security Policy that forbids inline scripts and styles and any
request to another origin.
"""
from __future__ import annotations

__all__ = ["install", "router"]


def __getattr__(name: str):
    """install and router on first use: `dca build` draws the codebook's figures with ``charts`` and
    ``data`` and has no use for the pages' routes and templates (a third of a second's imports)."""
    if name in __all__:
        from . import routes

        return getattr(routes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""What the countries, codebook and citation pages need beyond the database.

* ``CountriesView``: the countries page's sort and filters, read from its query string (so the
  table sorts and filters without JavaScript, and a view is a shareable address).
* ``codebook_html``: docs/codebook.md, which ``dca codebook`` generates from the schemas and
  data, rendered with markdown-it (raw HTML off) so the site shows the same codebook as the
  repository, not a second copy.
* ``bibtex`` / ``cff_authors``: the citation from the build's metadata and CITATION.cff.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
CODEBOOK = DOCS / "codebook.md"
FIGURES = DOCS / "figures"

COUNTRY_SORTS = {   # sort value -> (column heading, key)
    "name": ("Country", lambda c: (c["name"] or "").casefold()),
    "cow_code": ("COW code", lambda c: (c["cow_code"] is None, c["cow_code"] or 0)),
    "region": ("Region", lambda c: ((c["region"] or "~").casefold(), (c["name"] or "").casefold())),
    "agreements": ("Agreements", lambda c: c["agreement_count"] or 0),
    "partners": ("Partners", lambda c: c["partner_count"] or 0),
    "first": ("First signed", lambda c: c["first_signed_on"] or ""),
    "last": ("Last signed", lambda c: c["last_signed_on"] or ""),
}
NUMERIC_FIRST_DESC = {"agreements", "partners", "last"}   # most, or newest, first on the first click


@dataclass
class CountriesView:
    sort: str = "name"
    desc: bool = False
    region: str = ""
    q: str = ""

    @classmethod
    def read(cls, query) -> "CountriesView":
        raw = (query.get("sort") or "").strip()
        desc = raw.startswith("-")
        key = raw.lstrip("-")
        if key not in COUNTRY_SORTS:
            key, desc = "name", False
        return cls(key, desc, (query.get("region") or "").strip()[:60], (query.get("q") or "").strip()[:100])

    def apply(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        q = self.q.casefold()
        out = [r for r in rows
               if (not self.region or r.get("region") == self.region)
               and (not q or q in (r["name"] or "").casefold() or q in r["iso3"].casefold()
                    or q in (r.get("cow_abbr") or "").casefold() or q in (r.get("iso_name") or "").casefold())]
        out.sort(key=lambda r: (r["name"] or "").casefold())
        out.sort(key=COUNTRY_SORTS[self.sort][1], reverse=self.desc)   # stable: ties stay by name
        return out

    def pairs(self, sort: str | None = None) -> list[tuple[str, str]]:
        out = []
        if self.region:
            out.append(("region", self.region))
        if self.q:
            out.append(("q", self.q))
        s = sort if sort is not None else (("-" if self.desc else "") + self.sort)
        if s != "name":
            out.append(("sort", s))
        return out

    def headers(self, base: str) -> dict[str, dict[str, Any]]:
        """Per column: its heading, link (to sort by it, or to reverse the sort) and aria-sort state."""
        out = {}
        for key, (text, _) in COUNTRY_SORTS.items():
            if key == self.sort:
                new = key if self.desc else "-" + key
                state = "descending" if self.desc else "ascending"
            else:
                new = "-" + key if key in NUMERIC_FIRST_DESC else key
                state = None
            q = urlencode(self.pairs(sort=new))
            out[key] = {"text": text, "href": base + (f"?{q}" if q else ""), "state": state}
        return out

    @property
    def is_filtered(self) -> bool:
        return bool(self.region or self.q)


# --------------------------------------------------------------------------- codebook

@lru_cache(maxsize=4)
def _codebook(mtime_ns: int, figures: str) -> str:
    from markdown_it import MarkdownIt

    text = CODEBOOK.read_text(encoding="utf-8")
    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    html = md.render(text)
    # Aligned table columns come as style attributes, which the pages' CSP refuses: classes instead.
    html = re.sub(r' style="text-align:(left|right|center)"', r' class="align-\1"', html)
    # Figures are referenced as figures/NAME.svg in the Markdown: serve them from /codebook/figures/.
    return re.sub(r'src="figures/([A-Za-z0-9_.-]+\.svg)"', lambda m: f'src="{figures}{m.group(1)}"', html)


def codebook_html(figures_url: str) -> str | None:
    """The codebook as HTML (escaped by markdown-it: raw HTML in the Markdown is not passed through), or None."""
    try:
        mtime = CODEBOOK.stat().st_mtime_ns
    except OSError:
        return None
    return _codebook(mtime, figures_url)


def figure_path(name: str) -> Path | None:
    if not re.fullmatch(r"[A-Za-z0-9_-]+\.svg", name):
        return None
    path = FIGURES / name
    return path if path.is_file() else None


# --------------------------------------------------------------------------- citation

def cff_authors() -> list[str]:
    """The authors' names in CITATION.cff (the file the repository's citation comes from)."""
    import yaml

    try:
        doc = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8")) or {}
    except (OSError, ValueError, yaml.YAMLError):
        return []
    return [a.get("name") or " ".join(x for x in (a.get("given-names"), a.get("family-names")) if x)
            for a in doc.get("authors") or [] if isinstance(a, dict)]


def _bib(value: str) -> str:
    return re.sub(r"([{}\\&%$#_])", r"\\\1", value)


def bibtex(info, url: str) -> str:
    """A BibTeX @misc entry for the dataset version being served."""
    d = info.datapackage or {}
    authors = cff_authors() or [c.get("title") for c in d.get("contributors", []) if c.get("title")] \
        or ["Defence Cooperation Agreements project contributors"]
    year = (info.built_at or "")[:4]
    title = d.get("title") or info.title or info.name
    key = f"dca{year}v{re.sub(r'[^0-9A-Za-z]', '', info.version or '')}"
    fields = [
        ("author", " and ".join("{" + _bib(a) + "}" for a in authors)),
        ("title", "{" + _bib(title) + "}"),
        ("year", year),
        ("version", _bib(info.version or "")),
        ("howpublished", "Dataset"),
        ("url", url),
        ("note", _bib(f"Content hash {info.content_hash[:16]}")),
    ]
    if info.licenses:
        fields.append(("license", _bib(info.licenses[0].get("name") or "")))
    body = ",\n".join(f"  {k} = {{{v}}}" if not v.startswith("{") else f"  {k} = {{{v}}}" for k, v in fields if v)
    return f"@misc{{{key},\n{body}\n}}"

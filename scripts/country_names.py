"""Turning what a contributor types ("Russia", "RUS", "Russian Federation", "UK",
"Ivory Coast") into the ISO3 code the dataset keys countries by.

Sources, in order: exact ISO3/ISO2 codes; the common English names of
dataset/countries.csv; a check for names several countries share ("Korea",
"Congo", "Virgin Islands"), which must be asked, never guessed; then pycountry's
exact lookup (ISO and official names) and countrycode's regular expressions (the
political scientists' list of historical and informal names). Only codes present
in the package's own countries.csv are ever returned.
"""
from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass, field
from pathlib import Path

MAX_LISTED = 8  # candidates named in one message


@dataclass(frozen=True)
class Country:
    iso3: str
    iso2: str
    name: str
    iso_name: str
    cow_abbr: str = ""

    def label(self) -> str:
        extra = f", {self.iso_name}" if self.iso_name != self.name else ""
        return f"{self.iso3} ({self.name}{extra})"


@dataclass
class Resolution:
    """Exactly one of: a code; candidates to choose from; or nothing, with suggestions."""

    query: str
    iso3: str | None = None
    candidates: list[Country] = field(default_factory=list)
    suggestions: list[Country] = field(default_factory=list)

    @property
    def ambiguous(self) -> bool:
        return self.iso3 is None and len(self.candidates) > 1

    def error(self) -> str:
        """The message for a non-interactive user (empty when resolved)."""
        if self.iso3:
            return ""
        if self.ambiguous:
            shown = "; ".join(c.label() for c in self.candidates[:MAX_LISTED])
            more = f" and {len(self.candidates) - MAX_LISTED} more" if len(self.candidates) > MAX_LISTED else ""
            return (f"'{self.query}' could be several countries: {shown}{more}; "
                    f"write the one you mean by its code (e.g. {self.candidates[0].iso3})")
        hint = f"did you mean {' or '.join(c.label() for c in self.suggestions)}? " if self.suggestions else ""
        return (f"'{self.query}' is not a country in dataset/countries.csv; {hint}"
                "write a country's English name or its ISO 3166-1 code (e.g. Russia, RUS or RU)")


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", s).split())


class CountryIndex:
    def __init__(self, countries: list[Country]):
        self.countries = countries
        self.by_iso3 = {c.iso3: c for c in countries}
        self.by_iso2 = {c.iso2: c for c in countries}
        self.by_name: dict[str, list[Country]] = {}
        for c in countries:
            self.by_name.setdefault(_norm(c.name), []).append(c)
        self.by_iso_name: dict[str, list[Country]] = {}
        for c in countries:
            self.by_iso_name.setdefault(_norm(c.iso_name), []).append(c)

    @classmethod
    def from_csv(cls, path: Path) -> "CountryIndex":
        text = Path(path).read_text(encoding="utf-8-sig")
        rows = csv.DictReader(io.StringIO(text, newline=""))
        return cls([Country(r["iso3"], r.get("iso2") or "", r.get("name") or r["iso3"], r.get("iso_name") or r.get("name") or r["iso3"],
                            r.get("cow_abbr") or "")
                    for r in rows if r.get("iso3")])

    def get(self, iso3: str) -> Country | None:
        return self.by_iso3.get(iso3)

    def resolve(self, query: str) -> Resolution:
        q = (query or "").strip()
        res = Resolution(q)
        if not q:
            return res
        up = q.upper()
        if re.fullmatch(r"[A-Za-z]{3}", q) and up in self.by_iso3:
            res.iso3 = up
            return res
        if re.fullmatch(r"[A-Za-z]{2}", q) and up in self.by_iso2:
            res.iso3 = self.by_iso2[up].iso3
            return res
        n = _norm(q)
        exact = self.by_name.get(n, [])
        if len(exact) == 1:
            res.iso3 = exact[0].iso3
            return res
        # A name shared by several countries' common names is asked, never guessed.
        shared = [c for c in self.countries if f" {n} " in f" {_norm(c.name)} "]
        if len(shared) > 1:
            res.candidates = shared
            return res
        for found in (self.by_iso_name.get(n, []), self._pycountry(q), self._countrycode(q), shared):
            found = [c for c in found if c.iso3 in self.by_iso3]
            if len(found) == 1:
                res.iso3 = found[0].iso3
                return res
            if len(found) > 1:
                res.candidates = found
                return res
        res.suggestions = self._suggest(q)
        return res

    def likely(self, value: str) -> list[Country]:
        """The countries a value typed where a code belongs most likely means: the one a name
        or ISO2 code resolves to (India, Morocco, MA), the candidates of a shared name, close
        spellings; for an unknown three-letter code also its Correlates of War abbreviation
        and the names whose letters it abbreviates in order (MRC -> Morocco), then close codes
        (EGT -> EGY). Empty when nothing is likely: a suggestion is never a guess among many."""
        res = self.resolve(value)
        if res.iso3:
            return [self.by_iso3[res.iso3]]
        if res.candidates:
            return res.candidates[:MAX_LISTED]
        q = (value or "").strip().upper()
        out = list(res.suggestions)
        if re.fullmatch(r"[A-Z]{3}", q):
            cow = [c for c in self.countries if c.cow_abbr == q]

            def span(name: str) -> int | None:
                """How many letters of the name the code's letters take up, in order, from its
                first letter (Morocco for MRC: 5); None when they do not occur in order."""
                name = _norm(name).replace(" ", "").upper()
                if not name.startswith(q[0]):
                    return None
                at = 0
                for ch in q[1:]:
                    at = name.find(ch, at + 1)
                    if at < 0:
                        return None
                return at + 1

            spans = {c.iso3: s for c in self.countries if (s := span(c.name)) is not None}
            best = min(spans.values(), default=None)
            spelled = [self.by_iso3[k] for k, s in spans.items() if s == best]
            strong = cow + [c for c in (spelled if len(spelled) <= 2 else []) if c not in cow]
            if strong:
                return strong[:3]
            close = [self.by_iso3[code] for code in difflib.get_close_matches(q, list(self.by_iso3), n=1, cutoff=0.6)]
            out = close + [c for c in out if c not in close]
        return out[:3]

    def _pycountry(self, q: str) -> list[Country]:
        import pycountry

        try:
            hit = pycountry.countries.lookup(q)
        except LookupError:
            return []
        c = self.by_iso3.get(hit.alpha_3)
        return [c] if c else []

    def _countrycode(self, q: str) -> list[Country]:
        import countrycode

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                code = countrycode.countrycode(q, origin="country.name", destination="iso3c")
            except Exception:  # the package raises on odd input; no match is the honest answer
                return []
        c = self.by_iso3.get(code) if isinstance(code, str) else None
        return [c] if c else []

    def _suggest(self, q: str) -> list[Country]:
        """Up to three likely meant countries: pycountry's fuzzy search (substrings,
        subdivisions such as Bavaria), then close spellings of the names."""
        import pycountry

        out: list[Country] = []
        try:
            hits = pycountry.countries.search_fuzzy(q)
        except LookupError:
            hits = []
        for hit in hits[:3]:
            c = self.by_iso3.get(hit.alpha_3)
            if c and c not in out:
                out.append(c)
        names = {**{_norm(c.name): c for c in self.countries}, **{_norm(c.iso_name): c for c in self.countries}}
        for m in difflib.get_close_matches(_norm(q), list(names), n=3, cutoff=0.75):
            if names[m] not in out:
                out.append(names[m])
        return out[:3]

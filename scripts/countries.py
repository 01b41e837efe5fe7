"""Generate dataset/countries.csv from pycountry and countrycode.

The country table is derived, never typed: ISO 3166-1 comes from pycountry (which
tracks the ISO standard), Correlates of War codes, common English names and UN M49
regions from countrycode (the Python port of the R package political scientists
use). A test regenerates the table and compares it with the committed file, so a
package upgrade that changes a code shows up as a failing test, not silent drift.

Where countrycode has no COW code for a state that COW lists (Serbia, which COW
codes as the continuation of Yugoslavia, 345), scripts/cow_overrides.csv supplies
it, one row per gap, each with the reason and the COW list it comes from. An
override must name a code that countrycode's own COW list has (its abbreviation is
taken from there), so no code is ever typed that COW does not use. A test checks
every state of that list against the table (tests/test_schema_consistency.py).
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

FIELDS = ["iso3", "iso2", "name", "iso_name", "cow_code", "cow_abbr", "region", "subregion"]
OVERRIDES = Path(__file__).with_name("cow_overrides.csv")


class CountryTableError(Exception):
    """The country table cannot be generated as the override table stands; the message says which row."""


def cow_states() -> dict[int, tuple[str, str]]:
    """Every state in countrycode's copy of the COW state list: code -> (abbreviation, COW name).

    It holds states that no longer exist (Baden, Yugoslavia, ...) and Kosovo, which has no ISO3 code.
    """
    import countrycode

    cl = countrycode.codelist
    out: dict[int, tuple[str, str]] = {}
    for code, abbr, name in zip(cl["cown"], cl["cowc"], cl["cow.name"]):
        if code is not None:
            out[int(code)] = (abbr or "", name or "")
    return out


def cow_overrides(path: Path = OVERRIDES) -> dict[str, dict[str, str]]:
    """The override rows by ISO3, checked: each code must be in the COW list, each row must cite a source."""
    states = cow_states()
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = {}
    for i, row in enumerate(rows, start=2):
        code = int(row["cow_code"])
        if code not in states:
            raise CountryTableError(f"{path.name}:{i}: COW code {code} is not in countrycode's COW state list; "
                                    "an override may only name a code that COW uses")
        if not row.get("source", "").strip() or not row.get("reason", "").strip():
            raise CountryTableError(f"{path.name}:{i}: every override needs a reason and a source")
        out[row["iso3"]] = {**row, "cow_abbr": states[code][0]}
    return out


def _countrycode_columns() -> dict[str, dict[str, object]]:
    """Index countrycode's code list by ISO3 for the columns we use."""
    import countrycode

    cl = countrycode.codelist
    wanted = {
        "name": "country.name.en",
        "cow_code": "cown",
        "cow_abbr": "cowc",
        "region": "un.region.name",
        "subregion": "un.regionsub.name",
    }
    out: dict[str, dict[str, object]] = {}
    for i, iso3 in enumerate(cl["iso3c"]):
        if not iso3:
            continue
        out[iso3] = {k: cl[col][i] for k, col in wanted.items()}
    return out


def country_rows() -> list[dict[str, str]]:
    """One row per ISO 3166-1 country, sorted by ISO3."""
    import pycountry

    extra = _countrycode_columns()
    overrides = cow_overrides()
    rows = []
    for c in pycountry.countries:
        info = dict(extra.get(c.alpha_3, {}))
        if c.alpha_3 in overrides:
            if info.get("cow_code") is not None:
                raise CountryTableError(f"{OVERRIDES.name}: {c.alpha_3} now has COW code {info['cow_code']} from "
                                        "countrycode; delete its override row")
            info.update(cow_code=overrides[c.alpha_3]["cow_code"], cow_abbr=overrides[c.alpha_3]["cow_abbr"])
        cow = info.get("cow_code")
        rows.append(
            {
                "iso3": c.alpha_3,
                "iso2": c.alpha_2,
                "name": info.get("name") or getattr(c, "common_name", None) or c.name,
                "iso_name": c.name,
                "cow_code": "" if cow is None else str(int(cow)),
                "cow_abbr": info.get("cow_abbr") or "",
                "region": info.get("region") or "",
                "subregion": info.get("subregion") or "",
            }
        )
    rows.sort(key=lambda r: r["iso3"])
    return rows


def render_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def write(path: Path) -> int:
    rows = country_rows()
    path.write_text(render_csv(rows), encoding="utf-8")
    return len(rows)

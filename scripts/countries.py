"""Generate dataset/countries.csv from pycountry and countrycode.

The country table is derived, never typed: ISO 3166-1 comes from pycountry (which
tracks the ISO standard), Correlates of War codes, common English names and UN M49
regions from countrycode (the Python port of the R package political scientists
use). A test regenerates the table and compares it with the committed file, so a
package upgrade that changes a code shows up as a failing test, not silent drift.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

FIELDS = ["iso3", "iso2", "name", "iso_name", "cow_code", "cow_abbr", "region", "subregion"]


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
    rows = []
    for c in pycountry.countries:
        info = extra.get(c.alpha_3, {})
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

"""`dca codebook`: docs/codebook.md, docs/codebook.html and docs/figures/*.svg.

Generated, never written by hand, from:
- datapackage.json and the Table Schemas (resources, fields, types, constraints,
  vocabularies with each code's definition),
- the data (row counts, share of non-empty values per field, agreements per year
  and region; the figures, which are the web pages' charts of the same numbers: scripts/figures.py),
- scripts/export_columns.py (the export columns and the dyad-year rules),
- CITATION.cff (how to cite) and CHANGELOG.md (the changelog).

The output holds no build time or other moving part, so the same inputs give the
same bytes and `dca codebook --check` (and a test) can tell a stale codebook.
"""
from __future__ import annotations

import html
import os
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from schema.tableschema import Field, Package, Resource, load_package

from . import figures
from .export_columns import (ALL_EXPORTS, EXPORTS, FULL_PANEL_FORMATS, PRIMARY_KEYS, RULES, SORT_ORDER, TITLES,
                             dyad_year_rules, one_row_per)


MD = "codebook.md"
HTML = "codebook.html"
FIG_YEARS = "figures/agreements_per_year_by_type.svg"
FIG_COUNTRIES = "figures/top_countries.svg"
TOP_N = 25
NO_REGION = "(no region)"
_DEF_START = re.compile(r"`[a-z0-9_]+` = ")


class CodebookError(Exception):
    pass


# --- helpers -----------------------------------------------------------------

def _read(pkg: Package, r: Resource) -> pl.DataFrame:
    """A resource as text columns, empty cells as "" (as csv.DictReader gives them), read by polars."""
    df = pl.read_csv(pkg.root / r.path, infer_schema=False, encoding="utf8")
    return df.with_columns(pl.all().fill_null(""))


def _cell(text: Any) -> str:
    s = "" if text is None else str(text)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").strip()


def _table(header: list[str], rows: list[list[Any]], align: list[str] | None = None) -> str:
    align = align or ["l"] * len(header)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "n/a"


def slug(text: str) -> str:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def _lead(f: Field) -> str:
    """A field's description without its inline vocabulary definitions."""
    m = _DEF_START.search(f.description)
    if not m or not f.definitions():
        return f.description
    text = f.description[: m.start()].rstrip()
    text = re.sub(r"\s*Codes:\s*$", "", text)
    return f"{text} Codes: see the vocabulary below."


def _constraints(f: Field) -> str:
    c = f.constraints
    out = []
    if c.get("unique"):
        out.append("unique")
    if "pattern" in c:
        out.append(f"pattern `{c['pattern']}`")
    if "minimum" in c:
        out.append(f"minimum {c['minimum']}")
    if "maximum" in c:
        out.append(f"maximum {c['maximum']}")
    if "minLength" in c:
        out.append(f"at least {c['minLength']} characters")
    if "maxLength" in c:
        out.append(f"at most {c['maxLength']} characters")
    if "enum" in c:
        out.append(f"one of {len(c['enum'])} codes")
    return "; ".join(out)


def _definitions(pkg: Package, r: Resource, f: Field) -> tuple[dict[str, str], str]:
    """Definitions of an enum field's codes, and where they come from."""
    defs = f.definitions()
    if defs:
        return defs, ""
    for other in pkg.resources:
        for g in other.fields:
            if g is not f and g.enum == f.enum and g.definitions():
                return g.definitions(), f"{other.name}.{g.name}"
    return {}, ""


def _citation(root: Path) -> dict[str, Any] | None:
    path = root / "CITATION.cff"
    if not path.exists():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else None


def _changelog(root: Path) -> str | None:
    path = root / "CHANGELOG.md"
    if not path.exists():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    # demote headings by one level so they sit under the codebook's "Changelog"
    return "\n".join(("#" + l) if l.startswith("#") else l for l in lines).strip()


# --- sections ----------------------------------------------------------------

class _Data:
    """The package's resources as frames of text ("" for empty), read once for every section."""

    def __init__(self, pkg: Package, frames: dict[str, pl.DataFrame] | None = None):
        """`frames`: the resources as `dca validate` read them (text, missing cells null; see
        validate.check_package), which `dca build` passes instead of having every file parsed again."""
        self.pkg = pkg
        self.frames = {r.name: frames[r.name].with_columns(pl.all().fill_null("")) if frames and r.name in frames
                       else _read(pkg, r) for r in pkg.resources}

    def party_regions(self) -> pl.DataFrame:
        """agreement_id, iso3, region of every party row of a known agreement; NO_REGION for a country without
        an M49 region (or not in countries)."""
        f = self.frames
        if "parties" not in f or "agreements" not in f:
            return pl.DataFrame(schema={"agreement_id": pl.Utf8, "iso3": pl.Utf8, "region": pl.Utf8})
        regions = (f["countries"].select("iso3", "region") if "countries" in f
                   else pl.DataFrame(schema={"iso3": pl.Utf8, "region": pl.Utf8}))
        regions = regions.unique("iso3", keep="last")  # as a dict keyed by iso3 keeps the last row
        return (f["parties"].select("agreement_id", iso3="country_iso3")
                .join(f["agreements"].select("agreement_id"), on="agreement_id", how="semi")
                .join(regions, on="iso3", how="left")
                .with_columns(region=pl.when(pl.col("region").fill_null("") != "").then("region").otherwise(pl.lit(NO_REGION))))


SCOPE_FILE = "docs/scope.md"


def _scope_section(pkg: Package) -> list[str]:
    """The inclusion rule, from the one file that states it (CONTRIBUTING.md quotes it too)."""
    path = Path(pkg.root) / SCOPE_FILE
    text = path.read_text(encoding="utf-8") if path.exists() else (Path(__file__).resolve().parents[1] / SCOPE_FILE).read_text(encoding="utf-8")
    return text.rstrip("\n").split("\n") + [""]


def _citation_section(pkg: Package, cff: dict[str, Any] | None) -> list[str]:
    out = ["## How to cite", ""]
    if cff is None:
        out += ["This package has no `CITATION.cff`; cite it by its title and version.", ""]
        return out
    authors = "; ".join(a.get("name") or " ".join(filter(None, [a.get("given-names"), a.get("family-names")])) for a in cff.get("authors", []))
    year = str(cff.get("date-released", ""))[:4] or "n.d."
    url = cff.get("url") or cff.get("repository-code") or pkg.descriptor.get("homepage", "")
    version = cff.get("version", pkg.version)
    out += [
        str(cff.get("message", "")).strip(),
        "",
        f"> {authors} ({year}). *{cff.get('title', pkg.descriptor.get('title', ''))}* (Version {version}) [Data set]. {url}",
        "",
        "BibTeX:",
        "",
        "```bibtex",
        f"@misc{{dca_{version.replace('.', '_')},",
        f"  author    = {{{{{authors}}}}},",
        f"  title     = {{{cff.get('title', '')}}},",
        f"  year      = {{{year}}},",
        f"  version   = {{{version}}},",
        f"  note      = {{Data set, licence {cff.get('license', '')}}},",
        f"  url       = {{{url}}}",
        "}",
        "```",
        "",
        "The same metadata is in `CITATION.cff` (Citation File Format 1.2.0) at the root of the repository and of "
        "the release bundle. Cite the version you used: every release is archived with its own version number. "
        "Every record also cites its own sources (the `sources` resource); please cite those too when a record "
        "matters to your argument.",
        "",
    ]
    return out


def _versions_section(pkg: Package) -> list[str]:
    return [
        "## Versions",
        "",
        f"This codebook describes dataset version **{pkg.version}**. The version lives in `datapackage.json` "
        "(`version`) and is repeated in `CITATION.cff`; `dca --version` shows it, and so does the API at `/v1/meta`. "
        "It follows semantic versioning:",
        "",
        "- **major** (x.0.0): a breaking schema change: a field removed or renamed, a type changed, a vocabulary code "
        "removed or redefined;",
        "- **minor** (0.x.0): new records (and backwards-compatible schema additions);",
        "- **patch** (0.0.x): corrections to existing records.",
        "",
        "Each release's additions and corrections are listed in the [changelog](#changelog). Record ids never change "
        "once published, so analyses can be rerun on a later version.",
        "",
    ]


def _files_section(data: _Data) -> list[str]:
    pkg = data.pkg
    rows = []
    for r in pkg.resources:
        rows.append([f"[`{r.name}`](#{slug(f'{r.title} ({r.name})')})", f"`{r.path}`", r.description,
                     data.frames[r.name].height, ", ".join(f"`{k}`" for k in r.primary_key)])
    return [
        "## Files",
        "",
        "The data package (`datapackage.json`) describes these CSV files (UTF-8, comma-separated, header row, LF "
        "line endings, sorted by primary key). Their Table Schemas in `schema/` are the single source of truth "
        "for every field; this codebook is generated from them.",
        "",
        _table(["resource", "file", "what it holds", "rows", "primary key"], rows, ["l", "l", "l", "r", "l"]),
        "",
        "Researcher exports derived from these files (flat, dyadic and dyad-year tables, undirected and directed, "
        "as CSV, Parquet and Stata) are described under [Researcher exports](#researcher-exports).",
        "",
    ]


def _missing_section() -> list[str]:
    return [
        "## Missing values",
        "",
        "- An empty cell is the only missing value in every table (`\"missingValues\": [\"\"]` in each schema). No "
        "codes such as `NA`, `-99`, `0` or `unknown` stand for missing values.",
        "- Unknown values stay empty: they are never invented, estimated or carried over from a similar record (a "
        "quantity no source states, a signatory no source names, a month no source reports). Each field's "
        "description says what an empty value means for it.",
        "- Fields marked *required* are never empty; the validator (`dca validate`) enforces it.",
        "- Dates are ISO 8601 truncated to what is known (`YYYY-MM-DD`, `YYYY-MM` or `YYYY`) and never padded with "
        "an invented month or day; `signed_precision` states the precision of `signed_on`. `status_as_of` is always "
        "a full date.",
        "- Countries without a Correlates of War code keep `cow_code` and `cow_abbr` empty, and so do the COW "
        "columns of the exports (and the slot of such a party in the export's party lists): no code is ever "
        "invented. Every state of COW's state list that is an ISO 3166-1 country has its code: from the countrycode "
        "package, or, where that package lacks it, from `scripts/cow_overrides.csv`, each row of which cites the COW "
        "list (Serbia: 345, YUG, which COW uses for Yugoslavia and its continuation). Kosovo (347) is in the COW "
        "state system but has no ISO 3166-1 code, so it cannot be a party here; it is in the full dyad-year panel.",
        "- In the exports, a missing value is an empty cell in CSV, a null in Parquet, and in Stata a numeric "
        "missing value (`.`) for numbers and an empty string for text.",
        "",
    ]


FINAL_STATUSES = ("in_force", "expired", "terminated", "superseded")
AGE_BANDS = [(12, "under 1 year"), (24, "1 to 2 years"), (60, "2 to 5 years"), (120, "5 to 10 years"), (None, "10 years or more")]


def _status_age_section(agreements: pl.DataFrame) -> list[str]:
    """How old each status is: the time from its status_as_of to the data date."""
    if not agreements.height:
        return []
    data_date = agreements["status_as_of"].max()
    ry, rm, rd = (int(x) for x in data_date.split("-"))
    date = pl.col("status_as_of")
    y, m, d = (date.str.slice(a, b).cast(pl.Int64) for a, b in ((0, 4), (5, 2), (8, 2)))
    months = (ry - y) * 12 + rm - m - (pl.lit(rd) < d).cast(pl.Int64)
    band = pl.lit(AGE_BANDS[-1][1])
    for limit, lbl in reversed(AGE_BANDS[:-1]):
        band = pl.when(months < limit).then(pl.lit(lbl)).otherwise(band)
    counts = dict(((b, fin), n) for b, fin, n in agreements.select(
        band.alias("band"), pl.col("status").is_in(list(FINAL_STATUSES)).alias("final"))
        .group_by("band", "final").len().iter_rows())
    rows = {label: [counts.get((label, True), 0), counts.get((label, False), 0)] for _, label in AGE_BANDS}
    return [
        "### How old the statuses are",
        "",
        f"A status is only as current as the latest source that confirms it (`status_as_of`). Age is the time "
        f"from `status_as_of` to the data date, {data_date} (the latest `status_as_of` of any agreement). A status "
        f"that is not final ({', '.join(f'`{s}`' for s in ('announced', 'under_negotiation', 'signed', 'ratified', 'suspended'))}) "
        "may have moved on since; the agreement's page on the website shows the age of its status.",
        "",
        _table(["age of the status", "final (in force or ended)", "not final"],
               [[label, *rows[label]] for _, label in AGE_BANDS], ["l", "r", "r"]),
        "",
    ]


def _coverage_section(data: _Data) -> list[str]:
    pkg = data.pkg
    agreements = data.frames.get("agreements", pl.DataFrame(schema={"agreement_id": pl.Utf8, "signed_on": pl.Utf8}))
    total = agreements.height
    countries = data.frames.get("countries", pl.DataFrame(schema={"iso3": pl.Utf8, "region": pl.Utf8}))
    regions = sorted({r or NO_REGION for r in countries["region"].to_list()} - {NO_REGION}) + [NO_REGION]
    year = pl.col("signed_on").str.slice(0, 4).cast(pl.Int64).alias("year")
    years_of = agreements.select("agreement_id", year)
    party = data.party_regions()
    # an agreement counts once in each region in which it has a party
    in_region = party.select("agreement_id", "region").unique().join(years_of, on="agreement_id")
    per_year = dict(years_of.group_by("year").len().iter_rows())
    per_year_region = {(y, r): n for y, r, n in in_region.group_by("year", "region").len().iter_rows()}
    per_region = Counter(dict(in_region.group_by("region").len().iter_rows()))
    countries_in_region = dict(party.select("region", "iso3").unique().group_by("region").len().iter_rows())
    used = [r for r in regions if per_region[r]]
    year_rows = [[y, per_year[y], *[per_year_region.get((y, r)) or "" for r in used]] for y in sorted(per_year)]
    region_rows = [[r, per_region[r], _pct(per_region[r], total), countries_in_region.get(r, 0)] for r in used]
    counts = ", ".join(f"{data.frames[r.name].height} {r.name.replace('_', ' ')}" for r in pkg.resources)
    years = f"{min(per_year)}-{max(per_year)}" if per_year else "none"
    return [
        "## Coverage",
        "",
        f"Computed from the data of version {pkg.version}: {counts}. Agreements signed in {years}. The share of "
        "non-empty values of every field is in the field tables under [Resources](#resources); the number of "
        "records with each vocabulary code is in the vocabulary tables.",
        "",
        "### Agreements per region",
        "",
        "Region is the UN M49 region of a party's country (`countries.region`). An agreement counts once in each "
        f"region in which it has at least one party, so the counts add up to more than {total} when agreements "
        f"span regions. {NO_REGION} stands for parties whose country has no M49 region (for example Taiwan).",
        "",
        _table(["region", "agreements", "share of all agreements", "countries party to at least one"], region_rows, ["l", "r", "r", "r"]),
        "",
        "### Agreements per year of signature and region",
        "",
        "Same counting rule as above; years without any agreement are left out.",
        "",
        _table(["year", "agreements", *used], year_rows, ["r"] * (2 + len(used))),
        "",
        *_status_age_section(agreements),
        "### Figures",
        "",
        f"![Agreements signed per year, by type]({FIG_YEARS})",
        "",
        f"*Figure 1. Agreements signed per year, by agreement type (`{FIG_YEARS}`).*",
        "",
        f"![The {TOP_N} countries party to most agreements]({FIG_COUNTRIES})",
        "",
        f"*Figure 2. The {TOP_N} countries party to most agreements (`{FIG_COUNTRIES}`); ties in the order of the ISO3 codes.*",
        "",
    ]


def _resource_section(data: _Data, r: Resource) -> list[str]:
    pkg = data.pkg
    frame = data.frames[r.name]
    n = frame.height
    out = [f"### {r.title} ({r.name})", "", r.description, ""]
    schema_desc = ""
    if r.schema_path:
        import json

        schema_desc = json.loads((pkg.root / r.schema_path).read_text(encoding="utf-8")).get("description", "")
    if schema_desc and schema_desc != r.description:
        out += [schema_desc, ""]
    facts = [
        f"- File: `{r.path}`; schema: `{r.schema_path}`" if r.schema_path else f"- File: `{r.path}`",
        f"- Rows: {n}",
        f"- Primary key: {', '.join(f'`{k}`' for k in r.primary_key) or 'none'}",
    ]
    for fk in r.foreign_keys:
        facts.append(f"- Foreign key: {', '.join(f'`{x}`' for x in fk.fields)} → "
                     f"`{fk.resource}`.{', '.join(f'`{x}`' for x in fk.reference_fields)} (empty values are not checked)")
    facts.append("- Missing values: " + ", ".join("empty cell" if m == "" else f"`{m}`" for m in r.missing_values))
    out += facts + [""]
    table = []
    for i, f in enumerate(r.fields, start=1):
        filled = int((frame[f.name] != "").sum()) if f.name in frame.columns else 0
        table.append([i, f"`{f.name}`", f.type, "yes" if f.required else "", f.title, _lead(f), _constraints(f),
                      f"{_pct(filled, n)} ({filled})"])
    out += [_table(["#", "field", "type", "required", "title", "description", "constraints", "non-empty"], table,
                   ["r", "l", "l", "l", "l", "l", "l", "r"]), ""]
    for f in r.fields:
        if not f.enum:
            continue
        defs, source = _definitions(pkg, r, f)
        counts = Counter(dict(frame[f.name].value_counts().iter_rows())) if f.name in frame.columns else Counter({"": n})
        out += [f"#### Vocabulary: {r.name}.{f.name}", ""]
        if source:
            out += [f"The codes and definitions of `{source}`.", ""]
        labels = f.labels()
        vrows = [[f"`{code}`", labels.get(code, ""), defs.get(code, ""), counts.get(code, 0), _pct(counts.get(code, 0), n)]
                 for code in f.enum]
        if not f.required:
            vrows.append(["(empty)", "", "no value (see the field's description)", counts.get("", 0), _pct(counts.get("", 0), n)])
        out += [_table(["code", "label", "definition", "rows", "share"], vrows, ["l", "l", "l", "r", "r"]), ""]
    return out


def _exports_section(pkg: Package) -> list[str]:
    rules = ", ".join(f"`{r}`" for r in RULES)
    out = [
        "## Researcher exports",
        "",
        "`dca build` also writes `build/exports/`, and `dca export` writes it on its own "
        f"(`dca export [PATH] [--out build/exports] [--rule {'|'.join(RULES)}] [--from Y] [--to Y] [--full-panel]`). "
        "Every build, every release bundle and the API's `/v1/downloads` carry the same five tables - "
        + ", ".join(f"`{n}`" for n in EXPORTS) + " - each in three formats with the same rows and columns:",
        "",
        "- **Parquet** (`.parquet`) is the format that keeps every type exactly: text, 64-bit integers and dates as "
        "typed columns, nulls for missing values, each column titled in its metadata. In R `arrow::read_parquet(\"dyad_years.parquet\")`, "
        "in Python `pandas.read_parquet` or `polars.read_parquet`.",
        "- **CSV** (`.csv`): UTF-8, comma-separated, header row, LF line endings; an empty cell is a missing value, and "
        "nothing else is. Read it so that empty cells become missing in text columns too: in R "
        "`read.csv(\"dyad_years.csv\", na.strings = \"\", encoding = \"UTF-8\")` (without `na.strings = \"\"` an empty "
        "text cell stays `\"\"`); in Python `pandas.read_csv(\"dyad_years.csv\", keep_default_na=False, na_values=[\"\"])`; "
        "in Stata `import delimited using dyad_years.csv, clear varnames(1) encoding(utf-8)`. Integer columns read as "
        "numbers, dates as text.",
        "- **Stata** (`.dta`, format 118 for Stata 14 or later; in R `haven::read_dta`): integers as numeric "
        "variables with missing values (`.`), text as `str#` (or `strL` when longer than 2045 bytes) with empty "
        "strings for missing values, dates (`status_as_of`) as Stata dates (`%td`); every variable is labelled "
        "with its title. Every coded variable carries value labels: a vocabulary column (`agreement_type`, "
        "`status`, `signed_precision`) is stored as its code's position in the vocabulary (1, 2, ...) labelled with the "
        "code's label from the schema's `categories`, and 0/1 flags (`assumed`) are labelled No/Yes. In Stata `tab status` "
        "shows the labels and `decode status, gen(status_str)` gives the text; in R `haven::as_factor()`.",
        "",
        "`build/exports/datapackage.json` describes every file as a resource of its own: each CSV with its Table "
        "Schema (the column tables below; a coded column has its vocabulary as Data Package v2 `categories` with "
        "labels, and as `enum`), the Parquet and Stata files with their format, size and SHA-256 checksum; it passes "
        "`frictionless validate`. The options a set of exports was made with are recorded in it "
        "(`dca_export_options`), and so is the last year the release covers (`dca_coverage`). The build's SQLite "
        "database (`build/dca.sqlite`, every resource as a table plus precomputed lookups) is a download too; the API "
        "lists all of these files, with size, checksum and format, at `/v1/downloads`.",
        "",
        "Every export carries Correlates of War codes next to ISO3 codes: dyads and dyad-years have `ccode1` and "
        "`ccode2` with `ccode1 < ccode2` (the COW convention) beside the ISO3-ordered pair `iso3_a`, `iso3_b`, so "
        "they merge with COW-keyed country-year data on (`ccode1`, `year`) and (`ccode2`, `year`) without repair. "
        "In R: `merge(merge(dy, cy, by.x = c(\"ccode1\", \"year\"), by.y = c(\"ccode\", \"year\"), all.x = TRUE), cy, "
        "by.x = c(\"ccode2\", \"year\"), by.y = c(\"ccode\", \"year\"), all.x = TRUE, suffixes = c(\"_1\", \"_2\"))`; in "
        "Stata, with a country-year file keyed by `ccode year`: `rename ccode1 ccode` then "
        "`merge m:1 ccode year using countryyear, keep(master match)`, and the same for `ccode2`. Rows are sorted "
        "(" + "; ".join(f"{n} by {SORT_ORDER[n]}" for n in ALL_EXPORTS) + ") and columns are in the fixed order "
        "below, so that the files of one version are the same byte for byte wherever they are built.",
        "",
        "Lists inside a cell are separated by `;` without spaces (for example `BRA;CHL;PER`), except "
        "`equipment_summary`, whose items are separated by `; `. The party lists of agreements_flat "
        "(`parties_iso3`, `parties_cow_code`, `parties_cow_abbr`, `parties_names`) all follow the order of "
        "`parties_iso3`, with an empty slot for a party that has no code (`220;;750`), so that the i-th items of each "
        "name the same country. In Python `x.split(\";\")` keeps every slot; in R `strsplit(x, \";\", fixed = TRUE)` "
        "drops one trailing empty slot, so split `paste0(x, \";\")` instead; in Stata `split x, parse(;)`.",
        "",
        "### Dyad-year rules",
        "",
        f"Rule names for `--rule`: {rules} (the default is `{RULES[0]}`).",
        "",
    ]
    out += [f"{i}. {rule}" for i, rule in enumerate(dyad_year_rules(), start=1)]
    out += [""]
    for name, columns in ALL_EXPORTS.items():
        formats = ("csv", "parquet", "dta") if name in EXPORTS else FULL_PANEL_FORMATS
        out += [
            f"### {name}",
            "",
            f"{TITLES[name]}. {one_row_per(name)}",
            "",
            "- Files: " + ", ".join(f"`{name}.{fmt}`" for fmt in formats),
            f"- Primary key: {', '.join(f'`{k}`' for k in PRIMARY_KEYS[name])}",
            "",
        ]
        rows = []
        for i, c in enumerate(columns, start=1):
            desc = c.description
            if c.mirrors:
                desc = (desc + " " if desc else "") + f"Copied from `{c.mirrors}` (see above)."
            vocab = c.vocabulary(pkg)
            if vocab:
                desc += " Stata value labels: " + ", ".join(
                    f"{k if isinstance(code, str) else code} = {label}" for k, (code, label) in enumerate(vocab, start=1)) + "."
            rows.append([i, f"`{c.name}`", c.type, "yes" if c.is_required(pkg) else "", c.title, desc])
        out += [_table(["#", "column", "type", "required", "Stata label", "description"], rows,
                       ["r", "l", "l", "l", "l", "l"]), ""]
    return out


def _release_section(pkg: Package) -> list[str]:
    top = f"{pkg.name}-{pkg.version}"
    return [
        "## Release bundle",
        "",
        f"`dca release` writes `dist/{top}.zip` (and `dist/{top}.zip.sha256`). Everything sits under one "
        f"folder, `{top}/`:",
        "",
        "- `datapackage.json`, `schema/*.json`, `dataset/*.csv`: the data package (passes `frictionless validate`);",
        "- `exports/`: the researcher exports and their `datapackage.json`, built fresh for the release;",
        "- `docs/codebook.md`, `docs/codebook.html`, `docs/figures/*.svg`: this codebook;",
        "- `README.md`, `CHANGELOG.md`, `CITATION.cff`, `LICENSE`;",
        "- `SHA256SUMS`: the SHA-256 checksum of every other file, sorted by path "
        f"(check with `cd {top} && sha256sum -c SHA256SUMS`).",
        "",
        "The archive is reproducible: built twice from the same commit it is the same byte for byte (fixed "
        "timestamps, permissions and order of entries), so its checksum identifies the release. The SQLite "
        "database is not in the bundle: `dca build` makes it from the package inside, and the API serves it at "
        "`/v1/downloads`.",
        "",
    ]


# --- the whole codebook ------------------------------------------------------

def render_markdown(pkg: Package, data: _Data | None = None) -> str:
    data = data or _Data(pkg)
    d = pkg.descriptor
    cff = _citation(pkg.root)
    licences = ", ".join(f"[{l.get('title') or l.get('name')}]({l.get('path')})" if l.get("path") else str(l.get("name"))
                         for l in d.get("licenses", []))
    out = [
        f"# {d.get('title', pkg.name)}: codebook",
        "",
        "<!-- Generated by `dca codebook` from datapackage.json, schema/*.schema.json, dataset/*.csv, "
        "scripts/export_columns.py, CITATION.cff and CHANGELOG.md. Do not edit by hand. -->",
        "",
        _table(["", ""], [row for row in [
            ["Dataset", d.get("title", "")],
            ["Version", f"**{pkg.version}**"],
            ["Package name", f"`{pkg.name}`"],
            ["Licence (data)", licences],
            ["Homepage", d.get("homepage", "")],
        ] if row[1]]),
        "",
        d.get("description", ""),
        "",
        "This codebook is generated by `dca codebook` from the Table Schemas and the data; it is never edited by "
        "hand. Figures and counts describe the version above.",
        "",
        "## Contents",
        "",
    ]
    sections = ["How to cite", "Scope: what is an agreement here", "Versions", "Files", "Missing values", "Coverage", "Resources", "Researcher exports",
                "Release bundle", "Changelog"]
    for s in sections:
        out.append(f"- [{s}](#{slug(s)})")
        if s == "Resources":
            out += [f"  - [{r.title}](#{slug(f'{r.title} ({r.name})')})" for r in pkg.resources]
    out.append("")
    out += _citation_section(pkg, cff)
    out += _scope_section(pkg)
    out += _versions_section(pkg)
    out += _files_section(data)
    out += _missing_section()
    out += _coverage_section(data)
    out += ["## Resources", "",
            "One section per resource of `datapackage.json`, in its order. *non-empty* is the share (and number) of "
            "rows in which the field has a value. Each vocabulary is the field's `categories` in its Table Schema "
            "(Data Package v2: every code with its label, the label that Stata value labels show), repeated as "
            "`constraints.enum` for validators that know only that; the definitions are the field's description's.", ""]
    for r in pkg.resources:
        out += _resource_section(data, r)
    out += _exports_section(pkg)
    out += _release_section(pkg)
    out += ["## Changelog", ""]
    log = _changelog(pkg.root)
    out += [log if log else "This package has no `CHANGELOG.md`.", ""]
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="dca codebook">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; line-height: 1.5; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #1b1f24; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
th, td {{ border: 1px solid #d0d7de; padding: 0.3rem 0.5rem; vertical-align: top; }}
th {{ background: #f6f8fa; }}
code {{ background: #f6f8fa; padding: 0.1rem 0.25rem; border-radius: 3px; font-size: 0.85em; }}
pre {{ background: #f6f8fa; padding: 0.75rem; overflow-x: auto; }}
pre code {{ background: none; padding: 0; }}
img {{ max-width: 100%; }}
blockquote {{ border-left: 4px solid #d0d7de; margin: 1rem 0; padding: 0 1rem; color: #424a53; }}
</style>
</head>
<body>
{body}</body>
</html>
"""


def render_html(markdown_text: str, title: str) -> str:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    markdown_text = re.sub(r"<!--.*?-->\n*", "", markdown_text, flags=re.S)  # raw HTML is off: drop comments
    tokens = md.parse(markdown_text)
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and i + 1 < len(tokens):
            tok.attrSet("id", slug(tokens[i + 1].content.replace("`", "")))
    body = md.renderer.render(tokens, md.options, {})
    return HTML_TEMPLATE.format(title=html.escape(title), body=body)


def render_codebook(root: Path | str, db: Path | None = None) -> dict[str, bytes]:
    """Every codebook file, by path relative to docs/, as bytes. `db`: the package's build database, just
    written (dca build), for the figures' counts (see figures.package_stats)."""
    return render_codebook_text(root) | render_codebook_figures(root, db)


def render_codebook_text(root: Path | str, frames: dict[str, pl.DataFrame] | None = None) -> dict[str, bytes]:
    """The codebook itself (Markdown and HTML). `frames`: the data as `dca validate` read it (see _Data)."""
    pkg = load_package(root)
    text = render_markdown(pkg, _Data(pkg, frames))
    return {
        MD: text.encode("utf-8"),
        HTML: render_html(text, f"{pkg.descriptor.get('title', pkg.name)}: codebook (version {pkg.version})").encode("utf-8"),
    }


def render_codebook_figures(root: Path | str, db: Path | None = None, con: sqlite3.Connection | None = None) -> dict[str, bytes]:
    """The codebook's figures, counted in the build's database when `db` or `con` is given (see
    figures.package_stats)."""
    pkg = load_package(root)
    st = figures.package_stats(pkg, top=TOP_N, db=db, con=con)
    types = list(pkg.resource("agreements").field("agreement_type").enum or [])
    return {
        FIG_YEARS: figures.agreements_per_year_by_type(st, pkg.version, types),
        FIG_COUNTRIES: figures.top_countries(st, pkg.version, TOP_N),
    }


def _leftover_figures(docs: Path, rendered: dict[str, bytes]) -> list[Path]:
    """Figures in docs/figures/ that the codebook no longer draws (a figure renamed or dropped): generated
    files, so they go with the codebook that stopped drawing them."""
    folder = Path(docs) / Path(FIG_YEARS).parent
    keep = {Path(docs) / rel for rel in rendered}
    return sorted(p for p in folder.glob("*.svg") if p not in keep) if folder.is_dir() else []


def write_codebook(root: Path | str, docs: Path) -> list[Path]:
    """Write the codebook's files under `docs`, and remove the figures it no longer draws."""
    from .atomic import write_bytes_atomic

    written = []
    rendered = render_codebook(root)
    for rel, data in rendered.items():
        target = Path(docs) / rel
        write_bytes_atomic(target, data)
        os.chmod(target, 0o644)  # committed files: readable by all (atomic writes start as 0600)
        written.append(target)
    for old in _leftover_figures(docs, rendered):
        old.unlink()
    return written


def stale_files(root: Path | str, docs: Path) -> list[str]:
    """The codebook files under docs/ that differ from what the package gives now, and the figures it no
    longer draws (named with "(no longer generated)")."""
    stale = []
    rendered = render_codebook(root)
    for rel, data in rendered.items():
        target = Path(docs) / rel
        if not target.exists() or target.read_bytes() != data:
            stale.append(rel)
    stale += [f"{p.relative_to(docs).as_posix()} (no longer generated)" for p in _leftover_figures(docs, rendered)]
    return stale

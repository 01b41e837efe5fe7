"""The researcher exports' columns and rules: the one definition of each export.

Every export column is defined once here, as (name, type, title, description).
The same definitions write the CSV, Parquet and Stata files (scripts/export.py),
the Table Schemas in build/exports/datapackage.json and the codebook's export
section (scripts/codebook.py). A column that copies a field of the package says
so (`mirrors`); its description then ends with the field's own description from
the schema, vocabulary definitions included, so the schemas stay the single
source of truth for what the dataset's fields mean.
"""
from __future__ import annotations

from dataclasses import dataclass

from schema.tableschema import Package

# Agreement statuses and what they mean for the dyad-year panel.
ACTIVE_STATUSES = ("signed", "ratified", "in_force")
ENDED_STATUSES = ("suspended", "expired", "terminated", "superseded")
NOT_IN_FORCE_STATUSES = ("announced", "under_negotiation")

LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class Column:
    name: str  # <= 32 characters, a valid Stata variable name
    type: str  # Table Schema type: string, integer or date
    title: str  # <= 80 characters: the Stata variable label
    description: str
    mirrors: str | None = None  # "resource.field" whose values this column copies
    required: bool = False

    def full_description(self, pkg: Package | None) -> str:
        """The description, followed by the mirrored field's schema description."""
        if not self.mirrors or pkg is None:
            return self.description
        resource, field = self.mirrors.split(".")
        schema_text = pkg.resource(resource).field(field).description
        lead = self.description or f"Copied from {resource}.{field}."
        return f"{lead} {schema_text}".strip()

    def is_required(self, pkg: Package | None) -> bool:
        """Required here, or a copy of a field that the schema requires."""
        if self.required:
            return True
        if self.mirrors and pkg is not None:
            resource, field = self.mirrors.split(".")
            return pkg.resource(resource).field(field).required
        return False

    def constraints(self, pkg: Package | None) -> dict:
        out: dict = {}
        if self.is_required(pkg):
            out["required"] = True
        if self.mirrors and pkg is not None:
            resource, field = self.mirrors.split(".")
            enum = pkg.resource(resource).field(field).enum
            if enum:
                out["enum"] = list(enum)
        return out


def _copy(name: str, resource: str = "agreements", field: str | None = None, type: str = "string",
          title: str = "", required: bool = False) -> Column:
    return Column(name, type, title, "", mirrors=f"{resource}.{field or name}", required=required)


def _pair_side(side: str, role: str) -> list[Column]:
    return [
        Column(f"iso3_{side}", "string", f"ISO3 code of party {side.upper()}",
               f"ISO 3166-1 alpha-3 code of the {role} party of the pair (countries.iso3).", required=True),
        Column(f"cow_code_{side}", "integer", f"COW numeric code of party {side.upper()}",
               f"Correlates of War numeric state code of party {side.upper()} (countries.cow_code). "
               "Empty where COW has no code for the country (never invented)."),
        Column(f"cow_abbr_{side}", "string", f"COW abbreviation of party {side.upper()}",
               f"Correlates of War state abbreviation of party {side.upper()} (countries.cow_abbr). Empty where COW has none."),
    ]


AGREEMENTS_FLAT: list[Column] = [
    _copy("agreement_id", title="Agreement id", required=True),
    _copy("title", title="Title"),
    _copy("agreement_type", title="Agreement type"),
    _copy("instrument", title="Instrument (legal form)"),
    _copy("signed_on", title="Signing date (ISO 8601, truncated to what is known)"),
    _copy("signed_precision", title="Signing date precision"),
    Column("signed_year", "integer", "Year of signature", "Year of signed_on.", required=True),
    Column("signed_month", "integer", "Month of signature (1-12)",
           "Month of signed_on (1-12). Empty when only the year is known (signed_precision = year)."),
    Column("signed_day", "integer", "Day of signature (1-31)",
           "Day of signed_on (1-31). Empty unless the exact day is known (signed_precision = day)."),
    _copy("venue_city", title="Venue city"),
    _copy("venue_country_iso3", title="Venue country (ISO3)"),
    Column("venue_country_cow_code", "integer", "Venue country (COW numeric code)",
           "Correlates of War numeric code of the venue country. Empty when the venue is unknown or COW has no code for it."),
    Column("venue_country_name", "string", "Venue country (name)",
           "English short name of the venue country (countries.name). Empty when the venue is unknown."),
    _copy("status", title="Status"),
    _copy("status_as_of", type="date", title="Status known as of"),
    _copy("entry_into_force_on", title="Entry into force (ISO 8601, truncated)"),
    Column("entry_into_force_year", "integer", "Year of entry into force",
           "Year of entry_into_force_on. Empty when that date is unknown or the agreement is not in force."),
    _copy("end_on", title="End date (ISO 8601, truncated)"),
    Column("end_year", "integer", "Year the agreement ended",
           "Year of end_on. Empty while the agreement is still in force or when the end date is unknown."),
    Column("parties_iso3", "string", "Parties (ISO3 codes)",
           f"ISO3 codes of all parties, sorted alphabetically, separated by '{LIST_SEPARATOR}' (e.g. BRA;CHL;PER)."),
    Column("parties_cow_code", "string", "Parties (COW numeric codes)",
           f"Correlates of War numeric codes of the parties that have one, sorted numerically, separated by '{LIST_SEPARATOR}' "
           "(e.g. 135;140;155). Parties without a COW code are left out of this list, never given an invented code; "
           "they are listed in parties_without_cow."),
    Column("parties_cow_abbr", "string", "Parties (COW abbreviations)",
           f"Correlates of War abbreviations of the parties that have one, in the order of parties_cow_code, separated by '{LIST_SEPARATOR}'."),
    Column("parties_without_cow", "string", "Parties without a COW code (ISO3)",
           f"ISO3 codes of the parties that have no Correlates of War code, sorted, separated by '{LIST_SEPARATOR}'. "
           "Empty when every party has one."),
    Column("parties_names", "string", "Parties (names)",
           f"English short names of the parties (countries.name), in the order of parties_iso3, separated by '{LIST_SEPARATOR}'."),
    Column("n_parties", "integer", "Number of parties", "Number of state parties to the agreement.", required=True),
    Column("equipment_summary", "string", "Equipment named with the agreement",
           f"The equipment items named in connection with the agreement, in equipment_id order, separated by '{LIST_SEPARATOR} ', "
           "each as 'designation (category, quantity N, item status)'; the quantity part is left out when no source states it. "
           "Empty when no equipment is named."),
    Column("n_equipment", "integer", "Number of equipment items", "Number of rows in equipment for the agreement.", required=True),
    Column("n_sources", "integer", "Number of sources", "Number of sources that support the record.", required=True),
    Column("first_source_url", "string", "URL of the first source",
           "URL of the first source (in source_id order) that has one. Empty when every source is a bibliographic reference without URL."),
    _copy("summary", title="Summary"),
    _copy("notes", title="Notes"),
]

DYADS: list[Column] = [
    Column("agreement_id", "string", "Agreement id", "The agreement (agreements_flat.agreement_id).", required=True),
    *_pair_side("a", "first"),
    *_pair_side("b", "second"),
    Column("signed_year", "integer", "Year of signature", "Year of the agreement's signed_on.", required=True),
    Column("signed_month", "integer", "Month of signature (1-12)", "Month of signed_on. Empty when only the year is known."),
    Column("signed_day", "integer", "Day of signature (1-31)", "Day of signed_on. Empty unless the exact day is known."),
    _copy("agreement_type", title="Agreement type"),
    _copy("instrument", title="Instrument (legal form)"),
    _copy("status", title="Status"),
    Column("n_parties", "integer", "Number of parties to the agreement",
           "Number of state parties to the agreement (2 for a bilateral agreement).", required=True),
]

DYAD_YEARS: list[Column] = [
    *_pair_side("a", "first"),
    *_pair_side("b", "second"),
    Column("year", "integer", "Calendar year", "Calendar year in which the pair has at least one agreement in force (see the rules).", required=True),
    Column("n_agreements", "integer", "Agreements in force for the pair in the year",
           "Number of distinct agreements that count for the pair in the year under the dyad-year rules.", required=True),
    Column("agreement_ids", "string", "Ids of those agreements",
           f"The ids of those agreements (agreements_flat.agreement_id), sorted, separated by '{LIST_SEPARATOR}'.", required=True),
]

EXPORTS: dict[str, list[Column]] = {
    "agreements_flat": AGREEMENTS_FLAT,
    "dyads": DYADS,
    "dyad_years": DYAD_YEARS,
}

PRIMARY_KEYS: dict[str, list[str]] = {
    "agreements_flat": ["agreement_id"],
    "dyads": ["agreement_id", "iso3_a", "iso3_b"],
    "dyad_years": ["iso3_a", "iso3_b", "year"],
}

TITLES: dict[str, str] = {
    "agreements_flat": "Agreements, one row each, no joins needed",
    "dyads": "Dyads: pairs of parties per agreement",
    "dyad_years": "Dyad-years: pairs of parties with agreements in force, per year",
}


def one_row_per(name: str, directed: bool = False) -> str:
    if name == "agreements_flat":
        return "One row per agreement, with its parties, equipment and sources summarised in the same row."
    if name == "dyads":
        if directed:
            return ("Directed dyads: two rows per pair of parties per agreement, one for each direction "
                    "(A-B and B-A), so a three-party agreement gives six rows.")
        return ("One row per unordered pair of parties per agreement (a three-party agreement gives three rows); "
                "party A is the one whose ISO3 code sorts first.")
    if directed:
        return ("One row per ordered pair of states (both directions) and calendar year in which the pair has "
                "at least one agreement in force, under the dyad-year rules.")
    return ("One row per unordered pair of states (party A's ISO3 code sorts first) and calendar year in which "
            "the pair has at least one agreement in force, under the dyad-year rules.")


def dyad_year_rules() -> list[str]:
    """The dyad-year rules, stated exactly; the code in scripts/export.py follows them."""
    return [
        "An agreement counts for each pair of its parties in every calendar year from its start year through its "
        "end year, both included.",
        "Start year: the year of signed_on (the default, `--start signing`). With `--start entry`: the year of "
        "entry_into_force_on where it is known, otherwise the year of signed_on.",
        "End year, when end_on is set: the year of end_on, whatever the status.",
        "End year, when end_on is empty and the status is " + ", ".join(f"`{s}`" for s in ACTIVE_STATUSES)
        + " (still active): the year of status_as_of, the last date at which the status is known to hold. "
        "Later years are not assumed: the panel is extended by new releases, not by guesses.",
        "End year, when end_on is empty and the status is " + ", ".join(f"`{s}`" for s in ENDED_STATUSES)
        + " (ended or suspended on a date the record does not give): the year of the earliest step in "
        "status_history for the agreement itself (equipment_id empty) that records that status; when there is no "
        "such step, the agreement counts in its start year only - the one year in which it is known to have "
        "existed - and never in years in which it may already have ended.",
        "When the end year would fall before the start year (for example `--start entry` with an entry into "
        "force after the status_as_of year), the agreement counts in its start year only.",
        "Agreements whose status is " + " or ".join(f"`{s}`" for s in NOT_IN_FORCE_STATUSES)
        + " are not counted: they were never in force.",
        "`--from Y` and `--to Y` clip the years written (both included); without them every year that any "
        "agreement covers is written.",
        "Only pairs and years with at least one agreement have a row: a missing row means no agreement in force "
        "for that pair in that year under these rules. n_agreements counts distinct agreements; agreement_ids "
        f"lists them sorted, separated by '{LIST_SEPARATOR}'.",
        "Pairs are unordered (party A's ISO3 code sorts first) unless `--directed` is given, which writes both "
        "directions of every pair, in dyads as in dyad_years.",
    ]

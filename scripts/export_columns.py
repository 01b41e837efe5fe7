"""The researcher exports' columns and rules: the one definition of each export.

Every export column is defined once here, as (name, type, title, description).
The same definitions write the CSV, Parquet and Stata files (scripts/export.py),
the Table Schemas in build/exports/datapackage.json and the codebook's export
section (scripts/codebook.py). A column that copies a field of the package says
so (`mirrors`); its description then ends with the field's own description from
the schema, vocabulary definitions included, and its vocabulary (codes and labels,
for the Stata value labels) is the field's `categories`, so the schemas stay the
single source of truth for what the dataset's fields mean.
"""
from __future__ import annotations

from dataclasses import dataclass

from schema.tableschema import Package

# Agreement statuses and what they mean for the dyad-year panel.
ACTIVE_STATUSES = ("signed", "ratified", "in_force")
ENDED_STATUSES = ("suspended", "expired", "terminated", "superseded")
NOT_IN_FORCE_STATUSES = ("announced", "under_negotiation")

# How long an agreement with no known end counts (`dca export --rule`).
RULE_UNTIL_ENDED = "until-ended"  # the field's convention (COW alliances, ATOP, DCAD): until known to end
RULE_ATTESTED = "attested"  # only through the year in which its status is last attested
RULES = (RULE_UNTIL_ENDED, RULE_ATTESTED)

LIST_SEPARATOR = ";"
YES_NO = ((0, "No"), (1, "Yes"))


@dataclass(frozen=True)
class Column:
    name: str  # <= 32 characters, a valid Stata variable name
    type: str  # Table Schema type: string, integer or date
    title: str  # <= 80 characters: the Stata variable label
    description: str
    mirrors: str | None = None  # "resource.field" whose values this column copies
    required: bool = False
    categories: tuple[tuple[int, str], ...] = ()  # the codes of a coded column of the exports' own (e.g. 0/1 flags)

    def _field(self, pkg: Package | None):
        if not self.mirrors or pkg is None:
            return None
        resource, field = self.mirrors.split(".")
        return pkg.resource(resource).field(field)

    def full_description(self, pkg: Package | None) -> str:
        """The description, followed by the mirrored field's schema description."""
        f = self._field(pkg)
        if f is None:
            return self.description
        lead = self.description or f"Copied from {self.mirrors}."
        return f"{lead} {f.description}".strip()

    def is_required(self, pkg: Package | None) -> bool:
        """Required here, or a copy of a field that the schema requires."""
        if self.required:
            return True
        f = self._field(pkg)
        return bool(f is not None and f.required)

    def vocabulary(self, pkg: Package | None) -> list[tuple[int | str, str]]:
        """(code, label) of every allowed value, in order: the mirrored field's `categories`, or this column's
        own. Empty for a column that is not coded. Stata stores such a column as numbers with value labels."""
        if self.categories:
            return list(self.categories)
        f = self._field(pkg)
        if f is not None and f.enum:
            labels = f.labels()
            return [(code, labels.get(code, code)) for code in f.enum]
        return []

    def constraints(self, pkg: Package | None) -> dict:
        out: dict = {}
        if self.is_required(pkg):
            out["required"] = True
        vocab = self.vocabulary(pkg)
        if vocab:
            out["enum"] = [code for code, _ in vocab]
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


def _ccodes(directed: bool) -> list[Column]:
    if directed:
        return [
            Column("ccode1", "integer", "COW code of state 1 (party A)",
                   "Correlates of War code of party A, the first state of the ordered pair (= cow_code_a), as in COW's "
                   "directed-dyad files. Empty when party A has no COW code."),
            Column("ccode2", "integer", "COW code of state 2 (party B)",
                   "Correlates of War code of party B (= cow_code_b). Empty when party B has no COW code."),
        ]
    return [
        Column("ccode1", "integer", "COW code of state 1 (the lower code)",
               "The lower of the two parties' Correlates of War codes, so that ccode1 < ccode2 (the COW convention for "
               "undirected dyads; the pair is the same as iso3_a, iso3_b, which follow ISO3 order). Empty when either "
               "party has no COW code."),
        Column("ccode2", "integer", "COW code of state 2 (the higher code)",
               "The higher of the two parties' Correlates of War codes. Empty when either party has no COW code."),
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
    Column("in_force_from_year", "integer", "First year counted as in force (n_in_force)",
           "The first year in which the agreement counts in n_in_force of the dyad-year tables (rule 3 of the "
           "dyad-year rules). Empty when it is not known ever to have been in force."),
    Column("last_attested_year", "integer", "Last year its status is attested",
           "The last year in which the record itself shows the agreement in effect (rule 4): its end year, or for an "
           "agreement still active the year of status_as_of. Empty for announced agreements and those under negotiation."),
    Column("counted_to_year", "integer", "Last year counted in the dyad-year tables",
           "The last year in which the agreement counts in the dyad-year tables under the rule the exports were made "
           "with (dca_export_options.rule): under `until-ended`, the last year the release covers for an agreement with "
           "no known end; under `attested`, last_attested_year. Empty when it is never counted."),
    Column("assumed", "integer", "Counted beyond its last attested year (1 = yes)",
           "1 when counted_to_year is later than last_attested_year, i.e. some of the years in which the agreement counts "
           "rest on the assumption that it is still in effect; 0 otherwise. Empty when it is never counted.",
           categories=YES_NO),
    Column("parties_iso3", "string", "Parties (ISO3 codes)",
           f"ISO3 codes of all parties, sorted alphabetically, separated by '{LIST_SEPARATOR}' (e.g. BRA;CHL;PER). "
           "This order is the party order of every list column of the row."),
    Column("parties_cow_code", "string", "Parties (COW numeric codes)",
           f"Correlates of War numeric codes of the parties, in the order of parties_iso3, separated by '{LIST_SEPARATOR}' "
           "(e.g. 140;155;135 for BRA;CHL;PER): the i-th code is the i-th party's. A party without a COW code has an "
           "empty slot (e.g. 220;;750), never an invented code; parties_without_cow lists them."),
    Column("parties_cow_abbr", "string", "Parties (COW abbreviations)",
           f"Correlates of War abbreviations of the parties, in the order of parties_iso3, separated by '{LIST_SEPARATOR}', "
           "with an empty slot for a party without one."),
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


def _dyads(directed: bool) -> list[Column]:
    return [
        Column("agreement_id", "string", "Agreement id", "The agreement (agreements_flat.agreement_id).", required=True),
        *_pair_side("a", "first"),
        *_pair_side("b", "second"),
        *_ccodes(directed),
        Column("signed_year", "integer", "Year of signature", "Year of the agreement's signed_on.", required=True),
        Column("signed_month", "integer", "Month of signature (1-12)", "Month of signed_on. Empty when only the year is known."),
        Column("signed_day", "integer", "Day of signature (1-31)", "Day of signed_on. Empty unless the exact day is known."),
        _copy("agreement_type", title="Agreement type"),
        _copy("instrument", title="Instrument (legal form)"),
        _copy("status", title="Status"),
        Column("n_parties", "integer", "Number of parties to the agreement",
               "Number of state parties to the agreement (2 for a bilateral agreement).", required=True),
    ]


def _counts() -> list[Column]:
    return [
        Column("year", "integer", "Calendar year", "Calendar year.", required=True),
        Column("n_signed", "integer", "Agreements in effect from signing",
               "Number of distinct agreements of the pair that count in the year from their signing (rules 1, 2, 4-6): "
               "signed, ratified or in force, and not ended (under `--rule attested`: and attested) in the year.",
               required=True),
        Column("n_in_force", "integer", "Agreements in force",
               "Number of those agreements that count in the year from their entry into force (rule 3). Never more "
               "than n_signed: the difference is the agreements signed but not (yet, or not known to be) in force.",
               required=True),
        Column("assumed", "integer", "Some agreement counted beyond its attested years (1 = yes)",
               "1 when at least one agreement counted in n_signed counts in this year only because it is assumed to be "
               "still in effect (the year is after its last_attested_year; rule 5); 0 when every count is attested. "
               "Always 0 with `--rule attested`.", required=True, categories=YES_NO),
    ]


def _dyad_years(directed: bool) -> list[Column]:
    return [
        *_pair_side("a", "first"),
        *_pair_side("b", "second"),
        *_ccodes(directed),
        *_counts(),
        Column("agreement_ids", "string", "Ids of the agreements in n_signed",
               f"The ids of the agreements counted in n_signed (agreements_flat.agreement_id), sorted, separated by "
               f"'{LIST_SEPARATOR}'.", required=True),
        Column("in_force_ids", "string", "Ids of the agreements in n_in_force",
               f"The ids of the agreements counted in n_in_force, sorted, separated by '{LIST_SEPARATOR}'. Empty when "
               "n_in_force is 0."),
    ]


DYAD_YEARS_FULL: list[Column] = [
    Column("ccode1", "integer", "COW code of state 1 (the lower code)",
           "Correlates of War code of the first state of the pair; ccode1 < ccode2.", required=True),
    Column("ccode2", "integer", "COW code of state 2 (the higher code)",
           "Correlates of War code of the second state of the pair.", required=True),
    Column("cow_abbr1", "string", "COW abbreviation of state 1", "COW abbreviation of ccode1.", required=True),
    Column("cow_abbr2", "string", "COW abbreviation of state 2", "COW abbreviation of ccode2.", required=True),
    Column("iso3_1", "string", "ISO3 code of state 1",
           "ISO 3166-1 alpha-3 code of ccode1 (countries.iso3). Empty for Kosovo (347), which ISO 3166-1 does not list."),
    Column("iso3_2", "string", "ISO3 code of state 2", "ISO 3166-1 alpha-3 code of ccode2. Empty for Kosovo (347)."),
    *_counts(),
]

EXPORTS: dict[str, list[Column]] = {
    "agreements_flat": AGREEMENTS_FLAT,
    "dyads": _dyads(False),
    "directed_dyads": _dyads(True),
    "dyad_years": _dyad_years(False),
    "directed_dyad_years": _dyad_years(True),
}
# Written only on request (`dca export --full-panel`), and not as CSV: see FULL_PANEL_FORMATS.
OPTIONAL_EXPORTS: dict[str, list[Column]] = {"dyad_years_full": DYAD_YEARS_FULL}
FULL_PANEL_FORMATS = ("parquet", "dta")
ALL_EXPORTS: dict[str, list[Column]] = {**EXPORTS, **OPTIONAL_EXPORTS}

PRIMARY_KEYS: dict[str, list[str]] = {
    "agreements_flat": ["agreement_id"],
    "dyads": ["agreement_id", "iso3_a", "iso3_b"],
    "directed_dyads": ["agreement_id", "iso3_a", "iso3_b"],
    "dyad_years": ["iso3_a", "iso3_b", "year"],
    "directed_dyad_years": ["iso3_a", "iso3_b", "year"],
    "dyad_years_full": ["ccode1", "ccode2", "year"],
}

TITLES: dict[str, str] = {
    "agreements_flat": "Agreements, one row each, no joins needed",
    "dyads": "Dyads: pairs of parties per agreement",
    "directed_dyads": "Directed dyads: ordered pairs of parties per agreement",
    "dyad_years": "Dyad-years: pairs of parties with agreements in effect, per year",
    "directed_dyad_years": "Directed dyad-years: ordered pairs with agreements in effect, per year",
    "dyad_years_full": "Full dyad-year panel: every pair of COW states in every covered year",
}

SORT_ORDER: dict[str, str] = {
    "agreements_flat": "`agreement_id`",
    "dyads": "`agreement_id`, `iso3_a`, `iso3_b`",
    "directed_dyads": "`agreement_id`, `iso3_a`, `iso3_b`",
    "dyad_years": "`iso3_a`, `iso3_b`, `year`",
    "directed_dyad_years": "`iso3_a`, `iso3_b`, `year`",
    "dyad_years_full": "`ccode1`, `ccode2`, `year`",
}

# COW's state system: states that entered it in or after FULL_PANEL_FIRST_YEAR, with the year they entered,
# from the COW State System Membership List v2016 (states2016.csv). Every other state with a COW code in
# countries.csv has been a member since before that year and still is, so the full panel is exact from
# FULL_PANEL_FIRST_YEAR on; for earlier years it would need the whole list, which no package ships.
# Checked on 2026-12-02 against a public copy of states2016.csv (GitHub vivekmithlesh/GSOC_MIC_TEST): the
# five entries below are the only states with styear >= 2000, and none left the system after 2000.
FULL_PANEL_FIRST_YEAR = 2000
COW_ENTRIES_SINCE_2000: dict[int, int] = {
    947: 2000,  # Tuvalu
    860: 2002,  # East Timor
    341: 2006,  # Montenegro
    347: 2008,  # Kosovo (no ISO 3166-1 code; COW abbreviation KOS)
    626: 2011,  # South Sudan
}
# Codes that countries.csv carries (from countrycode) but that are not members of the system since 2000.
COW_NOT_MEMBERS_SINCE_2000: dict[int, str] = {
    327: "the Papal States (PAP), which left the system in 1860; countrycode gives their code to the Holy See (VAT)",
}
COW_STATE_LIST = ("Correlates of War Project, State System Membership List, v2016 (states2016.csv), "
                  "https://correlatesofwar.org/data-sets/state-system-membership/")


def one_row_per(name: str) -> str:
    if name == "agreements_flat":
        return "One row per agreement, with its parties, equipment and sources summarised in the same row."
    if name == "dyads":
        return ("One row per unordered pair of parties per agreement (a three-party agreement gives three rows); "
                "party A is the one whose ISO3 code sorts first, and ccode1 < ccode2 holds the same pair in COW order.")
    if name == "directed_dyads":
        return ("Two rows per pair of parties per agreement, one for each direction (A-B and B-A), so a three-party "
                "agreement gives six rows: exactly twice the rows of dyads. ccode1 is party A's code, ccode2 party B's.")
    if name == "dyad_years":
        return ("One row per unordered pair of states (party A's ISO3 code sorts first; ccode1 < ccode2) and calendar "
                "year in which the pair has at least one agreement in effect under the dyad-year rules.")
    if name == "directed_dyad_years":
        return ("One row per ordered pair of states (both directions) and calendar year in which the pair has at "
                "least one agreement in effect: exactly twice the rows of dyad_years, each row of it as A-B and B-A.")
    return ("One row per unordered pair of states in the COW state system (ccode1 < ccode2) and year, from the first "
            "year any agreement counts (or `--from`) to the last year the release covers (or `--to`), with zeros where "
            "no agreement is in effect: the shape of DCAD's dyadic file. Written by `dca export --full-panel`, as "
            "Parquet and Stata only.")


def dyad_year_rules() -> list[str]:
    """The dyad-year rules, stated exactly; the code in scripts/export.py follows them."""
    active = ", ".join(f"`{s}`" for s in ACTIVE_STATUSES)
    ended = ", ".join(f"`{s}`" for s in ENDED_STATUSES)
    never = " or ".join(f"`{s}`" for s in NOT_IN_FORCE_STATUSES)
    return [
        "An agreement counts for each pair of its parties in every calendar year from its start year through its "
        "counted end year, both included. Agreements whose status is " + never + " never count, in n_signed or "
        "n_in_force: they were never signed, let alone in force.",
        "n_signed counts an agreement from the year of signed_on (the start year).",
        "n_in_force counts it from the year it entered into force: the year of entry_into_force_on where known; "
        "otherwise the year of the earliest status_history step for the agreement itself (equipment_id empty) that "
        "records `in_force`; otherwise, when its status is `in_force`, the year of status_as_of (the first date at "
        "which it is known to be in force). An agreement with none of these - signed but not known to have entered "
        "into force, or suspended before it took effect (for example col-usa-2009-10-30) - never counts in n_in_force. "
        "Its end is the same as for n_signed, so n_in_force <= n_signed in every row.",
        "Last attested year: the year of end_on when it is set, whatever the status; when end_on is empty and the "
        "status is " + active + " (still active), the year of status_as_of; when end_on is empty and the status is "
        + ended + " (ended or suspended on a date the record does not give), the year of the earliest status_history "
        "step for the agreement itself that records that status, or, without such a step, the start year - the one "
        "year in which it is known to have existed - so that it never counts in years in which it may already have ended.",
        "Counted end year, under the default rule (`--rule until-ended`, the convention of the COW alliance data, "
        "ATOP and DCAD's dyadic file: an agreement is in effect from its start until it is known to end): the last "
        "attested year for an agreement with an end date or an ended status; for one still active with no end date, "
        "the last year the release covers, which is the year of its data date (the latest status_as_of of any "
        "agreement, given as dca_coverage in the exports' datapackage.json). The years after the last attested year "
        "rest on that assumption; the `assumed` column of every row says whether any year or count does. Under "
        "`--rule attested` the counted end year is the last attested year: later years are not assumed, and "
        "`assumed` is always 0.",
        "When the counted end year would fall before the year counting starts (an entry into force later than the "
        "last attested year), it is that year: the agreement counts in the year it is known to be in force.",
        "`--from Y` and `--to Y` clip the years written to every dyad-year table (both included); without them every "
        "year that any agreement covers is written. agreements_flat and the dyad tables are not clipped.",
        "dyad_years and directed_dyad_years have a row only for pairs and years with at least one agreement in effect "
        "(n_signed >= 1): a missing row means none under these rules. agreement_ids and in_force_ids list the "
        f"agreements counted, sorted, separated by '{LIST_SEPARATOR}'.",
        "Pairs of dyads and dyad_years are unordered (party A's ISO3 code sorts first; ccode1 and ccode2 are the same "
        "two states in COW order, ccode1 < ccode2, empty when either has no COW code). directed_dyads and "
        "directed_dyad_years hold every pair in both directions, so they have exactly twice the rows; there ccode1 is "
        "party A's code and ccode2 party B's.",
        "The full panel (`--full-panel`, dyad_years_full) has a row for every unordered pair of states that are members "
        "of the COW state system in the year, for every year from the first year of dyad_years (or `--from`) through "
        "the last year the release covers (or `--to`), with n_signed = n_in_force = 0 where no agreement is in effect. "
        "Members: every state with a COW code in countries.csv, plus Kosovo (347), which has no ISO3 code, less "
        + "; ".join(f"{code}, {why}" for code, why in COW_NOT_MEMBERS_SINCE_2000.items()) + "; a state that "
        f"entered the system in {FULL_PANEL_FIRST_YEAR} or later counts from the year it entered (Tuvalu 2000, East "
        "Timor 2002, Montenegro 2006, Kosovo 2008, South Sudan 2011; " + COW_STATE_LIST + "). The panel starts no "
        f"earlier than {FULL_PANEL_FIRST_YEAR}: for earlier years it would need the whole membership list with its "
        "dates, which this package does not ship. Agreements with a party that has no COW code do not count in it.",
    ]

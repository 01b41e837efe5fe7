"""Generate a synthetic data package in the project's schema, for benchmarks.

    python bench/make_package.py --n 100000 --out bench/data/n100000 [--seed 42]

The output is a complete Frictionless package (descriptor, schemas, the real
country table and five synthetic tables) that passes `frictionless validate` and
the project's stricter rules, so validators, loaders and the API can be timed on
realistic volumes without touching curated data. Every text field says it is
synthetic, so a generated row can never be mistaken for a real record.

Only the standard library is used so the generator runs from any Python, and the
output depends on nothing but --n and --seed: the same arguments give
byte-identical files (no set iteration, no hash(), one seeded Random).
"""
from __future__ import annotations

import argparse
import bisect
import calendar
import csv
import itertools
import json
import math
import random
import shutil
import sys
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

FIELDS = {
    "agreements": ["agreement_id", "title", "agreement_type", "instrument", "signed_on", "signed_precision",
                   "venue_city", "venue_country_iso3", "status", "status_as_of",
                   "entry_into_force_on", "end_on", "summary", "notes"],
    "parties": ["agreement_id", "country_iso3", "signatory_name", "signatory_title"],
    "sources": ["source_id", "agreement_id", "url", "citation", "title", "publisher", "author",
                "published_on", "source_type", "supports", "reprint_of"],
    "equipment": ["equipment_id", "agreement_id", "designation", "category", "supplier_iso3",
                  "recipient_iso3", "quantity", "status", "non_party_reason", "note", "source_id",
                  "condition", "value_amount", "value_currency", "value_year"],
    "status_history": ["history_id", "agreement_id", "equipment_id", "status_on",
                       "agreement_status", "equipment_status", "description", "source_id"],
}

# The most active states in defence diplomacy, in rough order. They head the
# Zipf ranking so that, as in real data, a handful of countries appear in most
# agreements; the remaining countries follow in a seeded random order.
TOP = ["USA", "RUS", "CHN", "FRA", "GBR", "IND", "DEU", "TUR", "ISR", "ITA", "JPN", "KOR",
       "PAK", "SAU", "ARE", "AUS", "ESP", "BRA", "EGY", "UKR", "POL", "IDN", "IRN", "CAN"]
# weight(rank) = 1 / (rank + ZIPF_OFFSET) ** ZIPF_EXPONENT. Tuned so that USA is in
# about 20% of agreements: a pure 1/rank law would put it in about a third, and
# the offset flattens the head so RUS and CHN stay close behind.
ZIPF_OFFSET = 3.0
ZIPF_EXPONENT = 1.1

FIRST_YEAR, LAST_YEAR = 1980, 2025
# Real agreement counts grow over time; an e-folding of 15 years makes 2025 about
# 20 times as likely as 1980.
YEAR_SCALE = 15.0
CAP = date(2026, 1, 1).toordinal()  # status_as_of and every later date stay on or before this

AGREEMENT_TYPES = {  # code: (weight, title phrases)
    "general_defence_cooperation": (25, ["Agreement on Defence Cooperation",
                                         "Memorandum of Understanding on Defence Cooperation",
                                         "Framework Agreement on Cooperation in the Field of Defence"]),
    "military_technical_cooperation": (15, ["Agreement on Military-Technical Cooperation",
                                            "Protocol on Defence Industrial Cooperation"]),
    "status_of_forces": (6, ["Status of Forces Agreement", "Agreement on the Status of Visiting Forces"]),
    "logistics_access": (7, ["Logistics Support Agreement", "Agreement on Access to Facilities"]),
    "reciprocal_access": (3, ["Reciprocal Access Agreement"]),
    "information_security": (10, ["Agreement on the Protection of Classified Information",
                                  "Security of Information Agreement"]),
    "procurement": (12, ["Government-to-Government Procurement Agreement",
                         "Agreement on the Supply of Defence Equipment"]),
    "training_education": (10, ["Agreement on Military Training and Education",
                                "Memorandum of Understanding on Officer Training"]),
    "mutual_defence": (2, ["Treaty of Mutual Defence", "Mutual Assistance Pact"]),
    "strategic_partnership": (7, ["Strategic Partnership Declaration",
                                  "Joint Statement on Comprehensive Strategic Partnership"]),
    "other": (3, ["Arrangement on Defence Matters", "Letter of Intent on Security Cooperation"]),
}

EQUIPMENT_CATEGORIES = {  # code: (weight, designation prefix)
    "helicopter": (12, "SH"), "combat_aircraft": (10, "SF"), "transport_aircraft": (7, "ST"),
    "unmanned_aircraft": (9, "SU"), "air_defence_system": (8, "SA"), "missile": (10, "SM"),
    "naval_vessel": (9, "SN"), "submarine": (3, "SS"), "armoured_vehicle": (11, "SV"),
    "artillery": (6, "SG"), "small_arms": (6, "SR"), "radar_sensor": (5, "SD"),
    "engine": (2, "SE"), "other": (2, "SX"),
}
EQUIPMENT_STATUSES = {"mentioned": 25, "politically_approved": 10, "under_negotiation": 12,
                      "contracted": 20, "in_delivery": 10, "delivered": 18, "cancelled": 5}
SOURCE_TYPES = {"official": 30, "treaty_text": 8, "news": 45, "analysis": 12, "database": 5}
ENDED_STATUSES = ["expired", "terminated", "superseded"]

# Word lists: deliberately invented words so nothing reads as a real person or place.
SYLLABLES = ["ar", "bel", "cor", "dan", "el", "fen", "gor", "hal", "ist", "jor", "kel", "lun",
             "mar", "nor", "ost", "pel", "quin", "ros", "sal", "tor", "ul", "ven", "wen", "zar"]
SIGNATORY_TITLES = ["Minister of Defence", "Deputy Minister of Defence", "Chief of Defence Staff",
                    "Minister of Foreign Affairs", "Ambassador", "Head of State",
                    "Director of Defence Cooperation"]
# The legal form of an instrument, with rough weights (most are agreements or MoUs).
INSTRUMENTS = {"agreement": 45, "memorandum_of_understanding": 25, "treaty": 6, "arrangement": 6, "contract": 8,
               "exchange_of_notes": 2, "joint_statement": 3, "roadmap": 2, "letter_of_intent": 2, "other": 1}
PUBLISHERS = ["Synthetic Defence Ministry", "Synthetic Gazette", "Synthetic Press Agency",
              "Synthetic Institute for Strategic Studies", "Synthetic Treaty Register",
              "Synthetic Arms Database"]
SUPPORTS = ["date", "parties", "venue", "signatories", "status", "equipment", "type"]
SUMMARY_VERBS = ["sets out", "establishes", "provides for", "commits the parties to", "extends",
                 "formalises", "renews"]
SUMMARY_OBJECTS = ["joint exercises", "officer exchanges", "staff talks", "exchange of liaison officers",
                   "maintenance of equipment", "co-production of spare parts", "cyber defence dialogue",
                   "maritime security patrols", "peacekeeping training", "search and rescue cooperation",
                   "military medicine", "hydrographic surveys", "a joint working group",
                   "protection of classified information", "port calls", "counter-terrorism training"]
SUMMARY_TAILS = ["The text was not published.", "It runs for five years and renews automatically.",
                 "Implementation is reviewed annually by a joint committee.",
                 "It replaces an earlier memorandum.", "Details were reported only in outline.",
                 "Each party bears its own costs."]
NOTES = ["Synthetic note: sources disagree on the venue.",
         "Synthetic note: the signing date is given differently by two sources.",
         "Synthetic note: the text is not public.",
         "Synthetic note: the status is inferred from a later statement."]


class Weighted:
    """Weighted choice via cumulative weights and bisect.

    random.choices rebuilds its cumulative table on every call unless given one, and
    even then pays for argument handling; a prebuilt table and one bisect keep the
    hot loop cheap at 10^5-10^6 draws.
    """

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect_right(self.cum, rng.random() * self.total)]


def load_countries(path: Path) -> tuple[list[str], dict[str, str]]:
    """ISO3 codes with a COW code (the states the project covers) and their names."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["cow_code"]]
    return [r["iso3"] for r in rows], {r["iso3"]: r["name"] for r in rows}


def iso(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


def period(year: int, month: int | None = None) -> tuple[int, int]:
    """First and last day (ordinals) of a year or a month."""
    if month is None:
        return date(year, 1, 1).toordinal(), date(year, 12, 31).toordinal()
    return date(year, month, 1).toordinal(), date(year, month, calendar.monthrange(year, month)[1]).toordinal()


def maybe_truncate(rng: random.Random, day: int, lo: int, hi: int, p_month: float) -> tuple[str, int]:
    """Write a date as YYYY-MM-DD or, sometimes, YYYY-MM.

    A truncated date stands for its whole month, so it is only used when the whole
    month lies within [lo, hi]: then every ordering rule (entry >= signed, end >=
    entry, <= status_as_of) holds however a checker compares partial dates.
    Returns the text and the last day it may stand for, the bound for the next date.
    """
    d = date.fromordinal(day)
    if rng.random() < p_month:
        m_lo, m_hi = period(d.year, d.month)
        if m_lo >= lo and m_hi <= hi:
            return f"{d.year:04d}-{d.month:02d}", m_hi
    return d.isoformat(), day


def generate(n: int, seed: int, countries_csv: Path) -> dict[str, list[list]]:
    rng = random.Random(seed)
    # Draws added after the generator's first version (instrument, second origins,
    # reprints) come from their own stream, so a seed still gives the same ids,
    # parties and dates as before.
    extra = random.Random(seed + 1_000_003)
    pick_instrument = Weighted(list(INSTRUMENTS), INSTRUMENTS.values())
    codes, names = load_countries(countries_csv)
    rest = [c for c in codes if c not in TOP]
    rng.shuffle(rest)
    ranked = [c for c in TOP if c in names] + rest
    rank = {c: i for i, c in enumerate(ranked)}
    pick_country = Weighted(ranked, [1.0 / (i + ZIPF_OFFSET) ** ZIPF_EXPONENT for i in range(len(ranked))])
    # Each state gets a few fixed invented city names so venues repeat plausibly.
    cities = {c: [(rng.choice(SYLLABLES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)).capitalize()
                  for _ in range(3)] for c in ranked}

    years = list(range(FIRST_YEAR, LAST_YEAR + 1))
    pick_year = Weighted(years, [math.exp((y - FIRST_YEAR) / YEAR_SCALE) for y in years])
    pick_type = Weighted(AGREEMENT_TYPES, [w for w, _ in AGREEMENT_TYPES.values()])
    pick_category = Weighted(EQUIPMENT_CATEGORIES, [w for w, _ in EQUIPMENT_CATEGORIES.values()])
    pick_eq_status = Weighted(EQUIPMENT_STATUSES, EQUIPMENT_STATUSES.values())
    pick_source_type = Weighted(SOURCE_TYPES, SOURCE_TYPES.values())
    pick_n_parties = Weighted([2, 3, 4, 5, 6, 7, 8], [85, 12, 1.0, 0.7, 0.5, 0.45, 0.35])
    pick_n_sources = Weighted([1, 2, 3], [50, 35, 15])
    # Mean 0.30 + 2*0.20 + 3*0.15 = 1.15 items per agreement.
    pick_n_equipment = Weighted([0, 1, 2, 3], [35, 30, 20, 15])
    type_codes = list(AGREEMENT_TYPES)

    # base id -> agreement types already used with those parties and that date. The
    # project forbids two agreements with the same parties, date and type, and the
    # n-th agreement sharing a base id gets the suffix letter 'a' + n ('-b', '-c', ...).
    used: dict[str, list[str]] = {}
    tables: dict[str, list[list]] = {k: [] for k in FIELDS}
    url_counter = itertools.count(1)

    for _ in range(n):
        # --- parties, date and id; retry in the (rare) case all types are taken.
        while True:
            k = pick_n_parties(rng)
            parties: list[str] = []
            while len(parties) < k:
                c = pick_country(rng)
                if c not in parties:
                    parties.append(c)
            parties.sort()
            year = pick_year(rng)
            month = rng.randint(1, 12)
            r = rng.random()
            if r < 0.80:
                day = rng.randint(1, calendar.monthrange(year, month)[1])
                signed_on, precision = f"{year:04d}-{month:02d}-{day:02d}", "day"
                s_lo = s_hi = date(year, month, day).toordinal()
            elif r < 0.95:
                signed_on, precision = f"{year:04d}-{month:02d}", "month"
                s_lo, s_hi = period(year, month)
            else:
                signed_on, precision = f"{year:04d}", "year"
                s_lo, s_hi = period(year)
            base = "-".join(p.lower() for p in parties) + "-" + signed_on
            taken = used.setdefault(base, [])
            if len(taken) < len(type_codes):
                break
        atype = pick_type(rng)
        if atype in taken:
            atype = rng.choice([t for t in type_codes if t not in taken])
        aid = base if not taken else f"{base}-{chr(ord('a') + len(taken))}"
        taken.append(atype)

        # --- status and its dates. An entry-into-force date exists exactly when the
        # history passes through in_force, so columns and history agree: all in_force
        # and suspended agreements (34%) and 60% of the ended ones (10%), which gives
        # the ~40% with an entry date seen in real data.
        r = rng.random()
        if r < 0.10:
            status = rng.choice(ENDED_STATUSES)
            has_entry, has_end = rng.random() < 0.6, True
        elif r < 0.44:
            status = "in_force" if rng.random() < 0.9 else "suspended"
            has_entry, has_end = True, False
        else:
            status = "signed" if rng.random() < 0.75 else "ratified"
            has_entry = has_end = False
        # Later steps need room after signing, so agreements with more of them are
        # observed for longer; everything stays on or before the cap.
        steps = 1 + has_entry + has_end + (status in ("ratified", "suspended"))
        as_of = min(CAP, s_hi + int(rng.expovariate(1.0 / (200 * steps))))

        # chain: (status_on text, last day it stands for, agreement_status)
        chain = [(signed_on, s_hi, "signed")]
        entry_on = end_on = ""
        lo = s_hi
        if has_entry:
            entry_on, lo = maybe_truncate(rng, rng.randint(lo, as_of), lo, as_of, 0.1)
            chain.append((entry_on, lo, "in_force"))
        if status == "ratified":
            d = rng.randint(lo, as_of)
            chain.append((iso(d), d, "ratified"))
        elif status == "suspended":
            d = rng.randint(lo, as_of)
            chain.append((iso(d), d, "suspended"))
        if has_end:
            end_on, lo = maybe_truncate(rng, rng.randint(lo, as_of), lo, as_of, 0.1)
            chain.append((end_on, lo, status))

        # --- sources: sorted by publication so that s1 is the earliest and the last
        # one is published on status_as_of (status_as_of is "the date of the latest
        # source"). Steps then cite the first source published on or after them.
        n_src = pick_n_sources(rng)
        pub_days = sorted([rng.randint(s_hi, as_of) for _ in range(n_src - 1)] + [as_of])
        source_ids = []
        for i, d in enumerate(pub_days, 1):
            sid = f"{aid}-s{i}"
            source_ids.append(sid)
            num = next(url_counter)
            stype = pick_source_type(rng)
            tables["sources"].append([
                sid, aid, f"https://example.org/synthetic/{num}", "",
                f"Synthetic source {num} on {'-'.join(parties)} defence cooperation",
                rng.choice(PUBLISHERS),
                "" if rng.random() < 0.5 else f"{rng.choice(SYLLABLES).capitalize()} Synthauthor",
                iso(d), stype, ", ".join(sorted(rng.sample(SUPPORTS, rng.randint(1, 3)), key=SUPPORTS.index)),
            ])

        # Every agreement has at least two independent origins (distinct publishers),
        # and some cite a reprint of their first source as well.
        first = len(tables["sources"]) - n_src
        seen: set[str] = set()
        for row in tables["sources"][first:]:
            if row[5] in seen:
                row[5] = extra.choice([p for p in PUBLISHERS if p not in seen])
            seen.add(row[5])
            row.append("")
        n_more = (1 if n_src == 1 else 0) + (1 if extra.random() < 0.1 else 0)
        for j in range(n_more):
            i = n_src + j + 1
            num = next(url_counter)
            reprint = j == n_more - 1 and (n_src > 1 or n_more == 2)
            publisher = extra.choice([p for p in PUBLISHERS if p not in seen])
            seen.add(publisher)
            tables["sources"].append([
                f"{aid}-s{i}", aid, f"https://example.org/synthetic/{num}", "",
                f"Synthetic source {num} on {'-'.join(parties)} defence cooperation", publisher, "",
                iso(extra.randint(s_hi, as_of)), "news", "date", f"{aid}-s1" if reprint else "",
            ])

        def source_for(day: int) -> str:
            return source_ids[bisect.bisect_left(pub_days, day)]

        # --- parties
        for p in parties:
            named = rng.random() < 0.7
            tables["parties"].append([
                aid, p,
                f"{rng.choice(SYLLABLES).capitalize()}{rng.choice(SYLLABLES)} Synthname" if named else "",
                rng.choice(SIGNATORY_TITLES) if named or rng.random() < 0.3 else "",
            ])

        # --- equipment: the best-ranked party (the big exporter) usually supplies.
        items = []
        by_rank = sorted(parties, key=rank.__getitem__)
        for e in range(1, pick_n_equipment(rng) + 1):
            supplier = by_rank[0] if rng.random() < 0.8 else rng.choice(parties)
            recipient = rng.choice([p for p in parties if p != supplier])
            category = pick_category(rng)
            eq_status = pick_eq_status(rng)
            eid = f"{aid}-e{e}"
            designation = f"{EQUIPMENT_CATEGORIES[category][1]}-{rng.randint(1, 999)}"
            items.append((eid, designation, eq_status))
            tables["equipment"].append([
                eid, aid, designation, category, supplier, recipient,
                "" if rng.random() < 0.4 else min(200, 1 + int(rng.expovariate(1 / 20))),
                eq_status, "",
                "Synthetic note: price not disclosed." if rng.random() < 0.1 else "",
                rng.choice(source_ids),
                # condition and deal value (from the second generator, so the rows above stay
                # as they were): most items have neither, as in the real data
                extra.choice(["new", "used", "upgraded"]) if extra.random() < 0.3 else "",
                *((extra.randint(1, 500) * 1_000_000, extra.choice(["USD", "EUR", "RUB", "INR"]), year)
                  if extra.random() < 0.2 else ("", "", "")),
            ])

        # --- status history: the agreement's chain (its last step gives the current
        # status), then equipment steps while there is room for at most three rows.
        # Steps are numbered in date order; the stable sort keeps agreement steps
        # ahead of equipment steps on the same day.
        hist = [(last, text, "", st, "", f"Synthetic step: agreement {st.replace('_', ' ')}.")
                for text, last, st in chain]
        for eid, designation, eq_status in items:
            if len(hist) >= 3 or rng.random() < 0.5:
                continue
            d = rng.randint(s_hi, as_of)
            hist.append((d, iso(d), eid, "", eq_status,
                         f"Synthetic step: {designation} {eq_status.replace('_', ' ')}."))
        hist.sort(key=lambda h: h[0])
        for i, (last, text, eid, ast, est, desc) in enumerate(hist, 1):
            tables["status_history"].append([f"{aid}-h{i}", aid, eid, text, ast, est, desc, source_for(last)])

        # --- the agreement row itself
        venue_iso = rng.choice(parties) if rng.random() < 0.75 else ""
        phrase = rng.choice(AGREEMENT_TYPES[atype][1])
        if k <= 3:
            between = " and ".join([", ".join(names[p] for p in parties[:-1]), names[parties[-1]]])
            title = f"Synthetic {phrase} between {between}"
        else:
            title = f"Synthetic {phrase} among {k} States"
        objs = rng.sample(SUMMARY_OBJECTS, 3)
        summary = (f"Synthetic record. The agreement {rng.choice(SUMMARY_VERBS)} {objs[0]}, {objs[1]} "
                   f"and {objs[2]} between the parties, with a joint committee to oversee the work. "
                   f"{rng.choice(SUMMARY_TAILS)}")
        tables["agreements"].append([
            aid, title[:300], atype, pick_instrument(extra), signed_on, precision,
            rng.choice(cities[venue_iso]) if venue_iso else "", venue_iso,
            status, iso(as_of), entry_on, end_on, summary,
            rng.choice(NOTES) if rng.random() < 0.15 else "",
        ])

    # Each table is sorted by its own primary key as a plain string sort. Sorting the
    # children by agreement first would not do: "x-2016-s1" sorts after
    # "x-2016-01-s1" although "x-2016" sorts before "x-2016-01".
    for name, rows in tables.items():
        if name == "parties":
            rows.sort(key=lambda r: (r[0], r[1]))
        else:
            rows.sort(key=lambda r: r[0])
    return tables


def write_package(out: Path, tables: dict[str, list[list]]) -> None:
    (out / "dataset").mkdir(parents=True, exist_ok=True)
    (out / "schema").mkdir(parents=True, exist_ok=True)
    # The descriptor's resource paths and schema references are relative, so the
    # real descriptor, schemas and country table work unchanged next to the data.
    shutil.copyfile(REPO / "datapackage.json", out / "datapackage.json")
    for schema in sorted((REPO / "schema").glob("*.json")):
        shutil.copyfile(schema, out / "schema" / schema.name)
    shutil.copyfile(REPO / "dataset" / "countries.csv", out / "dataset" / "countries.csv")
    for name, rows in tables.items():
        with (out / "dataset" / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(FIELDS[name])
            w.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, required=True, help="number of agreements")
    ap.add_argument("--out", type=Path, required=True, help="output directory (created if missing)")
    ap.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("--n must be at least 1")
    # Fail early rather than ship a package whose descriptor lists fields we do not write.
    for name, fields in FIELDS.items():
        schema = json.loads((REPO / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))
        if [f["name"] for f in schema["fields"]] != fields:
            sys.exit(f"schema/{name}.schema.json fields changed; update FIELDS in {Path(__file__).name}")
    t0 = time.perf_counter()
    tables = generate(args.n, args.seed, REPO / "dataset" / "countries.csv")
    write_package(args.out, tables)
    counts = ", ".join(f"{name} {len(rows)}" for name, rows in tables.items())
    print(f"wrote {args.out}: {counts} rows in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

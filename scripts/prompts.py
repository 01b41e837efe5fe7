"""The questions `dca add` asks when no record file is given.

They build the same record a YAML file would (see scripts.record), field by field
from the schema: each question uses the field's title and says what form to type;
a vocabulary is shown as numbered codes with their definitions; a country can be
typed as a name or a code, and a name several countries share is asked back. A
bad answer is explained and asked again, so what reaches validation is at least
well-formed. Countries are stored as ISO3 codes, so the record needs no further
resolving.
"""
from __future__ import annotations

import datetime as dt
import re

import typer

from schema.tableschema import Field, Package

from . import fieldcheck
from .country_names import CountryIndex
from .findings import suggest
from .record import RecordField, new_agreement_id, record_fields


def _first_sentence(text: str) -> str:
    """The first sentence of a field's description, as a one-line help above its question."""
    text = text.split(" Codes:")[0].strip()
    guarded = text.replace("e.g.", "e\x00g\x00").replace("i.e.", "i\x00e\x00")
    m = re.match(r"(.+?[.;])(?=\s|$)", guarded)
    first = (m.group(1) if m else guarded).replace("\x00", ".")
    return first[:-1] + "." if first.endswith(";") else (first if first.endswith(".") else first + ".")


def _lower_first(title: str) -> str:
    """'Signing date' -> 'signing date', but 'URL' stays 'URL'."""
    return title[0].lower() + title[1:] if len(title) > 1 and not title[1].isupper() else title


def _ask(label: str) -> str:
    return typer.prompt(label, default="", show_default=False).strip()


class Asker:
    def __init__(self, pkg: Package, countries: CountryIndex, existing_ids: set[str], today: dt.date | None = None):
        self.pkg = pkg
        self.countries = countries
        self.existing_ids = existing_ids
        self.today = today

    # --- one answer -----------------------------------------------------------------

    def label(self, f: Field, prefix: str, required: bool | None = None) -> str:
        required = f.required if required is None else required
        hint = "name or code" if f.name.endswith("iso3") else fieldcheck.format_hint(f)
        label = f"{prefix} {_lower_first(f.title)}" if prefix else f.title
        if hint:
            label += f" ({hint})"
        if not required:
            # a source without an address is not optional: it needs a full reference instead
            label += " [Enter if it has none; a full reference is asked next]" if f.name == "url" else " [optional, Enter to skip]"
        return label

    def value(self, f: Field, prefix: str = "", help: bool = True, required: bool | None = None) -> str:
        """Ask until the answer fits the field (or is empty for an optional one)."""
        required = f.required if required is None else required
        if f.enum:
            return self.choice(f, prefix, help, required)
        if help and f.description:
            typer.echo(typer.style(f"  {_first_sentence(f.description)}", dim=True))
        while True:
            v = _ask(self.label(f, prefix, required))
            if not v and required:
                typer.echo(f"  {f.title} is required; fill it in.")
                continue
            err = fieldcheck.check(f, v, self.today) if v else None
            if not err:
                return v
            typer.echo(f"  {err}")

    def choice(self, f: Field, prefix: str, help: bool, required: bool) -> str:
        """A vocabulary, shown as numbered codes with their definitions; number or code accepted."""
        codes = f.enum or []
        defs = f.definitions()
        if help:
            typer.echo(f"{f.title}: {_first_sentence(f.description)}" if f.description else f"{f.title}:")
            for i, code in enumerate(codes, start=1):
                typer.echo(f"  {i:>2}. {code}" + (f" - {defs[code]}" if code in defs else ""))
        label = self.label(f, prefix, required).replace(" [optional", " (number or code) [optional", 1)
        if required:
            label += " (number or code)"
        while True:
            v = _ask(label)
            if not v:
                if not required:
                    return ""
                typer.echo(f"  {f.title} is required; type one of the numbers 1-{len(codes)} or a code.")
                continue
            if v.isdigit() and 1 <= int(v) <= len(codes):
                return codes[int(v) - 1]
            code = v.lower().replace(" ", "_").replace("-", "_")
            if code in codes:
                return code
            hint = suggest(v, codes)
            typer.echo(f"  '{v}' is not one of the choices; type its number (1-{len(codes)}) or its code"
                       + (f"; did you mean '{hint}'?" if hint else ""))

    def country(self, label: str, required: bool) -> str:
        """A country by name or code; an ambiguous name is asked back, an unknown one explained."""
        while True:
            v = _ask(label)
            if not v:
                if required:
                    typer.echo("  A country is required here; type its English name or ISO code (e.g. Russia or RUS).")
                    continue
                return ""
            r = self.countries.resolve(v)
            if r.iso3:
                typer.echo(f"  -> {self.countries.get(r.iso3).label()}")  # type: ignore[union-attr]
                return r.iso3
            if not r.ambiguous:
                typer.echo(f"  {r.error()}")
                continue
            typer.echo(f"  '{v}' could be several countries:")
            for i, c in enumerate(r.candidates, start=1):
                typer.echo(f"    {i}. {c.label()}")
            while True:
                w = _ask("  Which one? (number, or Enter to type another name)")
                if not w:
                    break
                if w.isdigit() and 1 <= int(w) <= len(r.candidates):
                    chosen = r.candidates[int(w) - 1]
                    typer.echo(f"  -> {chosen.label()}")
                    return chosen.iso3
                typer.echo(f"  Type one of the numbers 1-{len(r.candidates)}.")

    def reference(self, noun: str, items: list[dict], title_key: str, required: bool) -> str:
        """Which of this record's sources (or equipment items) a row refers to, by number."""
        if not items:
            return ""
        if len(items) == 1 and required:
            typer.echo(f"  ({noun} 1: {items[0].get(title_key) or ''})")
            return "1"
        for i, it in enumerate(items, start=1):
            typer.echo(f"    {i}. {it.get(title_key) or ''}")
        label = ("Which source supports it? (number)" if noun == "source" else
                 f"Which {noun} does it concern? (number{'' if required else ', or Enter for none'})")
        while True:
            w = _ask(label)
            if not w and not required:
                return ""
            if w.isdigit() and 1 <= int(w) <= len(items):
                return w
            typer.echo(f"  Type one of the numbers 1-{len(items)}.")

    def reprint(self, earlier: list[dict]) -> str:
        """Which earlier source this one copies, if any: a copy is not a second origin."""
        if not earlier:
            return ""
        typer.echo("  Is this a reprint or copy of one of the sources above (the same wire story or press release)?")
        for i, it in enumerate(earlier, start=1):
            typer.echo(f"    {i}. {it.get('title') or ''}")
        while True:
            w = _ask("The number of the source it copies, or Enter if it is an independent origin")
            if not w:
                return ""
            if w.isdigit() and 1 <= int(w) <= len(earlier):
                return w
            typer.echo(f"  Type one of the numbers 1-{len(earlier)}, or press Enter.")

    # --- the whole record -------------------------------------------------------------

    def section(self, title: str) -> None:
        typer.echo("")
        typer.echo(typer.style(title, bold=True))

    def fields(self, rfs: list[RecordField], prefix: str, help: bool, record: dict) -> dict:
        item: dict = {}
        for rf in rfs:
            if rf.kind == "country":
                item[rf.key] = self.country(self.label(rf.field, prefix), rf.field.required)
            elif rf.kind == "source" and rf.key != "source":
                item[rf.key] = self.reprint(record["sources"])
            elif rf.kind == "source":
                item[rf.key] = self.reference("source", record["sources"], "title", rf.field.required)
            elif rf.kind == "equipment":
                if record["equipment"]:
                    typer.echo(f"  Does this step concern one of the equipment items (Enter if it concerns the agreement itself)?")
                item[rf.key] = self.reference("equipment item", record["equipment"], "designation", rf.field.required)
            elif rf.key == "citation" and "url" in item:
                # Without an address, the full reference is what lets a reader find the source.
                item[rf.key] = self.value(rf.field, prefix, help, required=not item["url"])
            elif rf.key == "agreement_status" and "equipment" in item:
                item[rf.key] = "" if item["equipment"] else self.value(rf.field, prefix, help, required=True)
            elif rf.key == "equipment_status" and "equipment" in item:
                item[rf.key] = self.value(rf.field, prefix, help, required=True) if item["equipment"] else ""
            else:
                item[rf.key] = self.value(rf.field, prefix, help)
        return item

    def record(self) -> dict:
        pkg = self.pkg
        record: dict = {"agreement": {}, "parties": [], "sources": [], "equipment": [], "status_history": []}
        typer.echo("Adding an agreement. Answer each question and press Enter; optional ones can be left empty.")
        typer.echo("Nothing is written until you confirm at the end (Ctrl+C stops at any time).")

        self.section("The agreement")
        record["agreement"] = self.fields(record_fields(pkg, "agreements"), "", True, record)

        self.section("Parties: the states that are party to it (at least two)")
        party_fields = [rf for rf in record_fields(pkg, "parties") if rf.kind != "country"]
        country_field = next(rf for rf in record_fields(pkg, "parties") if rf.kind == "country")
        codes: list[str] = []
        while True:
            n = len(codes) + 1
            required = n <= 2
            label = f"Party {n}: country (name or code, e.g. Russia or RUS)" + ("" if required else " [Enter if there are no more]")
            code = self.country(label, required)
            if not code:
                break
            if code in codes:
                typer.echo(f"  {code} is already a party.")
                continue
            codes.append(code)
            party = {country_field.key: code}
            party.update(self.fields(party_fields, f"Party {n}", n == 1, record))
            record["parties"].append(party)
        aid = new_agreement_id(codes, record["agreement"].get("signed_on", ""), self.existing_ids)
        typer.echo("")
        typer.echo(f"The agreement's id will be: {typer.style(aid, bold=True)}")

        self.section("Sources: what supports this record (at least two independent origins)")
        typer.echo("  A source is the agreement's text, an official statement, a news report, an analysis or a")
        typer.echo("  reference database. Give its web address, or a full bibliographic reference when it has none.")
        typer.echo("  Two origins means two publishers, neither copying the other's story or press release.")
        source_fields = record_fields(pkg, "sources")
        while True:
            n = len(record["sources"]) + 1
            record["sources"].append(self.fields(source_fields, f"Source {n}", n == 1, record))
            if not typer.confirm("Add another source?", default=False):
                break

        self.section("Equipment named in connection with the agreement (optional)")
        equipment_fields = record_fields(pkg, "equipment")
        while typer.confirm("Add an equipment item?" if not record["equipment"] else "Add another equipment item?", default=False):
            n = len(record["equipment"]) + 1
            record["equipment"].append(self.fields(equipment_fields, f"Item {n}", n == 1, record))

        self.section("Status history: dated steps such as signature, ratification, delivery (optional)")
        step_fields = record_fields(pkg, "status_history")
        while typer.confirm("Add a status step?" if not record["status_history"] else "Add another status step?", default=False):
            n = len(record["status_history"]) + 1
            record["status_history"].append(self.fields(step_fields, f"Step {n}", n == 1, record))
        self.review(record)
        return record

    # --- going back -------------------------------------------------------------------

    def _answers(self, record: dict) -> list[tuple[str, dict, RecordField]]:
        """Every answer of the record, in the order asked, as (label, the item holding it, field)."""
        out = []
        for rf in record_fields(self.pkg, "agreements"):
            if rf.key in record["agreement"]:
                out.append((f"Agreement: {_lower_first(rf.field.title)}", record["agreement"], rf))
        for section, resource, noun in (("parties", "parties", "Party"), ("sources", "sources", "Source"),
                                        ("equipment", "equipment", "Item"), ("status_history", "status_history", "Step")):
            for n, item in enumerate(record[section], start=1):
                for rf in record_fields(self.pkg, resource):
                    if rf.key in item:
                        out.append((f"{noun} {n}: {_lower_first(rf.field.title)}", item, rf))
        return out

    def review(self, record: dict) -> None:
        """The answers, numbered, with a chance to correct any of them before anything is checked
        or written (a typo need not mean starting again)."""
        while True:
            answers = self._answers(record)
            self.section("Your answers")
            for i, (label, item, _rf) in enumerate(answers, start=1):
                typer.echo(f"  {i:>2}. {label}: {item[_rf.key] or '(empty)'}")
            w = _ask("To correct an answer type its number; press Enter if they are right")
            if not w:
                return
            if not (w.isdigit() and 1 <= int(w) <= len(answers)):
                typer.echo(f"  Type one of the numbers 1-{len(answers)}, or press Enter.")
                continue
            label, item, rf = answers[int(w) - 1]
            prefix = label.split(":")[0] if not label.startswith("Agreement") else ""
            if rf.kind == "country":
                item[rf.key] = self.country(self.label(rf.field, prefix), rf.field.required)
            elif rf.kind == "source" and rf.key != "source":
                item[rf.key] = self.reprint([s for s in record["sources"] if s is not item][: record["sources"].index(item)]
                                            if item in record["sources"] else [])
            elif rf.kind == "source":
                item[rf.key] = self.reference("source", record["sources"], "title", rf.field.required)
            elif rf.kind == "equipment":
                item[rf.key] = self.reference("equipment item", record["equipment"], "designation", rf.field.required)
            else:
                item[rf.key] = self.value(rf.field, prefix, False)

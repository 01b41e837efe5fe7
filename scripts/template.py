"""`dca add --template`: an annotated record file to fill in, written from the schema.

Every key, its title, whether it is required, what it means and its vocabulary
(each code with its definition) come from schema/*.schema.json, so the template
can never list a code the validator would refuse. The output is itself a valid
record file: untouched items are ignored, filled ones become rows.
"""
from __future__ import annotations

import re
import textwrap

from schema.tableschema import Package

from . import fieldcheck
from .record import SECTIONS, RecordField, record_fields

WIDTH = 92

HEADER = """\
# A defence cooperation agreement for `dca add --from FILE` (YAML; JSON with the same keys works too).
#
# Fill in the values after the colons. Leave a value empty when no source gives it: never guess.
# Put a value in double quotes when it contains ": " or " #", or starts with a quote, [, {, *, & or !.
# Countries: an English name or an ISO 3166-1 code (Russia, RUS or RU); codes are in dataset/countries.csv.
# Dates: YYYY-MM-DD, or YYYY-MM / YYYY when only the month or the year is known.
# Ids (of the agreement, its sources, equipment and status steps) are generated: do not write them.
# Items left completely empty are ignored; add more items by copying one, starting with "- ".
"""

INTRO = {
    "agreement": "The agreement itself.",
    "parties": "The states party to the agreement: at least two, one item each.",
    "sources": "What supports the record: at least two independent origins, that is sources from different "
               "publishers, neither copying the other's wire story or press release. A source is the agreement's "
               "text, an official statement, a news report, an analysis or a reference database; give its address "
               "(url), or when it has none a full bibliographic reference (citation). A copy of another source in "
               "this list may be cited too, with reprint_of giving that source's number.",
    "equipment": "Equipment named in connection with the agreement (optional): one item per designation.",
    "status_history": "Dated steps in the life of the agreement or of an equipment item (optional): "
                      "give agreement_status for a step of the agreement, or equipment and equipment_status "
                      "for a step of an equipment item.",
}


def _comment(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# ",
                         break_on_hyphens=False) or [f"{indent}#"]


def _field_comment(rf: RecordField, indent: str) -> list[str]:
    f = rf.field
    need = "required" if f.required else "optional"
    if rf.kind == "source" and rf.key != "source":
        return _comment(f"{f.title} ({need}): when this source reprints or copies another source in this list "
                        "(the same wire story or press release), that source's number (1 = the first); empty "
                        "for an independent origin.", indent)
    if rf.kind == "source":
        return _comment(f"{f.title} ({need}): the number of the source in this record's list of sources that "
                        "supports it (1 = the first); may stay empty when there is only one source.", indent)
    if rf.kind == "equipment":
        return _comment(f"{f.title} ({need}): for a step of an equipment item, the number of the item in this "
                        "record's equipment list (1 = the first); empty for a step of the agreement itself.", indent)
    desc = f.description
    defs = f.definitions()
    if defs:
        desc = desc.split(" Codes:")[0]
    if rf.kind == "country":
        desc = re.sub(r"\s*\(countries\.iso3\)", "", desc)
        desc = desc.replace("ISO3 code of", "Country name or ISO code of").replace("ISO3 code", "country name or ISO code")
    hint = fieldcheck.format_hint(f)
    lines = _comment(f"{f.title} ({need}{'; ' + hint if hint else ''}). {desc}", indent)
    if f.enum and (defs or not all(f"`{c}`" in desc for c in f.enum)):
        lines.append(f"{indent}# One of:")
        for code in f.enum:
            d = defs.get(code)
            lines.extend(textwrap.wrap(f"{code}{': ' + d if d else ''}", WIDTH, initial_indent=f"{indent}#   ",
                                       subsequent_indent=f"{indent}#       ", break_on_hyphens=False))
    return lines


def _item(fields: list[RecordField], indent: str, annotate: bool) -> list[str]:
    """One list item (or the agreement mapping) with every key empty."""
    out = []
    for rf in fields:
        if annotate:
            out.extend(_field_comment(rf, indent))
        out.append(f"{indent}{rf.key}:")
    return out


def template(pkg: Package) -> str:
    out = [HEADER]
    for key, resource, _ in SECTIONS:
        fields = record_fields(pkg, resource)
        out.extend(_comment(INTRO.get(key, ""), ""))
        out.append(f"{key}:")
        if key == "agreement":
            out.extend(_item(fields, "  ", True))
        else:
            copies = 2 if key in ("parties", "sources") else 1
            for n in range(copies):
                lines = _item(fields, "    ", n == 0)
                out.append("  -" + (" # item 1" if copies > 1 and n == 0 else f" # item {n + 1}" if copies > 1 else ""))
                out.extend(lines)
        out.append("")
    return "\n".join(out).rstrip() + "\n"

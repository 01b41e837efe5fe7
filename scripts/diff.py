"""`dca diff`: what changed in the dataset since a git revision, for a reviewer.

Rows are matched by primary key in every table, so reordering or reformatting
(`dca fmt`) shows as no change, and cells are compared trimmed. The working tree
is compared, uncommitted edits included. Changes are grouped by agreement: a
reviewer reads "pak-rus-2014-11-20: status signed → in_force" and the sources
added to it, not a line diff of five CSV files. Markdown for a pull-request
comment or job summary; JSON with every old and new value for machines.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from schema.tableschema import DescriptorError, Resource, load_package

from .canonical import WHITESPACE
from .gitrev import GitError, resolve_base, show

csv.field_size_limit(16 * 1024 * 1024)

NOUN = {"agreements": "agreement", "parties": "party", "sources": "source", "equipment": "equipment item",
        "status_history": "status step", "countries": "country"}
PLURAL = {"agreements": "agreements", "parties": "parties", "sources": "sources", "equipment": "equipment items",
          "status_history": "status steps", "countries": "countries"}
# Fields that say what a row is, for a reviewer (the first present ones are shown).
DESCRIBE = ["title", "designation", "status_on", "description", "name", "url", "citation"]
MAX_VALUE = 160


class DiffError(Exception):
    pass


@dataclass
class RowChange:
    resource: str
    key: dict[str, str]
    change: str  # added | removed | changed
    old: dict[str, str] | None = None
    new: dict[str, str] | None = None
    fields: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def row(self) -> dict[str, str]:
        return self.new if self.new is not None else (self.old or {})

    @property
    def agreement_id(self) -> str | None:
        if self.resource == "agreements":
            return next(iter(self.key.values()), None)
        return self.row.get("agreement_id") or (self.old or {}).get("agreement_id")


@dataclass
class DiffResult:
    base_rev: str
    base_commit: str
    merge_base: bool  # base_commit is the merge base of HEAD with base_rev
    changes: list[RowChange]
    titles: dict[str, str] = field(default_factory=dict)  # agreement_id -> title, now or else before
    target: str = "working tree"

    def since(self) -> str:
        where = f"the merge base with {self.base_rev}" if self.merge_base else f"`{self.base_rev}`"
        return f"{where} (`{self.base_commit[:10]}`)"


def read_rows(data: bytes | None, resource: Resource) -> dict[tuple, dict[str, str]]:
    """Rows by primary key, leniently (a file in the middle of an edit still compares)."""
    if not data:
        return {}
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip(WHITESPACE) for h in next(reader, [])]
    pk = resource.primary_key or header[:1]
    rows: dict[tuple, dict[str, str]] = {}
    for cells in reader:
        if not cells or all(c.strip(WHITESPACE) == "" for c in cells):
            continue
        row = {h: (cells[i].replace("\r\n", "\n").strip(WHITESPACE) if i < len(cells) else "") for i, h in enumerate(header) if h}
        key = tuple(row.get(k, "") for k in pk)
        n = 2
        base = key
        while key in rows:  # a repeated key stays a row of its own
            key = base + (f"#{n}",)
            n += 1
        rows[key] = row
    return rows


def compare(resource: Resource, old: dict[tuple, dict[str, str]], new: dict[tuple, dict[str, str]]) -> list[RowChange]:
    names = resource.field_names
    pk = resource.primary_key or names[:1]
    out = []
    for key in sorted(set(old) | set(new)):
        o, n = old.get(key), new.get(key)
        k = dict(zip(pk, key))
        if o is None:
            out.append(RowChange(resource.name, k, "added", None, n))
        elif n is None:
            out.append(RowChange(resource.name, k, "removed", o, None))
        else:
            cols = names + sorted((set(o) | set(n)) - set(names))
            fields = {c: (o.get(c, ""), n.get(c, "")) for c in cols if o.get(c, "") != n.get(c, "")}
            if fields:
                out.append(RowChange(resource.name, k, "changed", o, n, fields))
    return out


def diff_package(root: Path, base: str | None) -> DiffResult:
    try:
        pkg = load_package(root)
    except DescriptorError as e:
        raise DiffError(str(e)) from None
    try:
        rev, commit, merge_base = resolve_base(pkg.root, base)
        changes = []
        titles: dict[str, str] = {}
        for res in pkg.resources:
            before = read_rows(show(pkg.root, commit, res.path), res)
            path = pkg.root / res.path
            after = read_rows(path.read_bytes() if path.exists() else None, res)
            changes.extend(compare(res, before, after))
            if res.name == "agreements":
                for rows in (before, after):
                    titles.update({r.get("agreement_id", ""): r.get("title", "") for r in rows.values()})
    except GitError as e:
        raise DiffError(str(e)) from None
    return DiffResult(rev, commit, merge_base, changes, titles)


# --- grouping and rendering ----------------------------------------------------------


@dataclass
class AgreementChange:
    agreement_id: str
    change: str  # added | removed | changed
    title: str
    rows: list[RowChange]


def by_agreement(result: DiffResult) -> tuple[list[AgreementChange], list[RowChange]]:
    """Changes per agreement (in id order), and changes to tables that hold no agreement rows."""
    groups: dict[str, list[RowChange]] = {}
    other = []
    for c in result.changes:
        aid = c.agreement_id
        if aid is None or c.resource == "countries":
            other.append(c)
        else:
            groups.setdefault(aid, []).append(c)
    out = []
    for aid in sorted(groups):
        rows = groups[aid]
        own = next((c for c in rows if c.resource == "agreements"), None)
        change = own.change if own and own.change in ("added", "removed") else "changed"
        title = (own.row.get("title") if own else "") or result.titles.get(aid, "")
        out.append(AgreementChange(aid, change, title, rows))
    return out, other


def _md(value: str) -> str:
    if value == "":
        return "(empty)"
    v = " ".join(value.split())
    if len(v) > MAX_VALUE:
        v = v[: MAX_VALUE - 1] + "…"
    for ch in "\\`*<>[]|":
        v = v.replace(ch, "\\" + ch)
    return v


def _label(c: RowChange) -> str:
    if c.resource == "parties":
        return f"party {c.key.get('country_iso3', '')}"
    ident = " / ".join(v for v in c.key.values())
    return f"{NOUN.get(c.resource, c.resource)} `{ident}`" if c.resource != "agreements" else f"`{ident}`"


def _what(row: dict[str, str]) -> str:
    parts = [row[f] for f in DESCRIBE if row.get(f)][:2]
    return ": " + _md(" - ".join(parts)) if parts else ""


def _counts(rows: list[RowChange]) -> str:
    n: dict[str, int] = {}
    for c in rows:
        if c.resource != "agreements":
            n[c.resource] = n.get(c.resource, 0) + 1
    return ", ".join(f"{k} {NOUN.get(res, res) if k == 1 else PLURAL.get(res, res)}" for res, k in n.items())


def _facts(g: AgreementChange) -> str:
    """The facts a reviewer checks first in an added or removed agreement, so the summary can be
    reviewed without opening the CSV: type and instrument, signing date and its precision,
    status and its date, and the parties with their signatories."""
    own = next((c for c in g.rows if c.resource == "agreements"), None)
    a = own.row if own else {}
    bits = []
    if a.get("agreement_type"):
        bits.append(f"type {_md(a['agreement_type'])}" + (f" ({_md(a['instrument'])})" if a.get("instrument") else ""))
    if a.get("signed_on"):
        bits.append(f"signed {_md(a['signed_on'])}" + (f" ({_md(a['signed_precision'])})" if a.get("signed_precision") else ""))
    if a.get("status"):
        bits.append(f"status {_md(a['status'])}" + (f" as of {_md(a['status_as_of'])}" if a.get("status_as_of") else ""))
    parties = []
    for c in g.rows:
        if c.resource == "parties":
            who = ", ".join(v for v in (c.row.get("signatory_name"), c.row.get("signatory_title")) if v)
            parties.append(_md(c.row.get("country_iso3", "")) + (f" (signed by {_md(who)})" if who else ""))
    if parties:
        bits.append("parties " + "; ".join(parties))
    return "; ".join(bits)


def _line(c: RowChange) -> list[str]:
    if c.change == "changed":
        return [f"- {_label(c)}: {f} {_md(o)} → {_md(n)}" for f, (o, n) in c.fields.items()]
    return [f"- {_label(c)} {c.change}{_what(c.row)}"]


def render_markdown(result: DiffResult) -> str:
    groups, other = by_agreement(result)
    out = [f"## Dataset changes since {result.since()}", ""]
    if not result.changes:
        out.append("No changes to the dataset.")
        return "\n".join(out) + "\n"
    n = {k: sum(1 for g in groups if g.change == k) for k in ("added", "removed", "changed")}
    out.append(f"**{n['added']} agreement{'s' if n['added'] != 1 else ''} added, {n['removed']} removed, {n['changed']} changed.**")
    for kind, heading in (("added", "Added"), ("removed", "Removed"), ("changed", "Changed")):
        chosen = [g for g in groups if g.change == kind]
        if not chosen:
            continue
        out += ["", f"### {heading}"]
        for g in chosen:
            if kind in ("added", "removed"):
                with_rows = _counts(g.rows)
                out.append(f"- `{g.agreement_id}` {_md(g.title)}" + (f" (with {with_rows})" if with_rows else ""))
                facts = _facts(g)
                if facts:
                    out.append(f"  - {facts}")
            else:
                out += ["", f"#### `{g.agreement_id}` {_md(g.title)}".rstrip()]
                for c in g.rows:
                    out.extend(_line(c))
    if other:
        out += ["", "### Other tables"]
        for c in other:
            out.extend(f"- {c.resource}: " + line[2:] for line in _line(c))
    return "\n".join(out) + "\n"


def _row_json(c: RowChange) -> dict:
    d: dict = {"resource": c.resource, "key": c.key, "change": c.change}
    if c.change == "changed":
        d["fields"] = {f: {"old": o, "new": n} for f, (o, n) in c.fields.items()}
    else:
        d["row"] = c.row
    return d


def render_json(result: DiffResult) -> str:
    groups, other = by_agreement(result)
    rows: dict[str, dict[str, int]] = {}
    for c in result.changes:
        r = rows.setdefault(c.resource, {"added": 0, "removed": 0, "changed": 0})
        r[c.change] += 1
    data = {
        "base": {"revision": result.base_rev, "commit": result.base_commit, "merge_base": result.merge_base},
        "target": result.target,
        "summary": {f"agreements_{k}": sum(1 for g in groups if g.change == k) for k in ("added", "removed", "changed")} | {"rows": rows},
        "agreements": [{"agreement_id": g.agreement_id, "change": g.change, "title": g.title,
                        "rows": [_row_json(c) for c in g.rows]} for g in groups],
        "other": [_row_json(c) for c in other],
    }
    return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n"

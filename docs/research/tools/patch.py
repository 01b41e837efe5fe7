"""Correct or update an EXISTING record in dataset/ from a small YAML patch.

Usage: .venv/bin/python docs/research/tools/patch.py PATCH.yaml [--write]
Without --write it only shows the change and validates it.

Patch format (every key optional except agreement_id):

    agreement_id: fin-usa-2023-12-18
    set:                       # fields of agreements.csv to change
      status: in_force
      status_as_of: 2024-09-01
      entry_into_force_on: 2024-09-01
    sources:                   # new sources, numbered new1, new2 ... in this patch
      - url: https://...
        title: ...
        publisher: ...
        published_on: 2024-07-05
        source_type: official
        supports: entry into force
        reprint_of:            # a source_id of the same agreement, or newN
    status_history:            # new steps; source is a source_id or newN
      - status_on: 2024-07-01
        agreement_status: ratified
        description: Own words.
        source: new1
      - status_on: 2023-05
        equipment_id: xxx-e1    # for an equipment step
        equipment_status: contracted
        description: ...
        source: xxx-s2
    parties_set:               # change a party's columns
      - country_iso3: MAR
        signatory_name: ...
        signatory_title: ...
    equipment_set:             # change an equipment row's columns
      - equipment_id: xxx-e1
        status: contracted
    history_set:               # change an existing status step's columns
      - history_id: xxx-h3
        agreement_status: ratified
    history_delete: [xxx-h4]   # remove existing steps (say why in the agreement's notes)
    append_notes: One or two sentences added at the end of the agreement's notes.
"""
import csv
import io
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
D = ROOT / "dataset"
sys.path.insert(0, str(ROOT))
from scripts.filewrite import Change, replace_files  # noqa: E402
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit  # noqa: E402


def strip_tracking(url: str) -> str:
    """Feed and campaign parameters (utm_*) are not part of a page's address (`dca validate` refuses them)."""
    if not url:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.startswith("utm_")]
    return urlunsplit(parts._replace(query=urlencode(query)))


def load(name):
    with open(D / f"{name}.csv", encoding="utf-8", newline="") as fh:
        r = csv.DictReader(fh)
        return r.fieldnames, list(r)


def dump(name, fields, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def main():
    patch = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    write = "--write" in sys.argv
    aid = patch["agreement_id"]
    tables = {n: load(n) for n in ("agreements", "parties", "sources", "equipment", "status_history")}
    af, arows = tables["agreements"]
    (a,) = [r for r in arows if r["agreement_id"] == aid]
    for k, v in (patch.get("set") or {}).items():
        assert k in af, k
        a[k] = "" if v is None else str(v)
    if patch.get("append_notes"):
        a["notes"] = (a["notes"].rstrip() + " " + patch["append_notes"].strip()).strip()
    sf, srows = tables["sources"]
    mine = [r for r in srows if r["agreement_id"] == aid]
    n = max(int(r["source_id"].rsplit("-s", 1)[1]) for r in mine)
    newid = {}
    for i, s in enumerate(patch.get("sources") or [], 1):
        n += 1
        sid = f"{aid}-s{n}"
        newid[f"new{i}"] = sid
        row = {k: "" for k in sf}
        for k, v in s.items():
            assert k in sf, k
            row[k] = "" if v is None else str(v)
        row["url"] = strip_tracking(row["url"])
        row["source_id"], row["agreement_id"] = sid, aid
        srows.append(row)
    for r in srows:
        if r["agreement_id"] == aid and r.get("reprint_of") in newid:
            r["reprint_of"] = newid[r["reprint_of"]]
    pf, prows = tables["parties"]
    for p in patch.get("parties_set") or []:
        (row,) = [r for r in prows if r["agreement_id"] == aid and r["country_iso3"] == p["country_iso3"]]
        for k, v in p.items():
            row[k] = "" if v is None else str(v)
    ef, erows = tables["equipment"]
    for e in patch.get("equipment_set") or []:
        (row,) = [r for r in erows if r["equipment_id"] == e["equipment_id"]]
        for k, v in e.items():
            assert k in ef, k
            row[k] = "" if v is None else str(v)
    hf, hrows = tables["status_history"]
    for h in patch.get("history_set") or []:
        (row,) = [r for r in hrows if r["history_id"] == h["history_id"]]
        for k, v in h.items():
            assert k in hf, k
            row[k] = "" if v is None else str(v)
    gone = set(patch.get("history_delete") or [])
    hrows[:] = [r for r in hrows if r["history_id"] not in gone]
    hm = max([int(r["history_id"].rsplit("-h", 1)[1]) for r in hrows if r["agreement_id"] == aid] + [0])
    for h in patch.get("status_history") or []:
        hm += 1
        row = {k: "" for k in hf}
        for k, v in h.items():
            if k == "source":
                continue
            assert k in hf, k
            row[k] = "" if v is None else str(v)
        row["history_id"], row["agreement_id"] = f"{aid}-h{hm}", aid
        src = str(h["source"])
        row["source_id"] = newid.get(src, src)
        hrows.append(row)
    # Work on a throwaway copy of the package: a dry run never touches dataset/, so patches can be
    # tried while other people import records; --write then replaces the changed files in one
    # atomic step that refuses if dataset/ changed meanwhile.
    old = {n: (D / f"{n}.csv").read_bytes() for n in tables}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copy(ROOT / "datapackage.json", tmp)
        shutil.copytree(ROOT / "schema", tmp / "schema")
        shutil.copytree(D, tmp / "dataset")
        for n in tables:
            (tmp / "dataset" / f"{n}.csv").write_text(dump(n, *tables[n]), encoding="utf-8")
        subprocess.run([str(ROOT / ".venv/bin/dca"), "fmt", str(tmp)], capture_output=True)
        res = subprocess.run([str(ROOT / ".venv/bin/dca"), "validate", str(tmp)], capture_output=True, text=True)
        new = {n: (tmp / "dataset" / f"{n}.csv").read_bytes() for n in tables}
        diff = subprocess.run(["git", "diff", "--no-index", "--stat", str(D), str(tmp / "dataset")],
                              capture_output=True, text=True).stdout
    print(res.stdout[-3000:])
    print(diff)
    if write and res.returncode == 0:
        replace_files([Change(D / f"{n}.csv", old[n], new[n]) for n in tables if new[n] != old[n]])
    print("WRITTEN" if (write and res.returncode == 0) else "NOT WRITTEN (dry run or invalid)")
    sys.exit(res.returncode)


if __name__ == "__main__":
    main()

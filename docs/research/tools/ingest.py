"""Batch import of reviewed YAML records into dataset/, in one validated write.

Usage: .venv/bin/python docs/research/tools/ingest.py [--write] FILE.yaml ...
Without --write it only reports what would happen.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
import polars as pl  # noqa: E402

from schema.tableschema import load_package  # noqa: E402
from schema.rules import NOT_A_DUPLICATE  # noqa: E402  (the phrase the duplicate rule looks for)
from scripts.add import _as_dicts, _current, validate_candidate  # noqa: E402
from scripts.canonical import canonical_bytes  # noqa: E402
from scripts.country_names import CountryIndex  # noqa: E402
from scripts.duplicates import probable_duplicates  # noqa: E402
from scripts.filewrite import Change, replace_files  # noqa: E402
from scripts.findings import problems, render_text  # noqa: E402
from scripts.record import RecordError, append_note, build_plan, load_record_file  # noqa: E402
from patch import strip_tracking  # noqa: E402  (this folder, beside this script)



write = "--write" in sys.argv
files = [a for a in sys.argv[1:] if a != "--write"]
pkg = load_package(ROOT)
countries = CountryIndex.from_csv(pkg.root / pkg.resource("countries").path)
current = _current(pkg)
agreements = _as_dicts(current["agreements"][1])
parties = _as_dicts(current["parties"][1])
existing = {a["agreement_id"] for a in agreements}
added: dict[str, list[dict]] = {}
origin: dict[str, str] = {}
for f in files:
    try:
        record = load_record_file(Path(f))
        for src in record.get("sources") or []:
            if isinstance(src, dict) and isinstance(src.get("url"), str):
                src["url"] = strip_tracking(src["url"])
        plan = build_plan(pkg, record, countries, existing)
    except RecordError as e:
        print(f"SKIP {f}: {'; '.join(e.problems)}")
        continue
    dups = probable_duplicates(agreements, parties, plan.agreement, plan.party_codes())
    named = all(d in (plan.agreement.get("notes") or "") for d, _ in dups)
    if dups and (all(d in origin for d, _ in dups) or named):
        # a sibling from the same batch, or one whose reviewer named the existing record in notes
        # as a different instrument: reviewed as a separate instrument signed with it
        # a sibling from the same batch: reviewed as a separate instrument signed with it
        signed = {a["agreement_id"]: a["signed_on"] for a in agreements}
        same_day = all(signed.get(d) == plan.agreement["signed_on"] for d, _ in dups)
        what = "the same parties and date" if same_day else "the same parties, signed at another date"
        append_note(plan, f"{NOT_A_DUPLICATE} {', '.join(d for d, _ in dups)}: a separate instrument with {what}.")
        print(f"SIBL {f}: {plan.agreement_id} beside {[d for d, _ in dups]}")
    elif dups:
        print(f"DUP  {f}: {plan.agreement_id} looks like {dups}")
        continue
    existing.add(plan.agreement_id)
    origin[plan.agreement_id] = f
    agreements.append(plan.agreement)
    parties.extend(plan.rows.get("parties", []))
    for name, rows in plan.rows.items():
        added.setdefault(name, []).extend(rows)
    print(f"ADD  {f}: {plan.agreement_id}")

changes = []
for name, rows in added.items():
    if not rows:
        continue
    res = pkg.resource(name)
    old, frame = current[name]
    new = canonical_bytes(pl.concat([frame, pl.DataFrame(rows, schema={n: pl.Utf8 for n in res.field_names})]), res)
    changes.append(Change(pkg.root / res.path, old, new))
findings = validate_candidate(pkg, changes)
if problems(findings):
    print(render_text(findings))
    sys.exit(1)
print(f"{len(origin)} records valid together")
if write:
    replace_files(changes)
    with open(ROOT / "docs/research/ingested.tsv", "a") as fh:
        for aid, f in origin.items():
            fh.write(f"{aid}\t{Path(f).name}\n")
            Path(f).unlink()  # the record now lives in dataset/; git history keeps the file
    print("written")

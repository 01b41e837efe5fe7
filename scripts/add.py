"""`dca add`: add one agreement with its parties, sources, equipment and status
history, from prompts or from a YAML/JSON record file.

Nothing is written until the whole package, with the new rows in place, passes
`dca validate`: the candidate files are written to a temporary copy of the
package and validated there. Only then is each changed file replaced, whole and
atomically, in canonical form (so the new rows land where `dca fmt` would put
them). On any problem the dataset is left byte for byte as it was.
"""
from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import polars as pl
import typer

from schema.tableschema import DescriptorError, Package, load_package

from .canonical import canonical_bytes, parse_for_rewrite
from .country_names import CountryIndex
from .duplicates import probable_duplicates
from .safe_read import Unreadable, read_data_file
from .filewrite import Change, ChangedMeanwhile, recover, replace_files
from .record import SECTIONS, Plan, RecordError, append_note, build_plan, load_record_file

RESOURCES = [resource for _, resource, _ in SECTIONS]
NOTHING_WRITTEN = "Nothing was written; the dataset is unchanged."


class Refused(Exception):
    """dca add stops; the message says why and what to do."""


def _current(pkg: Package) -> dict[str, tuple[bytes, pl.DataFrame]]:
    """The record tables as they are now, read strictly enough to be rewritten."""
    out = {}
    for name in RESOURCES:
        res = pkg.resource(name)
        path = pkg.root / res.path
        try:
            data = read_data_file(path)
        except Unreadable as e:
            raise Refused(f"{res.path} {e}. {NOTHING_WRITTEN}") from None
        except OSError:
            raise Refused(f"{res.path} cannot be read (is it missing?); `dca validate` says more. {NOTHING_WRITTEN}") from None
        parsed = parse_for_rewrite(data, res)
        if parsed.frame is None:
            raise Refused(f"{res.path}: {parsed.problem}. Fix it first (`dca validate` says more); {NOTHING_WRITTEN}")
        out[name] = (data, parsed.frame)
    return out


def _changes(pkg: Package, current: dict[str, tuple[bytes, pl.DataFrame]], plan: Plan) -> list[Change]:
    out = []
    for name, rows in plan.rows.items():
        if not rows:
            continue
        res = pkg.resource(name)
        old, frame = current[name]
        new_rows = pl.DataFrame(rows, schema={n: pl.Utf8 for n in res.field_names})
        new = canonical_bytes(pl.concat([frame, new_rows]), res)
        out.append(Change(pkg.root / res.path, old, new))
    return out


def validate_candidate(pkg: Package, changes: list[Change], today: dt.date | None = None):
    """Findings for the package as it would be with the changes (in a temporary copy)."""
    from .validate import validate_package

    with tempfile.TemporaryDirectory(prefix="dca-add-") as tmp:
        copy = Path(tmp) / "package"
        copy.mkdir()
        shutil.copy2(pkg.root / "datapackage.json", copy / "datapackage.json")
        for res in pkg.resources:
            for rel in (res.path, res.schema_path):
                if rel and (pkg.root / rel).is_file():
                    (copy / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(pkg.root / rel, copy / rel)
        for c in changes:
            target = copy / c.path.relative_to(pkg.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(c.new)
        return validate_package(copy, today)


def _rows_text(pkg: Package, plan: Plan) -> str:
    lines = []
    for name, rows in plan.rows.items():
        if not rows:
            continue
        res = pkg.resource(name)
        lines.append(f"{res.path} ({len(rows)} row{'s' if len(rows) != 1 else ''})")
        for row in rows:
            filled = [(k, v) for k, v in row.items() if v]
            for i, (k, v) in enumerate(filled):
                lines.append(f"  {'-' if i == 0 else ' '} {k}: {v}")
    lines.append("(empty fields are not shown)")
    return "\n".join(lines)


def _as_dicts(frame: pl.DataFrame) -> list[dict[str, str]]:
    return [{k: (v or "") for k, v in r.items()} for r in frame.iter_rows(named=True)]


def run_add(root: Path, record_file: Path | None, force_reason: str | None, today: dt.date | None = None) -> int:
    """The whole of `dca add`; returns the exit code (0 added, 1 refused)."""
    from .findings import problems, render_text
    from .prompts import Asker

    try:
        pkg = load_package(root)
        recover(pkg.root)  # a killed earlier add: finish it (or undo it) before reading
        countries = CountryIndex.from_csv(pkg.root / pkg.resource("countries").path)
        current = _current(pkg)
    except DescriptorError as e:
        typer.echo(f"error: {e}; {NOTHING_WRITTEN}", err=True)
        return 1
    except (Refused, OSError, KeyError) as e:
        typer.echo(f"error: {e}", err=True)
        return 1
    existing_ids = {v for v in current["agreements"][1].get_column("agreement_id").to_list() if v}
    interactive = record_file is None
    try:
        record = Asker(pkg, countries, existing_ids, today).record() if interactive else load_record_file(record_file)
        plan = build_plan(pkg, record, countries, existing_ids, today)
    except RecordError as e:
        typer.echo("The record cannot be added:", err=True)
        for p in e.problems:
            typer.echo(f"  {p}", err=True)
        typer.echo(NOTHING_WRITTEN, err=True)
        return 1

    typer.echo(f"Agreement id: {plan.agreement_id}")
    dups = probable_duplicates(_as_dicts(current["agreements"][1]), _as_dicts(current["parties"][1]),
                               plan.agreement, plan.party_codes())
    if dups:
        typer.echo("This looks like an agreement the dataset already has:", err=True)
        for aid, why in dups:
            typer.echo(f"  {aid}: {why}", err=True)
        reason = (force_reason or "").strip()
        if not reason and interactive and typer.confirm("Is it a different agreement, to be added anyway?", default=False):
            while not reason:
                reason = typer.prompt("Why is it not a duplicate? (kept in the record's notes)", default="", show_default=False).strip()
        if not reason:
            typer.echo("If it is the same agreement, correct the existing record instead (see CONTRIBUTING.md). "
                       "If it is a different one, run again with --force \"why it is not a duplicate\".", err=True)
            typer.echo(NOTHING_WRITTEN, err=True)
            return 1
        append_note(plan, f"Not a duplicate of {', '.join(a for a, _ in dups)}: {reason.rstrip('.')}.")
    elif force_reason:
        typer.echo("note: no probable duplicate was found, so --force changed nothing.")

    if interactive:
        typer.echo("")
        typer.echo(_rows_text(pkg, plan))
        if not typer.confirm("Write these rows to the dataset?", default=True):
            typer.echo(NOTHING_WRITTEN)
            return 1

    changes = _changes(pkg, current, plan)
    findings = validate_candidate(pkg, changes, today)
    if problems(findings):
        typer.echo("The record was not added: with it, the package would have these problems "
                   "(rows are numbered as in the files with the new rows in place):", err=True)
        typer.echo(render_text(findings).rstrip("\n"), err=True)
        typer.echo(NOTHING_WRITTEN, err=True)
        return 1
    try:
        replace_files(changes, pkg.root)
    except ChangedMeanwhile as e:
        typer.echo(f"error: {e.path.relative_to(pkg.root)} changed while dca add was running; {NOTHING_WRITTEN} Run dca add again.", err=True)
        return 1
    except OSError as e:
        typer.echo(f"error: cannot write {e.filename}: {e.strerror}; {NOTHING_WRITTEN}", err=True)
        return 1
    counts = ", ".join(f"{len(rows)} to {pkg.resource(n).path}" for n, rows in plan.rows.items() if rows)
    typer.echo(f"Added {plan.agreement_id} ({plan.agreement['title']}): {counts}.")
    typer.echo("Next: `dca diff` shows the change; commit it and open a pull request (see CONTRIBUTING.md).")
    return 0

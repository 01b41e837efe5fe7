"""`dca fmt`: rewrite the dataset's CSV files in canonical form (see scripts.canonical).

Lossless by construction: a file is rewritten only when it was read strictly
(UTF-8, balanced quotes, exactly the schema's columns, every row as wide as the
header) and when the rewritten file, read back, holds the same rows. Anything
else is left alone with the reason, for a person to fix.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from schema.tableschema import Resource, load_package

from .canonical import canonical_bytes, describe_difference, parse_for_rewrite, same_rows
from .safe_read import Unreadable, read_data_file
from .filewrite import Change, recover, replace_files

UNCHANGED, CHANGED, REFUSED = "unchanged", "changed", "refused"


@dataclass
class FileResult:
    file: str
    status: str
    reason: str = ""  # changed: where and how it first differs; refused: why it was left alone
    old: bytes | None = None
    new: bytes | None = None


def format_file(root: Path, resource: Resource) -> FileResult:
    """What `dca fmt` would do to one resource's file (nothing is written here)."""
    path = root / resource.path
    try:
        old = read_data_file(path)
    except Unreadable as e:
        return FileResult(resource.path, REFUSED, str(e))
    except FileNotFoundError:
        return FileResult(resource.path, REFUSED, "file not found (the package lists it)")
    except OSError as e:
        return FileResult(resource.path, REFUSED, f"cannot be read: {e.strerror}")
    parsed = parse_for_rewrite(old, resource)
    if parsed.frame is None:
        return FileResult(resource.path, REFUSED, parsed.problem or "cannot be read safely", old)
    new = canonical_bytes(parsed.frame, resource)
    if new == old:
        return FileResult(resource.path, UNCHANGED, "", old, new)
    back = parse_for_rewrite(new, resource)
    if back.frame is None or not same_rows(parsed.frame, back.frame, resource):  # pragma: no cover - a bug guard
        return FileResult(resource.path, REFUSED, "the rewritten file would not hold the same rows; left alone (please report this)", old)
    line, reason = describe_difference(old, new, resource, parsed.header)
    return FileResult(resource.path, CHANGED, f"line {line}: {reason}", old, new)


def format_package(root: Path, write: bool) -> list[FileResult]:
    """Every resource file's result; with write=True the changed ones are replaced atomically."""
    pkg = load_package(root)
    recover(pkg.root)  # a killed earlier add or fmt: finish it (or undo it) before reading
    results = [format_file(pkg.root, r) for r in pkg.resources]
    changed = [r for r in results if r.status == CHANGED]
    if write and changed:
        replace_files([Change(pkg.root / r.file, r.old, r.new) for r in changed], pkg.root)  # type: ignore[arg-type]
    return results


def render(results: list[FileResult], check: bool) -> tuple[str, int]:
    """The report a contributor reads, and the exit code."""
    lines = []
    changed = [r for r in results if r.status == CHANGED]
    refused = [r for r in results if r.status == REFUSED]
    for r in changed:
        lines.append(f"{'would reformat' if check else 'reformatted'} {r.file} (first difference at {r.reason})")
    for r in refused:
        lines.append(f"left alone {r.file}: {r.reason}")
    n = len(changed)
    if check:
        if n:
            lines.append(f"{n} file{'s' if n != 1 else ''} not in canonical form; run `dca fmt` to rewrite "
                         f"{'them' if n != 1 else 'it'}, then commit the result.")
        elif not refused:
            lines.append(f"All {len(results)} files are in canonical form.")
    else:
        if n:
            lines.append(f"{n} file{'s' if n != 1 else ''} rewritten in canonical form.")
        elif not refused:
            lines.append(f"All {len(results)} files were already in canonical form.")
    if refused:
        lines.append(f"{len(refused)} file{'s' if len(refused) != 1 else ''} could not be formatted; fix "
                     f"{'them' if len(refused) != 1 else 'it'} by hand (`dca validate` says more).")
    code = 1 if refused or (check and changed) else 0
    return "\n".join(lines) + "\n", code

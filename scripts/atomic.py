"""Writing files and folders so that readers never see half of them.

Write next to the target (same filesystem, so rename is atomic), fsync, then
rename over it. An interrupted write leaves the old file plus, at worst, a temp
file whose name marks it as debris for the next run to clear.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

TMP_PREFIX = ".dca-tmp-"


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


COMPLETE = ".dca-complete"  # written into a staged folder once it is whole, just before the swap


def _old_name(target: Path) -> Path:
    return target.parent / f"{TMP_PREFIX}old-{target.name}"


def _complete_copies(target: Path) -> list[Path]:
    """Whole copies of `target` left beside it by an interrupted swap, newest first.

    A staged folder counts once it holds the COMPLETE marker (written after every
    file in it); the renamed-aside old folder is whole by construction (it was the
    live target). Staged copies are newer than the old one.
    """
    parent = target.parent
    staged = []
    for p in parent.glob(f"{TMP_PREFIX}*-{target.name}"):
        marker = p / COMPLETE
        if p.is_dir() and marker.is_file():
            staged.append((marker.stat().st_mtime_ns, p))
    out = [p for _, p in sorted(staged, reverse=True)]
    old = _old_name(target)
    if old.is_dir() and old not in out:
        out.append(old)
    return out


def recover_dir(target: Path) -> Path | None:
    """Undo the effect of a kill between the two renames of `replace_dir`.

    When `target` is missing but a whole copy of it lies beside it, the newest one
    is renamed back into place (and returned). Run at start-up and before a build,
    before any debris is cleared, so a crash never costs the last good build.
    """
    target = Path(target)
    if target.exists():
        return None
    for copy in _complete_copies(target):
        os.replace(copy, target)
        (target / COMPLETE).unlink(missing_ok=True)
        return target
    return None


def clear_debris(parent: Path, target: Path | None = None) -> None:
    """Remove temp folders and files left by an interrupted earlier run.

    With `target`, a whole copy that an interrupted swap left in place of a
    missing target is first restored (see `recover_dir`), never deleted.
    """
    if target is not None:
        recover_dir(target)
    if not parent.exists():
        return
    for p in parent.iterdir():
        if p.name.startswith(TMP_PREFIX):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def replace_dir(staged: Path, target: Path) -> None:
    """Swap a fully written folder into place.

    os.replace cannot swap a non-empty directory, so the old one is first renamed
    aside, then the new one renamed in, then the old one removed. A marker written
    into the staged folder first says it is whole: if the process dies between the
    two renames, `recover_dir` (run by the next build and at start-up) puts the
    newest whole copy back at `target`. An exception there puts the old one back
    at once.
    """
    staged, target = Path(staged), Path(target)
    old = _old_name(target)
    marker = staged / COMPLETE
    marker.write_bytes(b"")
    _fsync_dir(staged)
    if old.exists():
        shutil.rmtree(old)
    moved_aside = False
    try:
        if target.exists():
            os.replace(target, old)
            moved_aside = True
        os.replace(staged, target)
    except BaseException:
        if moved_aside and not target.exists():
            os.replace(old, target)
        raise
    (target / COMPLETE).unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)

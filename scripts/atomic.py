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


def clear_debris(parent: Path) -> None:
    """Remove temp folders and files left by an interrupted earlier run."""
    if not parent.exists():
        return
    for p in parent.iterdir():
        if p.name.startswith(TMP_PREFIX):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def replace_dir(staged: Path, target: Path) -> None:
    """Swap a fully written folder into place.

    os.replace cannot swap a non-empty directory, so the old one is first renamed
    aside, then the new one renamed in, then the old one removed: at every moment
    either the old or the new build is at `target` (or, for an instant between the
    two renames, neither, never a half-written one).
    """
    old = target.parent / f"{TMP_PREFIX}old-{target.name}"
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staged, target)
    shutil.rmtree(old, ignore_errors=True)

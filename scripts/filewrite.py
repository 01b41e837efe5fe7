"""Replacing several dataset files together, each atomically, and only if nobody
changed them meanwhile.

`dca add` and `dca fmt` read files, work for a second or two (validation), then
write. Another person or editor may save one of those files in between; writing
over it would silently lose their change. So every new file is first written in
full next to its target, then each target is checked to still hold exactly the
bytes that were read, and only then are the new files renamed into place. A
reader never sees a half-written file; at worst an interruption between two
renames leaves some files new and some old, each of them whole.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .atomic import TMP_PREFIX


class ChangedMeanwhile(Exception):
    """A target file no longer holds the bytes it was read with."""

    def __init__(self, path: Path):
        super().__init__(str(path))
        self.path = path


@dataclass(frozen=True)
class Change:
    path: Path
    old: bytes | None  # what was read (None: the file did not exist)
    new: bytes


def _current(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def replace_files(changes: list[Change]) -> None:
    staged: list[tuple[str, Path]] = []
    try:
        for c in changes:
            c.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TMP_PREFIX, dir=c.path.parent)
            staged.append((tmp, c.path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(c.new)
                fh.flush()
                os.fsync(fh.fileno())
        for c in changes:
            if _current(c.path) != c.old:
                raise ChangedMeanwhile(c.path)
        for tmp, path in staged:
            os.replace(tmp, path)
        staged = []
    finally:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)

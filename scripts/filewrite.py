"""Replacing several dataset files as one change, and only if nobody changed them
meanwhile.

`dca add` and `dca fmt` read files, work for a second or two (validation), then
write. Another person or editor may save one of those files in between; writing
over it would silently lose their change. And a record spans several files (an
agreement, its parties, its sources): a kill between two renames must not leave
an agreement without its parties, which the contributor could not even retry
(the re-run is refused as a duplicate).

So a change is a small transaction, kept in TXN_DIR at the package root (outside
dataset/ and git-ignored, so `git add dataset` never picks up debris):

1. every new file is written in full into TXN_DIR, with the old bytes beside it;
2. each target is checked to still hold exactly the bytes that were read;
3. a journal naming every file is written atomically: the commit point;
4. the new files are renamed over their targets, then the journal and the
   folder are removed.

`recover` (run first by every command that reads or writes the dataset) finishes
a change whose journal exists (rolls it forward), or, if someone has edited one of
its files since, puts back the old bytes of the files it had already replaced (rolls
it back) and says so; a folder without a journal is a change that never reached its
commit point and is simply removed.
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import orjson

from .atomic import _fsync_dir

TXN_DIR = ".dca-txn"
JOURNAL = "journal.json"


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


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _default_root(changes: list[Change]) -> Path:
    parents = [str(c.path.resolve().parent) for c in changes]
    return Path(os.path.commonpath(parents))


def replace_files(changes: list[Change], root: Path | None = None) -> None:
    """Replace every target with its new bytes, all or (after a crash, on recovery) none."""
    if not changes:
        return
    root = Path(root) if root is not None else _default_root(changes)
    recover(root)
    txn = root / TXN_DIR
    txn.mkdir(parents=True, exist_ok=True)
    try:
        entries = []
        for i, c in enumerate(changes):
            _write_synced(txn / f"new-{i}", c.new)
            if c.old is not None:
                _write_synced(txn / f"old-{i}", c.old)
            entries.append({"target": os.path.relpath(c.path.resolve(), root.resolve()), "new": f"new-{i}",
                            "old": f"old-{i}" if c.old is not None else None,
                            "old_sha256": _digest(c.old), "new_sha256": _digest(c.new)})
        for c in changes:
            if _current(c.path) != c.old:
                raise ChangedMeanwhile(c.path)
        for c in changes:
            c.path.parent.mkdir(parents=True, exist_ok=True)
        _write_synced(txn / f"{JOURNAL}.part", orjson.dumps({"files": entries}))
        os.replace(txn / f"{JOURNAL}.part", txn / JOURNAL)  # the commit point
        _fsync_dir(txn)
    except BaseException:
        shutil.rmtree(txn, ignore_errors=True)
        raise
    _apply(root, txn, entries)
    shutil.rmtree(txn, ignore_errors=True)


def _apply(root: Path, txn: Path, entries: list[dict]) -> None:
    for e in entries:
        staged = txn / e["new"]
        if staged.exists():
            os.replace(staged, root / e["target"])
    for e in entries:
        _fsync_dir((root / e["target"]).parent)
    (txn / JOURNAL).unlink(missing_ok=True)


def recover(root: Path) -> str | None:
    """Complete or undo a change interrupted by a crash; a sentence saying what was done, or None."""
    root = Path(root)
    txn = root / TXN_DIR
    if not txn.exists():
        return None
    journal = txn / JOURNAL
    if not journal.is_file():
        shutil.rmtree(txn, ignore_errors=True)  # never reached its commit point: nothing was replaced
        return None
    try:
        entries = orjson.loads(journal.read_bytes())["files"]
    except (orjson.JSONDecodeError, KeyError, TypeError):  # pragma: no cover - the journal is written atomically
        shutil.rmtree(txn, ignore_errors=True)
        return None
    targets = [e["target"] for e in entries]
    edited = [e["target"] for e in entries
              if (txn / e["new"]).exists() and _digest(_current(root / e["target"])) != e["old_sha256"]]
    if not edited:
        _apply(root, txn, entries)
        shutil.rmtree(txn, ignore_errors=True)
        return f"completed an interrupted change to {', '.join(targets)}"
    # Someone edited a file the change had not reached yet: finishing would overwrite
    # their edit, so the files already replaced get their old bytes back instead.
    for e in entries:
        target = root / e["target"]
        if (txn / e["new"]).exists() or _digest(_current(target)) != e["new_sha256"]:
            continue
        if e["old"] is None:
            target.unlink(missing_ok=True)
        else:
            os.replace(txn / e["old"], target)
    shutil.rmtree(txn, ignore_errors=True)
    return (f"undid an interrupted change to {', '.join(targets)} because {', '.join(edited)} "
            "was edited since; run the command again")

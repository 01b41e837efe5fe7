"""The files of the build being served, as /v1/downloads lists them.

Listed from the build folder next to the SQLite database (exports, their
descriptor, the database itself) by `scripts.downloads.list_downloads`, once per
build snapshot: sizes and checksums of immutable files need not be recomputed per
request. A PostgreSQL-backed replica has no build folder and lists nothing.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .state import Snapshot


async def build_files(state: Snapshot) -> list[dict[str, Any]]:
    if not state.db.is_sqlite:
        return []
    cached = state.cache.get(("downloads", "build_files"))
    if cached is None:
        from scripts.downloads import list_downloads

        build_dir = state.settings.sqlite_path.parent
        try:
            cached = await state.db.run(_list, build_dir, state.db.path)
        except OSError:
            cached = []
        state.cache.put(("downloads", "build_files"), cached)
    return cached


def _list(build_dir: Path, snapshot: Path) -> list[dict[str, Any]]:
    from scripts.downloads import DATABASE, _entry, list_downloads

    files = [f for f in list_downloads(build_dir) if f["path"] != DATABASE]
    e = _entry(snapshot.parent, snapshot.name, "database_sqlite", "sqlite", "application/vnd.sqlite3")
    if e:
        files.append({**e, "path": DATABASE})
    return files


def serving_path(state: Snapshot, path: str) -> Path:
    """The file on disk behind a download's path (the private snapshot for the database)."""
    from scripts.downloads import DATABASE

    if path == DATABASE and state.db.is_sqlite:
        return state.db.path
    return state.settings.sqlite_path.parent / path

"""The files of the build being served, as /v1/downloads lists them.

Listed from the build folder next to the SQLite database (exports, their
descriptor, the database itself) by `scripts.downloads.list_downloads`, once per
build snapshot: sizes and checksums of immutable files need not be recomputed per
request. A PostgreSQL-backed replica has no build folder and lists nothing.
"""
from __future__ import annotations

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
            cached = await state.db.run(list_downloads, build_dir)
        except OSError:
            cached = []
        state.cache.put(("downloads", "build_files"), cached)
    return cached

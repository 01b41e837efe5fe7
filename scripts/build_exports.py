"""`dca build`'s dyad step: the researcher exports written while the API's dyad tables are stored.

The export tables come one at a time from export_tables.iter_frames. Each table the exports
have goes to a writer thread (scripts/export.py: CSV, Parquet, Stata, checksums, each file written
in parts), the dyads and the dyad-years of every rule are kept for the database, and stored
(scripts/dyad_store.py) once the last table is handed over, while the writer is still busy. The two overlap on two cores:
polars, pyarrow, numpy, hashlib and SQLite's inserts all run without the GIL for their heavy
part. The hand-over queue holds one table, so at most three are alive at once (the one being
written, the one waiting, the one being made), besides those the store needs; each table is
dropped once written.

Errors: whatever fails first, in either thread, is raised here, after the writer has stopped
(so the caller can remove its staging folder without racing it).
"""
from __future__ import annotations

import queue
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from schema.tableschema import Package

_DONE = object()  # the end of the tables, for the writer
_POLL_S = 0.2  # how often a blocked hand-over checks that the writer is still alive


def store_and_write(con: sqlite3.Connection, pkg: Package, exports: Path, text: dict[str, pl.DataFrame] | None = None,
                    before_store: Callable[[], None] | None = None) -> None:
    """Store dyads and dyad_years (every rule) in `con` and write the exports (default options) into `exports`.
    `text`: the resources as `dca validate` read them (export_tables.read_frame), instead of the files; the
    dict is emptied once they are read. `before_store`: called before the connection is first used (the
    build's database thread is then done with it)."""
    from .dyad_store import store
    from .export import write_exports
    from .export_columns import RULES
    from .export_tables import ExportOptions, iter_frames

    default = ExportOptions().rule
    hand_over: queue.Queue = queue.Queue(maxsize=1)

    def tables() -> Iterator[tuple[str, pl.DataFrame]]:
        while (item := hand_over.get()) is not _DONE:
            yield item

    with ThreadPoolExecutor(1, thread_name_prefix="dca-exports") as pool:
        # The writer reads one column of the text (the data date, before its first file): its own small dict.
        dates = {"agreements": text["agreements"].select("status_as_of")} if text and "agreements" in text else None
        writing = pool.submit(write_exports, pkg, exports, frames=tables(), text=dates)
        try:
            dyads: pl.DataFrame | None = None
            years: dict[str, pl.DataFrame] = {}
            for name, rule, df in iter_frames(pkg, also=RULES, text=text):
                if text:
                    text.clear()  # every resource is read before the first table: the caller's frames can go
                if rule in (None, default):
                    _put(hand_over, (name, df), writing)
                if name == "dyads":
                    dyads = df
                elif name == "dyad_years":
                    years[str(rule)] = df
                del df
            # Stored once the last table is handed over: the store and the writer's last two tables (the
            # largest files) overlap, and the writer holds a part of a file at a time, not the file.
            if before_store:
                before_store()
            store(con, dyads, years)
            dyads, years = None, {}
            _put(hand_over, _DONE, writing)
        except BaseException:
            _put(hand_over, _DONE, writing, give_up=True)
            raise
        writing.result()


def _put(q: queue.Queue, item: object, writer: Future, give_up: bool = False) -> None:
    """Hand `item` to the writer, waiting while it is busy; raise its error if it has failed (or, with
    give_up, just return: the caller is raising an error of its own)."""
    while True:
        if writer.done():
            if give_up:
                return
            writer.result()  # raises the writer's error
            raise RuntimeError("the exports writer stopped before the last table")  # a bug, not a user error
        try:
            q.put(item, timeout=_POLL_S)
            return
        except queue.Full:
            continue

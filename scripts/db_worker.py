"""The build's database work, done in one thread of its own, in the order it is handed over.

`dca build` makes things in Python and polars (documents, export tables, the codebook) and writes
them with SQLite and ADBC, which release the GIL while they work. With the writes in a thread of
their own, the two run on the machine's two cores instead of taking turns. One thread, FIFO:
the database is written in exactly the order of the submissions, whatever the timing, so two
builds of the same package give the same rows, rowids and statistics.

The rule that keeps this simple: while work is pending, only this thread touches the
connection; whoever needs the connection itself first calls `join`.
"""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable


class DatabaseWorker:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="dca-db")
        self._pending: list[Future] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future:
        """Queue fn(*args) after everything submitted before; raise the error of work already failed."""
        self.raise_failure()
        future = self._pool.submit(fn, *args)
        self._pending.append(future)
        return future

    def raise_failure(self) -> None:
        """The first error of the work done so far, if any (the rest would run on a broken database)."""
        while self._pending and self._pending[0].done():
            self._pending.pop(0).result()

    def join(self) -> None:
        """Wait for every submission; raise the first error. The connection is the caller's again."""
        while self._pending:
            self._pending.pop(0).result()

    def close(self) -> None:
        """Stop: what has not started is dropped, what runs is waited for (so the caller may then remove the
        database's folder without racing the thread)."""
        self._pool.shutdown(wait=True, cancel_futures=True)

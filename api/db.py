"""The database the API reads: opening it read-only, checking it, running statements.

SQLite is served from a private snapshot (``private_copy``): at start-up and for each
new build the file is copied into a directory only this server writes, checked there,
made read-only, and opened through a URI with ``mode=ro&immutable=1`` and memory
mapping. Whatever then happens to ``build/dca.sqlite`` (truncated, overwritten in place,
deleted) cannot reach the open database: a memory-mapped file that shrinks under a
process kills it with SIGBUS, and one rewritten in place gives wrong pages or
"database disk image is malformed" errors. The read path thus keeps the settings
bench/http measures (immutable, memory-mapped); the alternative of opening the build
file itself without ``immutable=1`` would cost on every request (a shared lock and a
change-counter read per statement, plus a checksum to notice in-place rewrites), and a
hard link would not help, since it shares the inode that ``: >`` or ``cp`` rewrites.
The copy costs one sequential read of the file per build (a reflink where the
filesystem offers one, so nearly free there), plus SQLite's ``quick_check``.
PostgreSQL is reached through ``DATABASE_URL`` with the tables in schema ``dca`` put
on the ``search_path``. Nothing here can write: there is no write path in the API.

Statements are SQLAlchemy Core, built from the SQLModel tables in ``schema.tables``.
Each statement shape is compiled once per dialect and cached; requests then run the
compiled SQL with bound parameters on a pooled DBAPI connection, in a worker thread
so that the event loop stays free and SQLite (which releases the GIL) can use a second
core.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import ClauseElement

from schema.tables import metadata
from scripts.doc_store import AGREEMENT_ORDER, Decoder, load_decoder

from .settings import Settings, normalise_database_url

REQUIRED_TABLES = sorted(metadata.tables) + ["agreements_fts", "agreement_csv", "doc_dicts"]
META_KEYS = ("name", "version", "schema_version", "built_at", "content_hash", "counts", "licenses", "datapackage")


class StartupError(Exception):
    """The database cannot be served; the message says why and what to do."""


@dataclass(frozen=True)
class BuildInfo:
    name: str
    title: str
    version: str
    schema_version: str
    built_at: str
    content_hash: str
    counts: dict[str, int]
    licenses: list[dict[str, Any]]
    datapackage: dict[str, Any]
    datapackage_bytes: bytes = field(repr=False, default=b"")


class SourceChanging(StartupError):
    """The file changed while it was being copied (a copy in progress?); try again later."""


def file_identity(path: Path) -> tuple | None:
    """(device, inode, size, mtime) of a file: a new build, or one rewritten in place, differs."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


_FICLONE = 0x40049409  # Linux ioctl: share the source's extents (btrfs, XFS): an instant copy


def _copy_data(fin, fout) -> None:
    """All of ``fin`` into ``fout``: in the kernel (copy_file_range) where possible, else read/write."""
    try:
        while os.copy_file_range(fin.fileno(), fout.fileno(), 1 << 30):
            pass
        return
    except (OSError, AttributeError):
        fin.seek(0)
        fout.seek(0)
        fout.truncate(0)
    shutil.copyfileobj(fin, fout, 1 << 20)


def private_copy(src: Path, dest_dir: Path) -> tuple[Path, tuple]:
    """Copy the build into ``dest_dir`` (read-only afterwards): (copy, identity of the source copied).

    Read with read()/copy_file_range, never mmap, so a source truncated during the copy
    only gives a short copy, which the identity check here (and the page count check of
    ``check_database``) refuses: SourceChanging.
    """
    if not src.exists():
        raise StartupError(f"no build found at {src}; run `dca build` (or `make serve`) first")
    if not src.is_file():
        raise StartupError(f"corrupt build at {src}: not a file; run `dca build` again")
    dest_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="dca-", suffix=".sqlite", dir=dest_dir)
    dest = Path(name)
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            before = os.fstat(fin.fileno())
            try:
                import fcntl

                fcntl.ioctl(fout.fileno(), _FICLONE, fin.fileno())
            except (OSError, ImportError):
                fout.truncate(0)
                _copy_data(fin, fout)
            after = os.fstat(fin.fileno())
        ident = (before.st_dev, before.st_ino, before.st_size, before.st_mtime_ns)
        if ident != (after.st_dev, after.st_ino, after.st_size, after.st_mtime_ns) or file_identity(src) != ident \
                or dest.stat().st_size != before.st_size:
            raise SourceChanging(f"the build at {src} changed while it was being read (still being written?)")
        os.chmod(dest, 0o444)
        return dest, ident
    except BaseException:
        dest.unlink(missing_ok=True)
        raise


def _sqlite_uri(path: Path) -> str:
    return path.resolve().as_uri() + "?mode=ro&immutable=1"


def _sqlite_connect(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(_sqlite_uri(path), uri=True, check_same_thread=False, isolation_level=None)
    con.execute("PRAGMA query_only = ON")
    # The file is memory-mapped: pages are read in place from the OS page cache, shared by
    # all connections (they count in the process's RSS as file pages, not as its own
    # memory, which stays flat while large results stream). A small private page cache
    # then suffices.
    con.execute("PRAGMA mmap_size = 4294967296")
    con.execute("PRAGMA cache_size = -8192")
    return con


def _expected_schema_version() -> str:
    from scripts.build import SCHEMA_VERSION

    return SCHEMA_VERSION


SQLITE_POOL_OVERFLOW = 64


def _sqlite_pool_size(settings: Settings) -> int:
    # Streams hold a connection while the client reads; keep enough open that
    # concurrent exports reuse connections instead of opening new ones.
    return max(32, settings.db_threads + 2)


def pool_budget(settings: Settings) -> int:
    """Connections the pool can hand out without waiting: worker threads + stream slots."""
    if settings.database_url:
        return settings.db_threads + settings.db_streams
    return _sqlite_pool_size(settings) + SQLITE_POOL_OVERFLOW


def stream_slot_count(settings: Settings) -> int:
    """How many streamed responses may hold a database connection at once.

    PostgreSQL: ``db_streams`` (each holds a server-side cursor in a transaction, a
    connection of the server's ``max_connections``). SQLite: whatever the pool holds
    beyond the worker threads (connections are cheap there; 86 with the defaults,
    so the benchmark's 32 concurrent streams never queue).
    """
    if settings.database_url:
        return settings.db_streams
    return pool_budget(settings) - settings.db_threads - 2


def make_engine(settings: Settings, path: Path | None = None) -> Engine:
    if settings.database_url:
        url = normalise_database_url(settings.database_url)
        if not url.startswith("postgresql+psycopg://"):
            raise StartupError(f"DATABASE_URL must be a postgresql:// URL, not {url.split(':', 1)[0]}://...")
        schema = settings.pg_schema
        engine = create_engine(
            url,
            # One connection per worker thread plus one per stream slot (see
            # ``Database.stream_slots``): a thread never waits for a connection that only
            # a stream, itself waiting for a thread, could give back. The overflow is
            # for the odd caller outside both (the new-build watcher, start-up checks).
            pool_size=pool_budget(settings),
            max_overflow=4,
            pool_pre_ping=True,
            isolation_level="AUTOCOMMIT",
            connect_args={"options": f"-c search_path={schema} -c default_transaction_read_only=on", "connect_timeout": 10},
        )
        return engine
    path = path or settings.sqlite_path
    return create_engine(
        "sqlite://",
        creator=lambda: _sqlite_connect(path),
        poolclass=QueuePool,
        pool_size=_sqlite_pool_size(settings),
        max_overflow=SQLITE_POOL_OVERFLOW,
        pool_reset_on_return=None,  # read-only connections: nothing to roll back
    )


class Compiled:
    """A statement compiled for one dialect: SQL text and how to bind parameters."""

    __slots__ = ("sql", "positional", "names", "defaults")

    def __init__(self, stmt: ClauseElement, dialect) -> None:
        c = stmt.compile(dialect=dialect)
        self.sql = c.string
        self.defaults = dict(c.params)
        self.positional = dialect.paramstyle in ("qmark", "numeric", "format")
        self.names = list(c.positiontup or []) if self.positional else None

    def bind(self, params: dict[str, Any] | None) -> Any:
        values = {**self.defaults, **(params or {})} if params else self.defaults
        if self.positional:
            return [values[n] for n in self.names]
        return values


class Database:
    """One open database. ``path``: the SQLite file to open (default ``settings.sqlite_path``);
    the app passes its private snapshot, which ``dispose`` then removes (``owns_path``)."""

    def __init__(self, settings: Settings, path: Path | None = None, owns_path: bool = False) -> None:
        self.settings = settings
        self.is_sqlite = not settings.database_url
        self.path = path or settings.sqlite_path
        self.owns_path = owns_path and path is not None
        self.engine = make_engine(settings, self.path)
        self.dialect = self.engine.dialect
        self._compiled: dict[Any, Compiled] = {}
        self._lock = threading.Lock()
        self.limiter = anyio.CapacityLimiter(settings.db_threads)
        # A stream takes a slot on the event loop before its first rows and gives it back
        # after its connection is back in the pool. Without it, more concurrent streams
        # than connections deadlock: the streams holding connections wait for a worker
        # thread while every worker thread waits in the pool for a connection
        # (py-spy: all threads in QueuePool._do_get) until the pool's 30 s timeout breaks
        # them off. With it, threads + slots <= pool size, so a thread never waits on
        # the pool, and extra streams wait without holding a thread or a connection.
        self.stream_slots = anyio.CapacityLimiter(stream_slot_count(settings))
        self.info: BuildInfo | None = None
        self.docs: Decoder | None = None  # the stored documents' decoder (set by open)
        self._loop_con: sqlite3.Connection | None = None
        self._loop_streams = 0  # streams reading on _loop_con

    # -- statements -------------------------------------------------------
    def compiled(self, key: Any, build: Callable[[], ClauseElement]) -> Compiled:
        c = self._compiled.get(key)
        if c is None:
            c = Compiled(build(), self.dialect)
            with self._lock:
                self._compiled[key] = c
        return c

    def execute(self, c: Compiled, params: dict[str, Any] | None = None) -> list[tuple]:
        conn = self.engine.raw_connection()
        try:
            cur = conn.cursor()
            try:
                cur.execute(c.sql, c.bind(params))
                return cur.fetchall()
            finally:
                cur.close()
        finally:
            conn.close()

    def execute_here(self, c: Compiled, params: dict[str, Any] | None = None) -> list[tuple]:
        """Run on the calling (event loop) thread, on a connection kept for that thread."""
        con = self._loop_con
        if con is None:
            con = self._loop_con = _sqlite_connect(self.path)
        return con.execute(c.sql, c.bind(params)).fetchall()

    async def fetch_all(self, c: Compiled, params: dict[str, Any] | None = None, *, inline: bool = False) -> list[tuple]:
        """Rows of a compiled statement.

        ``inline`` is for statements that are a bounded index lookup (a primary key, one
        page of an index range): on SQLite those take tens of microseconds, less than
        handing them to a thread, so they run on the event loop. Anything that may scan
        runs in a worker thread, where SQLite releases the GIL and the loop stays free.
        """
        if inline and self.is_sqlite and self.settings.inline:
            return self.execute_here(c, params)
        return await anyio.to_thread.run_sync(self.execute, c, params, limiter=self.limiter)

    async def fetch_one(self, c: Compiled, params: dict[str, Any] | None = None, *, inline: bool = False) -> tuple | None:
        rows = await self.fetch_all(c, params, inline=inline)
        return rows[0] if rows else None

    async def run(self, fn: Callable, *args) -> Any:
        return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)

    def stream(self, c: Compiled, params: dict[str, Any] | None, chunk: int = 2000, *,
               here: bool = False) -> Iterator[list[tuple]]:
        """Rows in chunks, holding one connection; memory stays constant whatever the size.

        A synchronous generator: call ``next`` on it in a worker thread, or, with ``here``
        (SQLite only), on the event loop, where it reads on the loop's own connection like
        the inline page queries (``execute_here``). SQLite steps any number of statements on
        one connection; one connection for all the concurrent streams, rather than one
        pooled connection (and memory map) each, measured about a third less CPU per export.
        Call it only while holding one of ``stream_slots`` (``streaming.stream_chunks`` does
        both), so that the pool always has a connection for a stream that needs one.
        """
        if here and self.is_sqlite:
            yield from self._stream_here(c, params, chunk)
            return
        conn = self.engine.raw_connection()
        try:
            if self.is_sqlite:
                yield from _sqlite_chunks(conn, c, params, chunk)
            else:
                pg = conn.driver_connection
                with pg.transaction():
                    with pg.cursor(name=f"dca_stream_{id(self)}_{threading.get_ident()}") as cur:
                        cur.itersize = chunk
                        cur.execute(c.sql, c.bind(params))
                        while rows := cur.fetchmany(chunk):
                            yield rows
        finally:
            conn.close()

    def _stream_here(self, c: Compiled, params: dict[str, Any] | None, chunk: int) -> Iterator[list[tuple]]:
        con = self._loop_con
        if con is None:
            con = self._loop_con = _sqlite_connect(self.path)
        self._loop_streams += 1
        try:
            yield from _sqlite_chunks(con, c, params, chunk)
        finally:
            self._loop_streams -= 1
            if self._loop_con is None and self._loop_streams == 0:
                con.close()  # disposed while streaming: closed by the last stream

    # -- start-up ----------------------------------------------------------
    def open(self, integrity: bool = False) -> BuildInfo:
        """Check that the build can be served and read its facts; StartupError if not."""
        self.info = check_database(self.settings, self, integrity=integrity)
        self.docs = load_decoder(_raw_query(self, "SELECT name, dictionary FROM doc_dicts"), _raw_query(self, AGREEMENT_ORDER))
        return self.info

    def dispose(self) -> None:
        if self._loop_con is not None:
            if not self._loop_streams:  # else the last stream still reading on it closes it
                self._loop_con.close()
            self._loop_con = None
        self.engine.dispose()
        if self.owns_path:
            try:
                self.path.unlink(missing_ok=True)  # open mappings (if any) keep the inode alive
            except OSError:
                pass


def _sqlite_chunks(con, c: Compiled, params: dict[str, Any] | None, chunk: int) -> Iterator[list[tuple]]:
    """The rows of ``c`` on a SQLite connection (sqlite3's, or the pool's wrapper of one), ``chunk`` at a time."""
    cur = con.cursor()
    cur.arraysize = chunk
    cur.execute(c.sql, c.bind(params))
    try:
        while rows := cur.fetchmany(chunk):
            yield rows
    finally:
        cur.close()


def _raw_query(db: Database, sql: str) -> list[tuple]:
    conn = db.engine.raw_connection()
    try:
        cur = conn.cursor()
        cur.execute(sql)
        rows = cur.fetchall()
        cur.close()
        return rows
    finally:
        conn.close()


def check_database(settings: Settings, db: Database | None = None, *, integrity: bool = False) -> BuildInfo:
    """Everything that must hold before serving, with a message saying what to do if not.

    Missing build, stale build (another database layout version), corrupt build (not
    a database, tables missing, row counts that disagree with the build's record;
    with ``integrity``, SQLite's ``quick_check`` of every page, for the private
    snapshot the app serves: one sequential read, paid once per build).
    """
    own = db is None
    if settings.database_url:
        return _check_postgres(settings, db)
    path = db.path if db is not None else settings.sqlite_path
    if not path.exists():
        raise StartupError(f"no build found at {path}; run `dca build` (or `make serve`) first")
    if not path.is_file():
        raise StartupError(f"corrupt build at {path}: not a file; run `dca build` again")
    db = db or Database(settings)
    try:
        try:
            names = {r[0] for r in _raw_query(db, "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        except (sqlite3.DatabaseError, Exception) as e:  # noqa: BLE001 - any failure to read is a corrupt file
            raise StartupError(f"corrupt build at {path}: cannot be read as a SQLite database ({_reason(e)}); run `dca build` again") from None
        try:
            pages, page_size = _raw_query(db, "PRAGMA page_count")[0][0], _raw_query(db, "PRAGMA page_size")[0][0]
        except Exception as e:  # noqa: BLE001
            raise StartupError(f"corrupt build at {path}: {_reason(e)}; run `dca build` again") from None
        size = path.stat().st_size
        shown = settings.sqlite_path
        if pages * page_size != size:
            raise StartupError(f"corrupt build at {shown}: the file has {size} bytes but its pages need {pages * page_size} "
                               "(truncated or damaged copy?); run `dca build` again")
        if integrity:
            try:
                problems = [r[0] for r in _raw_query(db, "PRAGMA quick_check(3)")]
            except Exception as e:  # noqa: BLE001
                problems = [_reason(e)]
            if problems != ["ok"]:
                raise StartupError(f"corrupt build at {shown}: {'; '.join(problems)}; run `dca build` again")
        return _check_contents(db, names, f"build at {shown}", "run `dca build`")
    finally:
        if own:
            db.dispose()


def _check_postgres(settings: Settings, db: Database | None) -> BuildInfo:
    own = db is None
    where = settings.where
    try:
        db = db or Database(settings)
    except StartupError:
        raise
    except Exception as e:  # noqa: BLE001
        raise StartupError(f"cannot use DATABASE_URL {where}: {_reason(e)}") from None
    try:
        try:
            names = {r[0] for r in _raw_query(db, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")}
            schema = _raw_query(db, "SELECT current_schema()")[0][0]
        except Exception as e:  # noqa: BLE001
            raise StartupError(f"cannot connect to PostgreSQL at {where}: {_reason(e)}") from None
        if schema is None or not names:
            raise StartupError(
                f"no build found in PostgreSQL at {where}; run `dca build --database-url URL` to load one"
            )
        return _check_contents(db, names, f"PostgreSQL build at {where}", "run `dca build --database-url URL`")
    finally:
        if own:
            db.dispose()


def _reason(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _check_contents(db: Database, names: set[str], what: str, fix: str) -> BuildInfo:
    if "build_meta" not in names:
        if not names:
            raise StartupError(f"corrupt {what}: it holds no tables (not a dca build); {fix} again")
        raise StartupError(f"corrupt {what}: table build_meta is missing (not a dca build?); {fix} again")
    try:
        meta = dict(_raw_query(db, "SELECT key, value FROM build_meta"))
    except Exception as e:  # noqa: BLE001
        raise StartupError(f"corrupt {what}: cannot read build_meta ({_reason(e)}); {fix} again") from None
    expected = _expected_schema_version()
    if meta.get("schema_version") != expected:
        raise StartupError(
            f"stale {what}: its database layout is version {meta.get('schema_version') or 'unknown'}, "
            f"this API needs version {expected}; {fix} to rebuild it"
        )
    missing = [t for t in REQUIRED_TABLES if t not in names]
    if missing:
        raise StartupError(f"corrupt {what}: missing tables {', '.join(missing)}; {fix} again")
    absent = [k for k in META_KEYS if k not in meta]
    if absent:
        raise StartupError(f"corrupt {what}: build_meta lacks {', '.join(absent)}; {fix} again")
    try:
        counts = orjson.loads(meta["counts"])
        licenses = orjson.loads(meta["licenses"])
        descriptor = orjson.loads(meta["datapackage"])
        for table in ("agreements", "parties", "countries"):
            n = _raw_query(db, f"SELECT COUNT(*) FROM {table}")[0][0]  # table names are constants
            if table in counts and n != counts[table]:
                raise StartupError(f"corrupt {what}: {table} has {n} rows but the build recorded {counts[table]}; {fix} again")
        # Touch the pre-serialised documents once, and decode them with the build's dictionaries.
        docs = load_decoder(_raw_query(db, "SELECT name, dictionary FROM doc_dicts"))
        for _, list_json, detail_json in _raw_query(db, "SELECT agreement_id, list_json, detail_json FROM agreement_docs LIMIT 1"):
            docs.list_item(list_json), docs.detail(detail_json)
    except StartupError:
        raise
    except Exception as e:  # noqa: BLE001
        raise StartupError(f"corrupt {what}: {_reason(e)}; {fix} again") from None
    return BuildInfo(
        name=meta["name"],
        title=meta.get("title", ""),
        version=meta["version"],
        schema_version=meta["schema_version"],
        built_at=meta["built_at"],
        content_hash=meta["content_hash"],
        counts=counts,
        licenses=licenses,
        datapackage=descriptor,
        datapackage_bytes=orjson.dumps(descriptor),
    )

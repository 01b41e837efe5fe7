"""What the running app holds: the open database, the build's facts, small caches."""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import logging

from fastapi import Request

from .cursor import CursorCodec
from .db import BuildInfo, Database, StartupError
from .problems import Problem
from .queries import country_names
from .settings import Settings

log = logging.getLogger("uvicorn.error")


def code_hash() -> str:
    """A hash of the API's own source, so that ETags change when the code does."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"):
            h.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


class LRU:
    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            v = self.data.get(key)
            if v is not None:
                self.data.move_to_end(key)
            return v

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.size:
                self.data.popitem(last=False)


class Snapshot:
    """One open, checked build and everything derived from it; replaced whole on a new build."""

    def __init__(self, settings: Settings, code: str) -> None:
        db = Database(settings)
        try:
            self.file_id = _file_id(settings)
            info = db.open()
            self.countries: dict[str, str] = dict(db.execute(db.compiled("country_names", country_names)))
        except BaseException:
            db.dispose()
            raise
        self.settings = settings
        self.db = db
        self.info: BuildInfo = info
        self.cursors = CursorCodec(info.content_hash)
        self.etag_seed = f"{info.content_hash[:16]}-{code}"
        self.cache = LRU()


def _file_id(settings: Settings) -> tuple | None:
    """Identity of the SQLite file (a new build is a new file); None for PostgreSQL or no file."""
    if settings.database_url:
        return None
    try:
        st = settings.sqlite_path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class AppState:
    """The app's current snapshot, opened at start-up and swapped when a new build appears.

    A new build (``dca build`` replaces build/ atomically; ``dca build --database-url``
    swaps the PostgreSQL schema) is picked up by ``watch`` within a few seconds: it is
    checked like at start-up and, if it can be served, replaces the snapshot in one
    assignment, so a request sees one build throughout. A build that fails the checks
    is logged and ignored (the previous one goes on being served).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: Snapshot | None = None
        self._lock = threading.Lock()
        self.code = code_hash()[:12]

    @property
    def etag_seed(self) -> str:
        return self.current.etag_seed if self.current else ""

    def open(self) -> Snapshot:
        """Open and check the database; StartupError with a clear message if it cannot be served."""
        with self._lock:
            if self.current is None:
                self.current = Snapshot(self.settings, self.code)
            return self.current

    def close(self) -> None:
        with self._lock:
            if self.current is not None:
                self.current.db.dispose()
                self.current = None

    def ready(self) -> Snapshot:
        snap = self.current
        if snap is None:
            try:
                snap = self.open()
            except StartupError as e:
                raise Problem(503, f"the database cannot be served: {e}", type="unavailable") from None
        return snap

    # -- new builds ----------------------------------------------------------
    def _changed(self, snap: Snapshot) -> bool:
        if self.settings.database_url:
            rows = snap.db.execute(snap.db.compiled("content_hash", _content_hash_stmt))
            return bool(rows) and rows[0][0] != snap.info.content_hash
        now = _file_id(self.settings)
        # None: between the two renames of a swap, or removed: keep serving what is open.
        return now is not None and now != snap.file_id

    def _reopen(self) -> Snapshot | None:
        try:
            return Snapshot(self.settings, self.code)
        except StartupError as e:
            log.warning("a new build appeared but cannot be served (still serving the previous one): %s", e)
        except Exception as e:  # noqa: BLE001
            log.warning("a new build appeared but could not be opened (still serving the previous one): %s", e)
        return None

    async def watch(self, interval: float = 5.0, grace: float = 120.0) -> None:
        """Swap in new builds as they appear; the old one is closed after ``grace`` seconds."""
        import anyio

        while True:
            await anyio.sleep(interval)
            snap = self.current
            if snap is None:
                continue
            try:
                changed = await anyio.to_thread.run_sync(self._changed, snap)
            except Exception as e:  # noqa: BLE001
                log.warning("could not check for a new build: %s", e)
                continue
            if not changed:
                continue
            new = await anyio.to_thread.run_sync(self._reopen)
            if new is None:
                if snap.file_id is not None:
                    snap.file_id = _file_id(self.settings)  # do not retry the same broken file every few seconds
                continue
            self.current = new
            log.warning("serving a new build: %s %s, built %s (content hash %s)", new.info.name, new.info.version,
                        new.info.built_at, new.info.content_hash[:16])
            _dispose_later(snap, grace)


def _dispose_later(snap: Snapshot, grace: float) -> None:
    # In-flight requests and streams finish on the old connections first.
    timer = threading.Timer(grace, snap.db.dispose)
    timer.daemon = True
    timer.start()


def _content_hash_stmt():
    from sqlalchemy import select

    from .queries import META

    return select(META.c.value).where(META.c.key == "content_hash")


def ready(request: Request) -> Snapshot:
    """The current build, open (a 503 problem if it cannot be)."""
    return request.app.state.dca.ready()

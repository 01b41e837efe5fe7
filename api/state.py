"""What the running app holds: the open database, the build's facts, small caches."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import logging

from fastapi import Request

from .cursor import CursorCodec
from .db import BuildInfo, Database, SourceChanging, StartupError, file_identity, private_copy
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
    """One open, checked build and everything derived from it; replaced whole on a new build.

    For SQLite the database opened is a private copy (``api.db.private_copy``) in
    ``snapshot_dir``: the build file can then be truncated, rewritten or removed under
    the server without touching what it serves. ``file_id`` is the identity of the
    build file that was copied.
    """

    def __init__(self, settings: Settings, code: str, snapshot_dir: Path | None = None, secret: bytes = b"") -> None:
        path, self.file_id = (None, None)
        if not settings.database_url:
            path, self.file_id = private_copy(settings.sqlite_path, snapshot_dir or Path(tempfile.gettempdir()))
        db = Database(settings, path, owns_path=True)
        try:
            info = db.open(integrity=path is not None)
            self.countries: dict[str, str] = dict(db.execute(db.compiled("country_names", country_names)))
        except BaseException:
            db.dispose()
            raise
        self.settings = settings
        self.db = db
        self.info: BuildInfo = info
        self.cursors = CursorCodec(secret or os.urandom(32), info.content_hash)
        self.etag_seed = f"{info.content_hash[:16]}-{code}"
        self.cache = LRU()


def _file_id(settings: Settings) -> tuple | None:
    """Identity of the SQLite file (a new build is a new file); None for PostgreSQL or no file."""
    if settings.database_url:
        return None
    return file_identity(settings.sqlite_path)


class AppState:
    """The app's current snapshot, opened at start-up and swapped when a new build appears.

    A new build (``dca build`` replaces build/ atomically; ``dca build --database-url``
    swaps the PostgreSQL schema) is picked up by ``watch`` within a few seconds: it is
    checked like at start-up and, if it can be served, replaces the snapshot in one
    assignment, so a request sees one build throughout. A build that fails the checks
    (or a file truncated or overwritten in place) is logged and ignored: the previous
    snapshot goes on being served, and ``warnings`` (shown by /healthz and /v1/meta)
    says so until a servable build appears.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.current: Snapshot | None = None
        self._lock = threading.Lock()
        self.code = code_hash()[:12]
        # Cursors are signed with a secret that is never published (see api.cursor).
        self.secret = settings.cursor_secret.encode() if settings.cursor_secret else os.urandom(32)
        self._own_dir = settings.snapshot_dir is None
        self.snapshot_dir: Path | None = settings.snapshot_dir
        self.source_problem: str | None = None  # the build file changed and cannot be served
        self.stale: str | None = None  # the build is older than the dataset (api.freshness)
        self._dataset_print: tuple | None = None
        self._cache_control = f"public, max-age={settings.max_age}".encode()

    @property
    def warnings(self) -> list[dict[str, str]]:
        """What a client should know about the build being served (empty when all is well)."""
        out = []
        if self.source_problem:
            out.append({"code": "build-file-unservable", "message": self.source_problem})
        if self.stale:
            out.append({"code": "stale-build", "message": self.stale})
        return out

    def _snapshot(self) -> Snapshot:
        if self.snapshot_dir is None and not self.settings.database_url:
            self.snapshot_dir = Path(tempfile.mkdtemp(prefix="dca-serve-"))
        return Snapshot(self.settings, self.code, self.snapshot_dir, self.secret)

    def check_dataset(self, force: bool = False) -> None:
        """Compare the build with the dataset folder when its files changed (or ``force``); log a new warning."""
        root = self.settings.dataset_root
        snap = self.current
        if root is None or snap is None:
            self.stale = None
            return
        from .freshness import fingerprint, stale_warning

        fp = (snap.info.content_hash, fingerprint(root))
        if not force and fp == self._dataset_print:
            return
        self._dataset_print = fp
        warning = stale_warning(root, snap.info)
        if warning and warning != self.stale:
            log.warning("%s", warning)
        self.stale = warning

    @property
    def etag_seed(self) -> str:
        """The build's part of every ETag; worked out again only when the build or its warnings change."""
        key = (self.current, self.source_problem, self.stale)
        if key != self._seed_key:
            self._seed = self._make_seed()
            self._seed_key = key
        return self._seed

    _seed_key: tuple = (None, None, None)
    _seed = ""

    def _make_seed(self) -> str:
        if self.current is None:
            return ""
        if self.source_problem or self.stale:  # /v1/meta and /healthz say more: a cached copy is out of date
            tag = hashlib.blake2b(f"{self.source_problem}|{self.stale}".encode(), digest_size=4).hexdigest()
            return f"{self.current.etag_seed}-{tag}"
        return self.current.etag_seed

    @property
    def cache_control(self) -> bytes:
        """``Cache-Control`` of successful responses (the settings' max-age)."""
        return self._cache_control

    def open(self) -> Snapshot:
        """Open and check the database; StartupError with a clear message if it cannot be served."""
        with self._lock:
            if self.current is None:
                self.current = self._snapshot()
                try:
                    self.check_dataset(force=True)
                except Exception as e:  # noqa: BLE001 - a warning, never a reason not to serve
                    log.warning("could not compare the build with the dataset: %s", e)
            return self.current

    def close(self) -> None:
        with self._lock:
            if self.current is not None:
                self.current.db.dispose()
                self.current = None
            if self._own_dir and self.snapshot_dir is not None:
                shutil.rmtree(self.snapshot_dir, ignore_errors=True)
                self.snapshot_dir = None

    def ready(self) -> Snapshot:
        snap = self.current
        if snap is None:
            try:
                snap = self.open()
            except StartupError as e:
                raise Problem(503, f"the database cannot be served: {e}", type="unavailable",
                              headers={"Retry-After": "5"}) from None
        return snap

    # -- new builds ----------------------------------------------------------
    def _changed(self, snap: Snapshot) -> bool:
        if self.settings.database_url:
            rows = snap.db.execute(snap.db.compiled("content_hash", _content_hash_stmt))
            return bool(rows) and rows[0][0] != snap.info.content_hash
        now = _file_id(self.settings)
        if now is None:
            # Between the two renames of a swap, or removed: keep serving what is open.
            return False
        if now == snap.file_id:
            self.source_problem = None  # e.g. the file was put back as it was
            return False
        return now != self._seen

    _seen: tuple | None = None  # identity of a changed build file already found unservable

    def _reopen(self) -> Snapshot | None:
        served = self.current.info if self.current else None
        keep = (f"; still serving the previous build (built {served.built_at}, content hash {served.content_hash[:16]})"
                if served else "")
        try:
            return self._snapshot()
        except SourceChanging as e:
            self.source_problem = f"{e}{keep}"
            log.warning("%s; will look again", self.source_problem)
            return None
        except StartupError as e:
            self.source_problem = f"the build file changed but cannot be served: {e}{keep}"
        except Exception as e:  # noqa: BLE001
            self.source_problem = f"the build file changed but could not be opened: {e}{keep}"
        log.warning("%s", self.source_problem)
        self._seen = _file_id(self.settings)  # do not retry the same broken file every few seconds
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
                await anyio.to_thread.run_sync(self.check_dataset)
            except Exception as e:  # noqa: BLE001
                log.warning("could not compare the build with the dataset: %s", e)
            try:
                changed = await anyio.to_thread.run_sync(self._changed, snap)
            except Exception as e:  # noqa: BLE001
                log.warning("could not check for a new build: %s", e)
                continue
            if not changed:
                continue
            new = await anyio.to_thread.run_sync(self._reopen)
            if new is None:
                continue
            self.current = new
            self.source_problem = None
            self._seen = None
            log.warning("serving a new build: %s %s, built %s (content hash %s)", new.info.name, new.info.version,
                        new.info.built_at, new.info.content_hash[:16])
            _dispose_later(snap, grace)
            try:
                await anyio.to_thread.run_sync(self.check_dataset, True)
            except Exception as e:  # noqa: BLE001
                log.warning("could not compare the build with the dataset: %s", e)


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

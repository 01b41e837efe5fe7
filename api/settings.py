"""Settings of the API, read from the environment.

* ``DATABASE_URL``: serve a PostgreSQL database loaded by ``dca build --database-url``
  (``postgresql://`` or ``postgresql+psycopg://``). When unset, the SQLite build is served.
* ``DCA_DB``: path of the SQLite build (default ``build/dca.sqlite``, resolved against the
  current directory, then against the project root).
* ``DCA_PG_SCHEMA``: the PostgreSQL schema holding the tables (default ``dca``).
* ``DCA_MAX_AGE``: ``Cache-Control`` max-age in seconds for data responses (default 300).
* ``DCA_WATCH_INTERVAL``: seconds between checks for a new build, which is then served
  without a restart (default 5; 0 turns it off).
* ``DCA_SNAPSHOT_DIR``: where the server keeps its private, read-only copy of the SQLite
  build it serves (default: a new temporary directory, removed at shutdown). Put it on
  the build's filesystem for an instant reflink copy where the filesystem has them.
* ``DCA_CURSOR_SECRET``: the secret paging cursors are signed with. Default: random per
  server process, so cursors stay valid for the life of the process; set the same value
  on every process (workers, replicas) that serves one address.
* ``DCA_PACKAGE``: the package folder whose dataset the build should match, for the
  "build older than the dataset" warning (default: the folder holding ``build/`` when
  it has a datapackage.json; none for PostgreSQL).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = Path("build") / "dca.sqlite"


def resolve_sqlite_path(value: str | os.PathLike | None) -> Path:
    """An explicit path as given (made absolute); the default looked up in cwd, then the project root."""
    if value:
        return Path(value).expanduser().resolve()
    here = (Path.cwd() / DEFAULT_DB).resolve()
    if here.exists():
        return here
    root = (PROJECT_ROOT / DEFAULT_DB).resolve()
    return root if root.exists() else here


def normalise_database_url(url: str) -> str:
    """postgresql:// and postgres:// as the psycopg 3 dialect SQLAlchemy needs."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    sqlite_path: Path = field(default_factory=lambda: resolve_sqlite_path(None))
    pg_schema: str = "dca"
    max_age: int = 300
    # Threads running database work (SQLite releases the GIL while it reads).
    db_threads: int = 8
    # Streamed responses (limit=all) that may hold a PostgreSQL connection at once; more
    # wait for a free one (see api.db.Database.stream_slots). The pool holds
    # db_threads + db_streams connections per server process.
    db_streams: int = 8
    # Seconds between checks for a new build (0: never; serve what was open at start-up).
    watch_interval: float = 5.0
    # Run bounded index lookups on SQLite on the event loop (faster than a thread hop).
    inline: bool = True
    snapshot_dir: Path | None = None
    cursor_secret: str | None = field(default=None, repr=False)
    package_root: Path | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.sqlite_path, Path):
            object.__setattr__(self, "sqlite_path", resolve_sqlite_path(self.sqlite_path))

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = dict(
            database_url=env.get("DATABASE_URL") or None,
            sqlite_path=resolve_sqlite_path(env.get("DCA_DB")),
            pg_schema=env.get("DCA_PG_SCHEMA", "dca"),
            max_age=int(env.get("DCA_MAX_AGE", "300")),
            watch_interval=float(env.get("DCA_WATCH_INTERVAL", "5")),
            inline=env.get("DCA_INLINE", "1") not in ("0", "false", "no"),
            snapshot_dir=Path(env["DCA_SNAPSHOT_DIR"]).expanduser().resolve() if env.get("DCA_SNAPSHOT_DIR") else None,
            cursor_secret=env.get("DCA_CURSOR_SECRET") or None,
            package_root=Path(env["DCA_PACKAGE"]).expanduser().resolve() if env.get("DCA_PACKAGE") else None,
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        if isinstance(values.get("sqlite_path"), (str, os.PathLike)):
            values["sqlite_path"] = resolve_sqlite_path(values["sqlite_path"])
        return cls(**values)

    @property
    def dataset_root(self) -> Path | None:
        """The package folder the build should match (see DCA_PACKAGE), or None."""
        if self.package_root is not None:
            return self.package_root
        if self.database_url:
            return None
        root = self.sqlite_path.parent.parent
        return root if (root / "datapackage.json").is_file() else None

    @property
    def backend(self) -> str:
        return "postgresql" if self.database_url else "sqlite"

    @property
    def where(self) -> str:
        """Where the data comes from, for messages (no password)."""
        if not self.database_url:
            return str(self.sqlite_path)
        from sqlalchemy.engine import make_url

        return make_url(normalise_database_url(self.database_url)).render_as_string(hide_password=True) + f" (schema {self.pg_schema})"

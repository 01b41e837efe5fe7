"""`dca serve`: check the build, then serve the API with uvicorn.

The build is checked before the server starts (missing, stale or corrupt database,
unreachable PostgreSQL), so a bad build ends in one clear message and a non-zero exit
instead of a server that answers 500s. The app checks again at start-up (lifespan)
for servers started another way (``uvicorn api.main:app``).

    python -m scripts.serve [--host H] [--port P] [--db PATH]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path


class ServeError(Exception):
    """The build cannot be served; the message says why and what to do."""


def check(db: Path | None = None, database_url: str | None = None):
    """The settings to serve with, after checking the build (ServeError if it cannot be served)."""
    from api.db import StartupError, check_database
    from api.settings import Settings

    from .atomic import recover_dir

    settings = Settings.from_env(sqlite_path=db, database_url=database_url)
    # A build killed between its two renames leaves build/ missing and whole copies beside it.
    recover_dir(Path(settings.sqlite_path).parent)
    try:
        info = check_database(settings)
    except StartupError as e:
        raise ServeError(str(e)) from None
    return settings, info


def serve(host: str = "127.0.0.1", port: int = 8000, db: Path | None = None, database_url: str | None = None,
          access_log: bool = False, workers: int = 1, say=print) -> None:
    """Serve in this process, or with ``workers`` > 1 in that many processes on one port.

    Workers are started by uvicorn and build the app themselves (``api.main:create_app``),
    so the checked database is handed to them in the environment (DCA_DB or DATABASE_URL).
    """
    settings, info = check(db, database_url)
    import uvicorn

    from api.main import create_app
    from api.serving import http_protocol

    say(f"Serving {info.name} {info.version} (built {info.built_at}, {info.counts.get('agreements', 0)} agreements) "
        f"from {settings.where} at http://{host}:{port} (docs at /docs)")
    if settings.dataset_root is not None:
        from api.freshness import stale_warning

        warning = stale_warning(settings.dataset_root, info)
        if warning:
            say(f"warning: {warning}")
    extra: dict = {}
    if workers > 1:
        os.environ.update({"DATABASE_URL": settings.database_url} if settings.database_url
                          else {"DCA_DB": str(settings.sqlite_path)})
        app: object = "api.main:create_app"
        extra = {"factory": True, "workers": workers}
    else:
        app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        http=http_protocol(),  # httptools, one socket write per response (api.serving)
        access_log=access_log,
        proxy_headers=True,
        log_level="info",
        **extra,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--db", type=Path, default=None, help="SQLite build (default build/dca.sqlite)")
    ap.add_argument("--access-log", action="store_true")
    args = ap.parse_args(argv)
    try:
        serve(args.host, args.port, args.db, access_log=args.access_log)
    except ServeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

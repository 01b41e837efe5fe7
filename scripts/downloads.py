"""The files a build offers for download, for the API's /v1/downloads.

`list_downloads(build_dir)` reads build/exports/datapackage.json (written by
`dca export` / `dca build`) and adds the descriptor itself and the SQLite database.
Each entry: name, path (relative to the build folder, '/'-separated), format,
mediatype, bytes and sha256. Sizes and checksums come from the exports descriptor
when the file on disk still has the recorded size; otherwise, and for the
database, they are computed from the file. Files that are missing are left out.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

EXPORTS_DIR = "exports"
DESCRIPTOR = "datapackage.json"
DATABASE = "dca.sqlite"


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _entry(build_dir: Path, rel: str, name: str, fmt: str, mediatype: str,
           size: int | None = None, sha256: str | None = None) -> dict | None:
    path = build_dir / rel
    if not path.is_file():
        return None
    actual = path.stat().st_size
    if size != actual or not sha256:
        size, sha256 = actual, _file_sha256(path)
    return {"name": name, "path": rel, "format": fmt, "mediatype": mediatype, "bytes": size, "sha256": sha256}


def list_downloads(build_dir: Path | str) -> list[dict]:
    """The downloadable files of a build, exports first (in descriptor order), then the database."""
    build_dir = Path(build_dir)
    out: list[dict] = []
    descriptor_path = build_dir / EXPORTS_DIR / DESCRIPTOR
    try:
        descriptor = json.loads(descriptor_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        descriptor = {}
    for res in descriptor.get("resources", []) if isinstance(descriptor, dict) else []:
        path = res.get("path")
        if not isinstance(path, str) or "/" in path or path.startswith("."):
            continue  # only plain file names inside exports/
        digest = res.get("hash", "")
        digest = digest[len("sha256:"):] if isinstance(digest, str) and digest.startswith("sha256:") else None
        e = _entry(build_dir, f"{EXPORTS_DIR}/{path}", res.get("name", path), res.get("format", ""),
                   res.get("mediatype", "application/octet-stream"), res.get("bytes"), digest)
        if e:
            out.append(e)
    if descriptor:
        e = _entry(build_dir, f"{EXPORTS_DIR}/{DESCRIPTOR}", "exports_datapackage", "json", "application/json")
        if e:
            out.append(e)
    e = _entry(build_dir, DATABASE, "database_sqlite", "sqlite", "application/vnd.sqlite3")
    if e:
        out.append(e)
    return out

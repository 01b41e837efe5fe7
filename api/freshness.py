"""Whether the build being served still matches the dataset it was built from.

A build records the content hash of the package it was made from (``scripts.build.
content_hash``: descriptor, schemas, data). When the package folder is known (see
``Settings.dataset_root``), the API hashes it the same way at start-up and whenever
one of its files changes (a cheap ``stat`` fingerprint decides when), and warns, in
the log and in /v1/meta and /healthz, when the dataset has moved on without a new
build: the data served are then older than the data in the repository.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .db import BuildInfo


def fingerprint(root: Path) -> tuple:
    """Size and mtime of the descriptor and each file it names: changes when the dataset is edited."""
    files = [root / "datapackage.json"]
    try:
        descriptor = json.loads(files[0].read_text(encoding="utf-8"))
        for r in descriptor.get("resources", []):
            for key in ("path", "schema"):
                if isinstance(r.get(key), str):
                    files.append(root / r[key])
    except (OSError, ValueError, AttributeError):
        pass
    out = []
    for f in files:
        try:
            st = os.stat(f)
            out.append((str(f), st.st_size, st.st_mtime_ns))
        except OSError:
            out.append((str(f), None, None))
    return tuple(out)


def stale_warning(root: Path, info: BuildInfo) -> str | None:
    """A sentence for the log and /v1/meta when the dataset at ``root`` is not what was built, else None."""
    from schema.tableschema import load_package
    from scripts.build import content_hash

    try:
        digest = content_hash(load_package(root))
    except Exception as e:  # noqa: BLE001 - a dataset being edited may not load; say so, do not fail
        return (f"the dataset at {root} cannot be read to compare it with the build ({str(e).splitlines()[0] if str(e) else type(e).__name__}); "
                "the build being served may be out of date")
    if digest == info.content_hash:
        return None
    return (f"the build being served (built {info.built_at}, content hash {info.content_hash[:16]}) is older than the "
            f"dataset at {root} (content hash {digest[:16]}): its data are out of date; run `dca build` to rebuild")

"""`dca release`: dist/<name>-<version>.zip, the versioned, reproducible release bundle.

Everything under one top folder <name>-<version>/: the data package (descriptor,
schemas, CSVs), the researcher exports built fresh from that package, the codebook
generated fresh, README, CHANGELOG, CITATION.cff, LICENSE and SHA256SUMS.

Reproducible: the same commit gives the same bytes. Entries are sorted, every
entry has the same timestamp (1980-01-01 00:00:00, the earliest ZIP can store),
permissions, creator system and compression level, and nothing that goes in
depends on the time or the machine.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from schema.tableschema import load_package

from .atomic import write_bytes_atomic

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
ROOT_FILES = ("README.md", "CHANGELOG.md", "CITATION.cff", "LICENSE")
SUMS = "SHA256SUMS"

Progress = Callable[[str], None] | None


class ReleaseError(Exception):
    """The release could not be made; the message says why."""


@dataclass
class ReleaseResult:
    archive: Path
    sha256: str
    files: list[str]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_release_metadata(root: Path) -> list[str]:
    """Problems that stop a release: missing files, versions that disagree."""
    pkg = load_package(root)
    problems = [f"{name} is missing" for name in ROOT_FILES if not (root / name).is_file()]
    version = pkg.version
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version or ""):
        problems.append(f"datapackage.json: version {version!r} is not a semantic version (MAJOR.MINOR.PATCH)")
    cff_path = root / "CITATION.cff"
    if cff_path.is_file():
        try:
            cff = yaml.safe_load(cff_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            problems.append(f"CITATION.cff is not valid YAML: {e}")
            cff = {}
        if str(cff.get("version", "")) != version:
            problems.append(f"CITATION.cff: version {cff.get('version')!r} differs from datapackage.json's {version!r}")
    log = root / "CHANGELOG.md"
    if log.is_file() and not re.search(rf"^## \[{re.escape(version)}\]", log.read_text(encoding="utf-8"), re.M):
        problems.append(f"CHANGELOG.md has no section '## [{version}]' for this release")
    return problems


def release_files(root: Path, progress: Progress = None) -> dict[str, bytes]:
    """Every file of the bundle, by path inside the top folder, as bytes (SHA256SUMS included)."""
    from .codebook import render_codebook
    from .export import render_exports

    say = progress or (lambda m: None)
    pkg = load_package(root)
    files: dict[str, bytes] = {"datapackage.json": (root / "datapackage.json").read_bytes()}
    for path in sorted((root / "schema").glob("*.json")):
        files[f"schema/{path.name}"] = path.read_bytes()
    for r in pkg.resources:
        files[r.path] = (root / r.path).read_bytes()
        if r.schema_path:
            files[r.schema_path] = (root / r.schema_path).read_bytes()
    say("building the exports…")
    for name, data in render_exports(pkg).items():
        files[f"exports/{name}"] = data
    say("generating the codebook…")
    for name, data in render_codebook(root).items():
        files[f"docs/{name}"] = data
    for name in ROOT_FILES:
        files[name] = (root / name).read_bytes()
    if "README.md" in files:  # its coverage block from this data, whatever the committed copy says
        from .coverage import coverage_markdown, replace_block

        readme = files["README.md"].decode("utf-8")
        try:
            files["README.md"] = replace_block(readme, coverage_markdown(root)).encode("utf-8")
        except ValueError:
            pass
    sums = "".join(f"{_sha256(files[p])}  {p}\n" for p in sorted(files))
    files[SUMS] = sums.encode("utf-8")
    return files


def zip_bytes(top: str, files: dict[str, bytes]) -> bytes:
    """A deterministic ZIP archive of `files` under the folder `top`."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{top}/{path}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so that the permissions below are honoured
            info.external_attr = FILE_MODE << 16
            zf.writestr(info, files[path], compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


def build_release(root: Path | str, out: Path | str, progress: Progress = None, validate: bool = True) -> ReleaseResult:
    """Write <out>/<name>-<version>.zip and its .sha256 file; refuse an invalid or inconsistent package."""
    root = Path(root).resolve()
    say = progress or (lambda m: None)
    if validate:
        from .findings import render_text
        from .validate import validate_package

        say("validating…")
        findings = validate_package(root)
        if findings:
            raise ReleaseError("the package does not validate:\n" + render_text(findings).rstrip())
    problems = check_release_metadata(root)
    if problems:
        raise ReleaseError("; ".join(problems))
    pkg = load_package(root)
    top = f"{pkg.name}-{pkg.version}"
    files = release_files(root, progress)
    say("writing the archive…")
    data = zip_bytes(top, files)
    out = Path(out)
    archive = out / f"{top}.zip"
    digest = _sha256(data)
    write_bytes_atomic(archive, data)
    write_bytes_atomic(out / f"{top}.zip.sha256", f"{digest}  {archive.name}\n".encode("utf-8"))
    for f in (archive, out / f"{top}.zip.sha256"):
        os.chmod(f, 0o644)  # downloads: readable by all (atomic writes start as 0600)
    return ReleaseResult(archive, digest, sorted(files))

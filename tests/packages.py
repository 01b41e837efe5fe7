"""Assembling test packages: the real descriptor, schemas and country table,
with synthetic data from tests/fixtures, so fixtures never copy the schemas."""
from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BASE = FIXTURES / "base"


def copy_real_package(dest: Path) -> Path:
    """A copy of the committed package (descriptor, schemas, real dataset) to build from."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "datapackage.json", dest / "datapackage.json")
    shutil.copytree(ROOT / "schema", dest / "schema", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(ROOT / "dataset", dest / "dataset")
    return dest


def make_package(dest: Path, case: str | None = None) -> Path:
    """Copy of the package with the base fixture data, overlaid with a broken case.

    A case folder holds replacement CSV files (raw bytes, copied as they are), an
    optional `DELETE` file listing dataset files to remove, and `expected.txt`.
    """
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "datapackage.json", dest / "datapackage.json")
    shutil.copytree(ROOT / "schema", dest / "schema", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (dest / "dataset").mkdir(exist_ok=True)
    shutil.copy2(ROOT / "dataset" / "countries.csv", dest / "dataset" / "countries.csv")
    for f in BASE.glob("*.csv"):
        shutil.copy2(f, dest / "dataset" / f.name)
    if case:
        folder = FIXTURES / case
        for f in folder.glob("*.csv"):
            shutil.copy2(f, dest / "dataset" / f.name)
        delete = folder / "DELETE"
        if delete.exists():
            for name in delete.read_text().split():
                (dest / "dataset" / name).unlink()
    return dest


def cases() -> list[str]:
    return sorted(p.name for p in FIXTURES.iterdir() if p.is_dir() and (p / "expected.txt").exists())

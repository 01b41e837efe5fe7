"""Vocabularies (allowed codes) and field descriptions, read from the Table Schemas.

Never hard-coded: the schema files in ``schema/`` are the single source.
"""
from __future__ import annotations

import functools

from functools import lru_cache
from pathlib import Path

from schema.tableschema import Field, load_package, load_schema, parse_categories

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"


@lru_cache(maxsize=1)
def fields() -> dict[str, dict[str, Field]]:
    """resource name -> field name -> Field."""
    root = SCHEMA_DIR.parent
    if (root / "datapackage.json").exists():
        pkg = load_package(root)
        return {r.name: {f.name: f for f in r.fields} for r in pkg.resources}
    out = {}
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = load_schema(path)
        out[path.name.split(".")[0]] = {
            f["name"]: Field(f["name"], f.get("type", "string"), f.get("title", f["name"]), f.get("description", ""), f.get("constraints", {}),
                               parse_categories(f))
            for f in schema.get("fields", [])
        }
    return out


def field(resource: str, name: str) -> Field:
    return fields()[resource][name]


def enum(resource: str, name: str) -> list[str]:
    return list(_enum(resource, name))


@functools.lru_cache(maxsize=None)
def _enum(resource: str, name: str) -> tuple[str, ...]:
    """The vocabulary, worked out once (requests check values against it)."""
    values = field(resource, name).enum
    if not values:
        raise KeyError(f"{resource}.{name} has no vocabulary")
    return tuple(values)


def describe(resource: str, name: str) -> str:
    f = field(resource, name)
    return f"{f.title}. {f.description}".strip()

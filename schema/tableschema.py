"""Reading the package descriptor and its Table Schemas.

Kept free of frictionless objects on purpose: the validator, the build, the API and
the codebook all need the same plain facts (field names, types, vocabularies and
their definitions, keys), and reading JSON is faster and more predictable than
instantiating frictionless metadata classes.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# A vocabulary code is defined in its field's description as "`code` = definition;"
_DEFINITION = re.compile(r"`([a-z0-9_]+)` = (.+?)(?=; `[a-z0-9_]+` = |\.?$)", re.S)


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    description: str
    constraints: dict[str, Any]
    # Data Package v2 `categories`: [{"value": code, "label": short label}, ...]. The vocabulary's source;
    # `constraints.enum` repeats the codes because the reference validator (frictionless 5) checks only that.
    categories: tuple[tuple[str, str], ...] = ()

    @property
    def required(self) -> bool:
        return bool(self.constraints.get("required"))

    @property
    def enum(self) -> list[str] | None:
        """The allowed codes, in the order of `categories` (or of `constraints.enum` for a schema without them)."""
        if self.categories:
            return [value for value, _ in self.categories]
        return self.constraints.get("enum")

    def labels(self) -> dict[str, str]:
        """Each code's label from `categories` (what Stata value labels show); empty without categories."""
        return dict(self.categories)

    def definitions(self) -> dict[str, str]:
        """Definitions of the vocabulary codes, parsed from the description."""
        return {m.group(1): m.group(2).strip() for m in _DEFINITION.finditer(self.description)}


@dataclass(frozen=True)
class ForeignKey:
    fields: list[str]
    resource: str
    reference_fields: list[str]


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    schema_path: str
    title: str
    description: str
    fields: list[Field]
    primary_key: list[str]
    foreign_keys: list[ForeignKey]
    missing_values: list[str] = field(default_factory=lambda: [""])

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


@dataclass(frozen=True)
class Package:
    root: Path
    descriptor: dict[str, Any]
    resources: list[Resource]

    @property
    def name(self) -> str:
        return self.descriptor.get("name", "")

    @property
    def version(self) -> str:
        return self.descriptor.get("version", "")

    def resource(self, name: str) -> Resource:
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(name)


def parse_categories(field: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """A field's `categories` as (value, label) pairs. Both v2 forms are read: a list of values (each its own
    label) or a list of {"value", "label"} objects."""
    out = []
    for c in field.get("categories") or []:
        if isinstance(c, dict):
            out.append((str(c["value"]), str(c.get("label", c["value"]))))
        else:
            out.append((str(c), str(c)))
    return tuple(out)


MAX_DESCRIPTOR_BYTES = 16 * 1024 * 1024


class DescriptorError(Exception):
    """The descriptor or a schema it points to cannot be read; the message says why."""

    def __init__(self, file: str, message: str):
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


def _read_json(path: Path, label: str) -> dict[str, Any]:
    try:
        if not path.is_file():  # follows symlinks: a device or pipe would never end
            if path.exists():
                raise DescriptorError(label, "is not a regular file; it must be a JSON file")
            raise FileNotFoundError(path)
        if path.stat().st_size > MAX_DESCRIPTOR_BYTES:
            raise DescriptorError(label, f"is larger than {MAX_DESCRIPTOR_BYTES:,} bytes; it cannot be the intended JSON file")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DescriptorError(label, "file not found") from None
    except OSError as e:
        raise DescriptorError(label, f"cannot be read: {e.strerror}") from None
    except UnicodeDecodeError as e:
        raise DescriptorError(label, f"is not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DescriptorError(label, f"is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}") from None
    if not isinstance(data, dict):
        raise DescriptorError(label, "must contain a JSON object")
    return data


def load_schema(path: Path, label: str | None = None) -> dict[str, Any]:
    return _read_json(path, label or str(path))


def read_descriptor(root: Path | str) -> dict[str, Any]:
    """The JSON of ``datapackage.json`` in a package folder (or the file itself)."""
    root = Path(root)
    return _read_json(root if root.is_file() else root / "datapackage.json", "datapackage.json")


def load_package(root: Path | str) -> Package:
    """Load ``datapackage.json`` from a package folder (or the file itself).

    Only the shape this module relies on is checked here (DescriptorError, never a
    TypeError, for anything else); `dca validate` holds the descriptor to the
    standard first (scripts/descriptor.py).
    """
    root = Path(root)
    descriptor_path = root if root.is_file() else root / "datapackage.json"
    root = descriptor_path.parent
    descriptor = _read_json(descriptor_path, "datapackage.json")
    try:
        return _load(root, descriptor)
    except (TypeError, KeyError, AttributeError, ValueError) as e:
        raise DescriptorError("datapackage.json", f"is not a valid data package descriptor ({type(e).__name__}: {e}); "
                              "`dca validate` says what to fix") from None


def _load(root: Path, descriptor: dict[str, Any]) -> Package:
    resources = []
    raw_resources = descriptor.get("resources")
    if not isinstance(raw_resources, list) or not raw_resources:
        raise DescriptorError("datapackage.json", "has no 'resources' list")
    for i, res in enumerate(raw_resources):
        if not isinstance(res, dict) or "name" not in res or "path" not in res:
            raise DescriptorError("datapackage.json", f"resource #{i + 1} needs a 'name' and a 'path'")
        if not isinstance(res["name"], str) or not isinstance(res["path"], str):
            raise DescriptorError("datapackage.json", f"resource #{i + 1}: 'name' and 'path' must each be one string")
        schema = res.get("schema")
        if isinstance(schema, str):
            schema_path = schema
            schema = load_schema(root / schema, schema)
        elif isinstance(schema, dict):
            schema_path = ""
        else:
            raise DescriptorError("datapackage.json", f"resource '{res['name']}' has no 'schema'")
        label = schema_path or "datapackage.json"
        if not isinstance(schema.get("fields"), list) or not all(isinstance(f, dict) and isinstance(f.get("name"), str) for f in schema["fields"]):
            raise DescriptorError(label, f"the schema of '{res['name']}' needs a 'fields' list of objects with a 'name'")
        names = [f["name"] for f in schema["fields"]]
        if len(set(names)) != len(names):
            raise DescriptorError(label, f"the schema of '{res['name']}' names a field more than once: "
                                  + ", ".join(sorted({n for n in names if names.count(n) > 1})))
        fields = [
            Field(
                name=f["name"],
                type=f.get("type", "string"),
                title=f.get("title", f["name"]),
                description=f.get("description", ""),
                constraints=f.get("constraints", {}),
                categories=parse_categories(f),
            )
            for f in schema["fields"]
        ]
        pk = schema.get("primaryKey", [])
        pk = [pk] if isinstance(pk, str) else list(pk)
        fks = []
        for fk in schema.get("foreignKeys", []):
            fk_fields = fk["fields"] if isinstance(fk["fields"], list) else [fk["fields"]]
            ref = fk["reference"]
            ref_fields = ref["fields"] if isinstance(ref["fields"], list) else [ref["fields"]]
            fks.append(ForeignKey(fk_fields, ref.get("resource") or res["name"], ref_fields))
        resources.append(
            Resource(
                name=res["name"],
                path=res["path"],
                schema_path=schema_path,
                title=res.get("title", res["name"]),
                description=res.get("description", schema.get("description", "")),
                fields=fields,
                primary_key=pk,
                foreign_keys=fks,
                missing_values=schema.get("missingValues", [""]),
            )
        )
    return Package(root=root, descriptor=descriptor, resources=resources)

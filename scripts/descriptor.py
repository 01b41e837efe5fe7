"""Is the descriptor (datapackage.json and its Table Schemas) as the standard wants it,
and as dca can check the data against it?

Two layers. First frictionless' own descriptor check (the JSON profiles of the Data
Package and Table Schema standards plus its consistency checks: unique names,
primary and foreign keys naming real fields, safe paths), each schema file on its
own so that a finding names the file to fix. Then what the reference validator only
finds once it opens the data, or where dca reads the data more narrowly than the
standard allows: one CSV file per resource in UTF-8 with the default dialect, the
field types and constraints dca checks, regular expressions that compile, foreign
keys to resources and fields that exist, and the resources the dataset is made of.
Anything found here is a finding on the descriptor file, never a traceback, and
`dca validate` does not read the data until the descriptor is sound.
"""
from __future__ import annotations

import codecs
import copy
import re
from pathlib import Path
from typing import Any

import polars as pl

from schema.tableschema import DescriptorError, load_schema, read_descriptor

from .findings import Finding

DATASET_RESOURCES = ["countries", "agreements", "parties", "sources", "equipment", "status_history"]
CHECKED_TYPES = {"string", "integer", "number", "date", "year", "boolean"}
NUMERIC_TYPES = {"integer", "number", "year"}
CHECKED_CONSTRAINTS = {"required", "unique", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum"}
DEFAULT_DIALECT = {"delimiter": ",", "quoteChar": '"', "doubleQuote": True, "header": True,
                   "lineTerminator": "\n", "skipInitialSpace": False, "headerRowCount": 1, "csvddfVersion": 1.2}
# `categories` (Data Package v2) carries a vocabulary's codes and labels; dca checks the codes
# through `constraints.enum`, which a test holds equal to the categories.
FIELD_KEYS = {"name", "type", "title", "description", "constraints", "format", "example", "rdfType", "categories"}
CODE = "descriptor-error"


def _f(file: str, message: str) -> Finding:
    return Finding(file, None, None, message, CODE)


def _frictionless_messages(report) -> list[str]:
    out = []
    for e in report.errors:
        msg = e.message
        for prefix in ("The data package has an error: ", "The data resource has an error: "):
            msg = msg.replace(prefix, "")
        out.append(msg)
    return out


def _schema_findings(file: str, schema: Any, where: str) -> list[Finding]:
    """Frictionless' Table Schema check, then what dca needs of a schema to check data with it."""
    from frictionless import Schema

    if not isinstance(schema, dict):
        return [_f(file, f"{where}a Table Schema must be a JSON object")]
    try:
        report = Schema.validate_descriptor(copy.deepcopy(schema))
        messages = _frictionless_messages(report)
    except Exception as e:  # frictionless raises on some malformed input instead of reporting it
        messages = [f"is not a valid Table Schema ({e})"]
    if messages:
        return [_f(file, f"{where}{m}; see https://specs.frictionlessdata.io/table-schema/") for m in dict.fromkeys(messages)]
    out = []
    for i, field in enumerate(schema.get("fields", [])):
        name = field.get("name", f"#{i + 1}")
        label = f"{where}field '{name}'"
        ftype = field.get("type", "string")
        if ftype not in CHECKED_TYPES:
            out.append(_f(file, f"{label} has type '{ftype}', which dca does not check; use one of {', '.join(sorted(CHECKED_TYPES))}"))
        if field.get("format", "default") != "default":
            out.append(_f(file, f"{label} has format '{field['format']}', which dca does not check; remove it (dates are read as YYYY-MM-DD)"))
        for key in sorted(set(field) - FIELD_KEYS):
            out.append(_f(file, f"{label} has the property '{key}', which changes how cells are read and dca does not support; remove it"))
        cons = field.get("constraints", {})
        for key in sorted(set(cons) - CHECKED_CONSTRAINTS):
            out.append(_f(file, f"{label} has the constraint '{key}', which dca does not check; remove it"))
        for key in ("minimum", "maximum"):
            if key in cons and (ftype not in NUMERIC_TYPES or isinstance(cons[key], bool) or not isinstance(cons[key], (int, float))):
                out.append(_f(file, f"{label}: constraint {key} must be a number on an integer, number or year field (it is {cons[key]!r} on a {ftype} field)"))
        if "pattern" in cons:
            out.extend(_pattern_findings(file, label, cons["pattern"]))
        if "enum" in cons and not cons["enum"]:
            out.append(_f(file, f"{label}: constraint enum is empty, so no value could be valid; list the allowed values"))
    return out


def _pattern_findings(file: str, label: str, pattern: Any) -> list[Finding]:
    if not isinstance(pattern, str):
        return [_f(file, f"{label}: constraint pattern must be a string (a regular expression)")]
    try:
        re.compile(pattern)
    except re.error as e:
        return [_f(file, f"{label}: constraint pattern {pattern!r} is not a valid regular expression ({e}); correct it")]
    try:
        pl.Series([""], dtype=pl.Utf8).str.contains(pattern)
    except pl.exceptions.PolarsError:
        return [_f(file, f"{label}: constraint pattern {pattern!r} uses a feature (such as look-around or back-references) "
                         "that dca's fast checks cannot run; write it without")]
    return []


def _resource_findings(res: dict, where: str) -> list[Finding]:
    out = []
    path = res.get("path")
    if not isinstance(path, str):
        out.append(_f("datapackage.json", f"{where}: 'path' must be one file name (dca reads one CSV file per resource), not {type(path).__name__} {path!r}"[:300]))
    fmt = res.get("format", "csv")
    if fmt != "csv":
        out.append(_f("datapackage.json", f"{where}: format '{fmt}' is not supported; the dataset's files are CSV (\"format\": \"csv\")"))
    enc = res.get("encoding", "utf-8")
    if isinstance(enc, str):
        try:
            known = codecs.lookup(enc).name
        except LookupError:
            known = None
        if known is None:
            out.append(_f("datapackage.json", f"{where}: encoding '{enc}' is not a known text encoding; use \"utf-8\""))
        elif known != "utf-8":
            out.append(_f("datapackage.json", f"{where}: encoding '{enc}' is not supported; the dataset's files are UTF-8 (\"encoding\": \"utf-8\")"))
    for key in ("compression", "innerpath"):
        if key in res:
            out.append(_f("datapackage.json", f"{where}: '{key}' is not supported; the dataset's files are plain CSV"))
    dialect = res.get("dialect")
    if isinstance(dialect, dict):
        for key, value in dialect.items():
            if key not in DEFAULT_DIALECT or (value != DEFAULT_DIALECT[key] and not (key == "lineTerminator" and value == "\r\n")):
                out.append(_f("datapackage.json", f"{where}: dialect {key}={value!r} is not supported; the files are comma-separated with a header row, so remove it"))
    elif dialect is not None:
        out.append(_f("datapackage.json", f"{where}: 'dialect' must be an object"))
    return out


def descriptor_findings(root: Path | str) -> list[Finding]:
    """Findings on datapackage.json and the schema files; empty when the data can be checked."""
    from frictionless import Package

    root = Path(root)
    try:
        descriptor = read_descriptor(root)
    except DescriptorError as e:
        return [_f(e.file, e.message)]
    resources = descriptor.get("resources")
    if not isinstance(resources, list) or not resources:
        return [_f("datapackage.json", "has no 'resources' list; it must list the dataset's files: " + ", ".join(DATASET_RESOURCES))]
    out: list[Finding] = []
    schemas: dict[str, dict] = {}
    checkable = copy.deepcopy(descriptor)
    for i, res in enumerate(resources):
        if not isinstance(res, dict):
            out.append(_f("datapackage.json", f"resource #{i + 1} must be a JSON object"))
            continue
        where = f"resource '{res.get('name', f'#{i + 1}')}'"
        out.extend(_resource_findings(res, where))
        schema = res.get("schema")
        if isinstance(schema, str):
            try:
                schema_data = load_schema(root / schema, schema) if _safe(schema) else None
            except DescriptorError as e:
                out.append(_f(e.file, e.message + f" ({where} names it as its schema)"))
                continue
            if schema_data is None:
                continue  # the unsafe path is reported by the package check below
            found = _schema_findings(schema, schema_data, "")
            out.extend(found)
            if not found:
                schemas[str(res.get("name"))] = schema_data
            # each schema is checked on its own above (once: it is slow); the package check sees a placeholder
            checkable["resources"][i]["schema"] = {"fields": []}
        elif isinstance(schema, dict):
            found = _schema_findings("datapackage.json", schema, f"{where}: inline schema: ")
            out.extend(found)
            if not found:
                schemas[str(res.get("name"))] = schema
            checkable["resources"][i]["schema"] = {"fields": []}
    try:
        report = Package.validate_descriptor(checkable, basepath=str(root))
        messages = _frictionless_messages(report)
    except Exception as e:  # pragma: no cover - frictionless raises on some malformed input
        messages = [f"is not a valid data package descriptor ({e})"]
    out.extend(_f("datapackage.json", f"{m}; see https://specs.frictionlessdata.io/data-package/") for m in dict.fromkeys(messages))
    out.extend(_package_findings(resources, schemas))
    return out


def _safe(path: str) -> bool:
    return not (Path(path).is_absolute() or ".." in Path(path).parts)


def _package_findings(resources: list, schemas: dict[str, dict]) -> list[Finding]:
    """The dataset's resources, each once, and foreign keys that lead somewhere."""
    out = []
    names = [r.get("name") for r in resources if isinstance(r, dict)]
    for name in DATASET_RESOURCES:
        n = names.count(name)
        if n == 0:
            out.append(_f("datapackage.json", f"the resource '{name}' is missing; the dataset is made of {', '.join(DATASET_RESOURCES)}: put it back"))
    for res_name, schema in schemas.items():
        fields_of = {n: {f.get("name") for f in s.get("fields", []) if isinstance(f, dict)} for n, s in schemas.items()}
        for fk in schema.get("foreignKeys", []) or []:
            ref = fk.get("reference", {}) if isinstance(fk, dict) else {}
            target = ref.get("resource") or res_name
            ref_fields = ref.get("fields")
            ref_fields = [ref_fields] if isinstance(ref_fields, str) else list(ref_fields or [])
            if target not in names:
                out.append(_f("datapackage.json", f"resource '{res_name}': a foreign key refers to the resource '{target}', which the package does not list"))
            elif target in fields_of:
                for f in ref_fields:
                    if f not in fields_of[target]:
                        out.append(_f("datapackage.json", f"resource '{res_name}': a foreign key refers to the field '{f}' of '{target}', which that schema does not have"))
    return out

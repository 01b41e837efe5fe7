"""The Table Schemas are the one source of truth: everything else is held to them."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sqlalchemy import Date, Float, Integer, String
from sqlmodel.sql.sqltypes import AutoString

from schema.tableschema import load_package
from schema.tables import RESOURCE_TABLES
from scripts.countries import country_rows, render_csv
from tests.conftest import ROOT

PKG = load_package(ROOT)
SQL_TYPES = {"string": (String, AutoString), "integer": Integer, "number": Float, "date": Date}


def test_every_resource_has_a_sqlmodel_table_and_vice_versa():
    assert [r.name for r in PKG.resources] == list(RESOURCE_TABLES)


@pytest.mark.parametrize("resource", PKG.resources, ids=lambda r: r.name)
def test_sqlmodel_table_agrees_with_table_schema_field_by_field(resource):
    table = RESOURCE_TABLES[resource.name].__table__
    assert [c.name for c in table.columns] == resource.field_names
    for f in resource.fields:
        col = table.columns[f.name]
        assert isinstance(col.type, SQL_TYPES[f.type]), f"{resource.name}.{f.name}: {col.type!r} vs {f.type}"
        in_pk = f.name in resource.primary_key
        assert col.nullable == (not f.required and not in_pk), f"{resource.name}.{f.name} nullability"
    assert [c.name for c in table.primary_key.columns] == resource.primary_key
    sql_fks = {(fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys}
    json_fks = {(fk.fields[0], fk.resource, fk.reference_fields[0]) for fk in resource.foreign_keys}
    assert sql_fks == json_fks


@pytest.mark.parametrize(
    "resource,field",
    [(r, f) for r in PKG.resources for f in r.fields if f.enum],
    ids=lambda x: getattr(x, "name", ""),
)
def test_every_vocabulary_code_is_defined_in_its_description(resource, field):
    defs = field.definitions()
    if defs:
        assert list(defs) == field.enum
        assert all(len(d) > 5 for d in defs.values())
    else:
        # A field that reuses another field's vocabulary says which, and lists the codes.
        m = re.search(r"codes of (\w+)\.(\w+)", field.description)
        assert m, f"{resource.name}.{field.name}: define each code in the description"
        other = PKG.resource(m.group(1)).field(m.group(2))
        assert field.enum == other.enum
        assert all(f"`{c}`" in field.description for c in field.enum)


def test_every_field_has_a_description():
    for r in PKG.resources:
        for f in r.fields:
            assert len(f.description) > 10, f"{r.name}.{f.name}"


def test_country_table_is_what_the_packages_give():
    committed = (ROOT / "dataset" / "countries.csv").read_text(encoding="utf-8")
    assert committed == render_csv(country_rows()), "run `dca countries` and commit dataset/countries.csv"


def test_country_table_carries_cow_codes():
    rows = {r["iso3"]: r for r in country_rows()}
    assert rows["PAK"]["cow_code"] == "770" and rows["RUS"]["cow_code"] == "365"
    assert rows["USA"]["cow_abbr"] == "USA" and rows["DEU"]["cow_abbr"] == "GMY"


def test_reference_validator_accepts_the_committed_package():
    exe = ROOT / ".venv" / "bin" / "frictionless"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "frictionless"]
    result = subprocess.run(cmd + ["validate", "datapackage.json"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


def test_dca_accepts_the_committed_package():
    from scripts.validate import validate_package

    findings = validate_package(ROOT)
    assert findings == [], "\n".join(f.text() for f in findings)


@pytest.mark.parametrize(
    "resource,field",
    [(r, f) for r in PKG.resources for f in r.fields if f.constraints.get("enum") or f.categories],
    ids=lambda x: getattr(x, "name", ""),
)
def test_every_vocabulary_is_a_labelled_categories_list(resource, field):
    """`categories` (Data Package v2) is the vocabulary the code reads; `constraints.enum` repeats its codes,
    in the same order, for the reference validator, which knows only enum."""
    assert field.categories, f"{resource.name}.{field.name}: has an enum but no categories"
    assert field.enum == field.constraints.get("enum"), f"{resource.name}.{field.name}: categories and enum differ"
    labels = field.labels()
    assert len(labels) == len(field.categories), f"{resource.name}.{field.name}: a code is listed twice"
    assert all(label.strip() and len(label) <= 80 for label in labels.values())

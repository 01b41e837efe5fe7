"""pandera schemas derived from the Table Schemas.

pandera's own `from_frictionless_schema` pins frictionless 4 and fails on empty
integer cells, so this small converter turns each Table Schema field into a
pandera Column of strings with vectorised polars checks, one per Table Schema
rule (type, required, enum, pattern, lengths, bounds, unique), and the table's
primary and foreign keys into dataframe-level checks. Each check's name is the
frictionless error type it mirrors, so findings line up with `frictionless
validate`; the checks see the raw text of each cell, as frictionless does.
"""
from __future__ import annotations

from typing import Callable

import pandera.polars as pa
import polars as pl

from .tableschema import Field, ForeignKey, Resource

_INTEGER = r"^[+-]?[0-9]+$"
_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_YEAR = r"^[0-9]{4}$"
_TRUE = ["true", "True", "TRUE", "1"]
_FALSE = ["false", "False", "FALSE", "0"]


def type_ok(field: Field) -> pl.Expr:
    """True where the cell is empty or parses as the field's type."""
    c = pl.col(field.name)
    t = field.type
    if t == "integer":
        ok = c.str.contains(_INTEGER)
    elif t == "number":
        ok = c.str.contains(_NUMBER) | c.is_in(["NaN", "INF", "-INF"])
    elif t == "date":
        ok = c.str.contains(_DATE) & c.str.to_date("%Y-%m-%d", strict=False).is_not_null()
    elif t == "year":
        ok = c.str.contains(_YEAR)
    elif t == "boolean":
        ok = c.is_in(_TRUE + _FALSE)
    else:
        ok = pl.lit(True)
    return c.is_null() | ok


def typed(field: Field) -> pl.Expr:
    """The cell as a value of its type (null where empty or unparseable)."""
    c = pl.col(field.name)
    if field.type == "integer":
        return c.cast(pl.Int64, strict=False)
    if field.type == "number":
        return c.cast(pl.Float64, strict=False)
    if field.type == "date":
        return c.str.to_date("%Y-%m-%d", strict=False)
    if field.type == "year":
        return c.cast(pl.Int64, strict=False)
    return c


def constraint_checks(field: Field) -> list[tuple[str, pl.Expr]]:
    """(constraint name, expression true where the cell satisfies it)."""
    cons = field.constraints
    c = pl.col(field.name)
    present = c.is_not_null() & type_ok(field)
    out: list[tuple[str, pl.Expr]] = []
    if cons.get("required"):
        out.append(("required", c.is_not_null()))
    if "enum" in cons:
        out.append(("enum", ~present | c.is_in([str(v) for v in cons["enum"]])))
    if "pattern" in cons:
        # Table Schema patterns match the whole value.
        pattern = cons["pattern"]
        anchored = pattern if pattern.startswith("^") else "^(?:" + pattern + ")$"
        out.append(("pattern", ~present | c.str.contains(anchored)))
    if "minLength" in cons:
        out.append(("minLength", ~present | (c.str.len_chars() >= cons["minLength"])))
    if "maxLength" in cons:
        out.append(("maxLength", ~present | (c.str.len_chars() <= cons["maxLength"])))
    if "minimum" in cons:
        out.append(("minimum", ~present | (typed(field) >= cons["minimum"])))
    if "maximum" in cons:
        out.append(("maximum", ~present | (typed(field) <= cons["maximum"])))
    return out


def _column_check(name: str, expr: pl.Expr) -> pa.Check:
    return pa.Check(lambda data, e=expr: data.lazyframe.select(e.fill_null(True)), name=name)


def unique_ok(cols: list[str]) -> pl.Expr:
    """True for a row whose (non-null) key was not already used by an earlier row."""
    key_null = pl.any_horizontal([pl.col(c).is_null() for c in cols])
    return key_null | pl.struct(cols).is_first_distinct()


def foreign_key_ok(fk: ForeignKey, lookup: pl.DataFrame) -> pl.Expr:
    """True where the key is null (not checked, as in frictionless) or present in the lookup."""
    if len(fk.fields) == 1:
        c = pl.col(fk.fields[0])
        return c.is_null() | c.is_in(lookup.get_column(fk.reference_fields[0]).drop_nulls().implode())
    key_null = pl.all_horizontal([pl.col(c).is_null() for c in fk.fields])
    ref = pl.concat_str([lookup.get_column(c).fill_null("\x00") for c in fk.reference_fields], separator="\x1f")
    mine = pl.concat_str([pl.col(c).fill_null("\x00") for c in fk.fields], separator="\x1f")
    return key_null | mine.is_in(ref.implode())


def build_schema(
    resource: Resource,
    present: set[str],
    lookups: dict[str, pl.DataFrame] | None = None,
    extra_checks: list[pa.Check] | None = None,
) -> pa.DataFrameSchema:
    """The pandera schema for one resource.

    `present` are the fields the file actually has (a missing column is reported
    from the header, not on every row); `lookups` maps referenced resource names to
    their tables, for foreign keys.
    """
    columns = {}
    for f in resource.fields:
        if f.name not in present:
            continue
        checks = [_column_check("type-error", type_ok(f))]
        for cname, expr in constraint_checks(f):
            checks.append(_column_check(f"constraint-error:{cname}", expr))
        if f.constraints.get("unique"):
            checks.append(_column_check("unique-error", unique_ok([f.name])))
        columns[f.name] = pa.Column(pl.Utf8, checks=checks, nullable=True, required=False)
    df_checks: list[pa.Check] = []
    pk = [c for c in resource.primary_key if c in present]
    if pk and len(pk) == len(resource.primary_key):
        df_checks.append(_frame_check("primary-key", unique_ok(pk)))
    for i, fk in enumerate(resource.foreign_keys):
        if lookups is None or fk.resource not in lookups or not all(c in present for c in fk.fields):
            continue
        df_checks.append(_frame_check(f"foreign-key:{i}", foreign_key_ok(fk, lookups[fk.resource])))
    df_checks.extend(extra_checks or [])
    return pa.DataFrameSchema(columns, checks=df_checks, name=resource.name, strict=False)


def _frame_check(name: str, expr: pl.Expr) -> pa.Check:
    return pa.Check(lambda data, e=expr: data.lazyframe.select(e.fill_null(True).alias("ok")), name=name)


def frame_check(name: str, fn: Callable[[pl.LazyFrame], pl.LazyFrame]) -> pa.Check:
    """A dataframe-level check from a function returning one boolean column (True = ok)."""
    return pa.Check(lambda data: fn(data.lazyframe), name=name)

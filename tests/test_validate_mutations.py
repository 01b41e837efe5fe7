"""Seeded mutations of the whole package (descriptor, schemas, CSV files): whatever
is broken, `dca validate` answers with findings that name a file, never a
traceback, and it never calls a package valid that the reference validator
(`frictionless validate`) rejects.

The mutations are drawn from a fixed seed, so a failure names a reproducible case
(`MUTATION_SEED`, `MUTATIONS` in the environment change them).
"""
from __future__ import annotations

import copy
import csv
import io
import json
import os
import random
import shutil
import warnings
from pathlib import Path

import frictionless
import pytest

from scripts.findings import problems
from scripts.validate import validate_package
from tests.conftest import FIXED_TODAY
from tests.packages import make_package

SEED = int(os.environ.get("MUTATION_SEED", "20261202"))
COUNT = int(os.environ.get("MUTATIONS", "200"))
SCHEMAS = ["agreements", "parties", "sources", "equipment", "status_history", "countries"]
CSVS = ["agreements.csv", "parties.csv", "sources.csv", "equipment.csv", "status_history.csv"]
JUNK = [None, 12, 0, -1, True, "", "x", "foo bar", [], ["a", "b"], {}, {"x": 1}, "([", "utf-7x", "xlsx"]
RESOURCE_KEYS = ["name", "path", "format", "encoding", "mediatype", "profile", "schema", "dialect", "title"]
PACKAGE_KEYS = ["name", "version", "profile", "licenses", "title", "resources", "contributors"]
FIELD_TYPES = ["foo", "string", "integer", "number", "date", "boolean", "year", "datetime", "any", 5, None]
CONSTRAINTS = {"pattern": ["([", "[a-z", "^x$", "(?=a)b", 5], "enum": ["x", [], ["a"], [1, 2]],
               "required": ["yes", True, 1], "minLength": ["x", -1, 3, 500], "maxLength": ["x", 0, 2],
               "minimum": ["x", 5, 10**9], "maximum": ["x", 0], "unique": ["no", True]}
CELLS = ["", " ", "x", "0", "-1", "1.5", "2014-13-01", "2099-01-01", "2014", "NaN", "true", "ZZZ", "pak", "a,b",
         "é", "\"", "\n", "999999999999999999999", "null", "agreement"]


def _m_descriptor(rng: random.Random, pkg: Path) -> str:
    path = pkg / "datapackage.json"
    d = json.loads(path.read_text())
    res = d["resources"]
    i = rng.randrange(len(res))
    op = rng.choice(["drop", "dup", "pkg-key", "res-key", "res-del", "schema-inline"])
    if op == "drop":
        res.pop(i)
    elif op == "dup":
        res.append(copy.deepcopy(res[i]))
    elif op == "pkg-key":
        key = rng.choice(PACKAGE_KEYS)
        d[key] = rng.choice(JUNK)
        op += f" {key}={d[key]!r}"
    elif op == "res-key":
        key = rng.choice(RESOURCE_KEYS)
        res[i][key] = rng.choice(JUNK)
        op += f" {res[i].get('name')}.{key}={res[i][key]!r}"
    elif op == "res-del":
        key = rng.choice(RESOURCE_KEYS)
        res[i].pop(key, None)
        op += f" {key}"
    else:
        res[i]["schema"] = {"fields": rng.choice(JUNK)} if rng.random() < 0.5 else {}
    path.write_text(json.dumps(d))
    return f"datapackage.json {op} #{i}"


def _m_schema(rng: random.Random, pkg: Path) -> str:
    name = rng.choice(SCHEMAS)
    path = pkg / "schema" / f"{name}.schema.json"
    s = json.loads(path.read_text())
    fields = s["fields"]
    j = rng.randrange(len(fields))
    op = rng.choice(["type", "constraint", "name", "dup", "drop", "top", "fk", "pk"])
    if op == "type":
        fields[j]["type"] = rng.choice(FIELD_TYPES)
        op += f"={fields[j]['type']!r}"
    elif op == "constraint":
        key = rng.choice(sorted(CONSTRAINTS))
        fields[j].setdefault("constraints", {})[key] = rng.choice(CONSTRAINTS[key])
        op += f" {key}={fields[j]['constraints'][key]!r}"
    elif op == "name":
        fields[j]["name"] = rng.choice([None, 5, "", fields[(j + 1) % len(fields)]["name"], "renamed"])
    elif op == "dup":
        fields.insert(j, copy.deepcopy(fields[j]))
    elif op == "drop":
        fields.pop(j)
    elif op == "top":
        key = rng.choice(["fields", "primaryKey", "foreignKeys", "missingValues"])
        s[key] = rng.choice(JUNK)
        op += f" {key}={s[key]!r}"
    elif op == "fk":
        s["foreignKeys"] = [{"fields": rng.choice(["agreement_id", "nope", ["a", "b"]]),
                             "reference": {"resource": rng.choice(["agreements", "nope", ""]), "fields": rng.choice(["agreement_id", "nope"])}}]
    else:
        s["primaryKey"] = rng.choice([["nope"], fields[j]["name"], [fields[0]["name"], fields[-1]["name"]]])
    path.write_text(json.dumps(s))
    return f"{name}.schema.json {op} field #{j}"


def _m_csv(rng: random.Random, pkg: Path) -> str:
    name = rng.choice(CSVS)
    path = pkg / "dataset" / name
    raw = path.read_bytes()
    rows = [r for r in csv.reader(io.StringIO(raw.decode("utf-8", "replace"), newline="")) if r]
    op = rng.choice(["cell", "cell", "cell", "dup-row", "drop-row", "drop-col", "header", "bytes", "truncate"])
    if len(rows) < 2 or not raw:  # an earlier mutation left too little to edit
        path.write_bytes(raw + b"\x00")
        return f"{name} nul byte"
    if op in ("bytes", "truncate"):
        at = rng.randrange(len(raw))
        path.write_bytes(raw[:at] + (bytes(rng.randrange(256) for _ in range(rng.randint(1, 8))) if op == "bytes" else b""))
        return f"{name} {op} at {at}"
    r = rng.randrange(1, len(rows))
    c = rng.randrange(len(rows[0]))
    if op == "cell":
        rows[r][c] = rng.choice(CELLS)
        op += f" row {r + 1} col {c + 1}={rows[r][c]!r}"
    elif op == "dup-row":
        rows.insert(r, list(rows[r]))
    elif op == "drop-row":
        rows.pop(r)
    elif op == "drop-col":
        for row in rows:
            del row[c:c + 1]
    else:
        rows[0][c] = rng.choice(["", "x", rows[0][(c + 1) % len(rows[0])]])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue())
    return f"{name} {op}"


MUTATORS = [_m_descriptor, _m_schema, _m_csv]


def _reference_rejects(pkg: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return not frictionless.validate(str(pkg / "datapackage.json")).valid
        except Exception:  # the reference validator crashes on some descriptors (e.g. a bad regex): a rejection
            return True


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_package(tmp_path_factory.mktemp("mut") / "base")


def test_seeded_mutations_give_findings_that_agree_with_the_reference(template, tmp_path):
    rng = random.Random(SEED)
    disagreements, tally = [], {"mutations": 0, "reference_rejects": 0, "dca_rejects": 0}
    for n in range(COUNT):
        pkg = tmp_path / f"m{n}"
        shutil.copytree(template, pkg)
        what = ", ".join(rng.choice(MUTATORS)(rng, pkg) for _ in range(rng.choice([1, 1, 1, 2])))
        try:
            findings = validate_package(pkg, FIXED_TODAY)
        except Exception as e:  # noqa: BLE001 - the point of the test
            pytest.fail(f"mutation {n} ({what}): dca validate raised {type(e).__name__}: {e}")
        assert all(f.file and f.message for f in findings), (n, what, findings)
        ours = bool(problems(findings))
        ref = _reference_rejects(pkg)
        tally["mutations"] += 1
        tally["reference_rejects"] += ref
        tally["dca_rejects"] += ours
        if ref and not ours:
            disagreements.append(f"mutation {n} ({what})")
        shutil.rmtree(pkg)
    print(tally)
    assert disagreements == [], "the reference validator rejects and dca validate passes: " + "; ".join(disagreements)
    assert tally["reference_rejects"] > COUNT // 3  # the mutations really break things

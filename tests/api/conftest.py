"""Fixtures of the API tests: built databases, an independent oracle, and clients per back end.

* ``synthetic``: ``bench/make_package.py --n 300 --seed 7`` plus a few hand-written,
  obviously synthetic records (a three-party agreement whose title holds ``<script>``,
  a Mi-35M, year / month / day signing dates, a designation with LIKE wildcards),
  built with ``scripts.build.build_package``.
* ``real``: the project's own package (its first record is pak-rus-2014-11-20).
* ``client`` / ``real_client``: a TestClient per back end. SQLite always; PostgreSQL when
  ``TEST_DATABASE_URL`` is set (``scripts/pg_test_server.sh start`` gives one), else
  those cases are skipped with the reason. Both run the same tests.
* ``oracle``: the package's CSV files read with the csv module, so that expected
  results are computed without the API's code.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
import subprocess
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

from fastapi.testclient import TestClient  # noqa: E402

from api.main import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
BACKENDS = [
    "sqlite",
    pytest.param("postgres", marks=[
        pytest.mark.postgres,
        pytest.mark.skipif(not TEST_DATABASE_URL, reason="TEST_DATABASE_URL is not set (scripts/pg_test_server.sh start)"),
    ]),
]

def _schema_fields(table: str) -> list[str]:
    import json
    return [f["name"] for f in json.loads((ROOT / "schema" / f"{table}.schema.json").read_text())["fields"]]


FIELDS = {t: _schema_fields(t) for t in ("agreements", "parties", "sources", "equipment", "status_history")}

TRI = "fra-ind-rus-2019-03-05"
HAND: dict[str, list[dict[str, Any]]] = {
    "agreements": [
        dict(agreement_id=TRI, title="Synthetic <script>alert('x')</script> Trilateral Test Agreement",
             agreement_type="military_technical_cooperation", instrument="treaty", signed_on="2019-03-05", signed_precision="day",
             venue_city="Synthetic City", venue_country_iso3="IND", status="in_force", status_as_of="2020-01-10",
             entry_into_force_on="2019-06", end_on="",
             summary="Synthetic test record: zanzibarquux helicopters and the Überprüfung of maintenance, with a joint committee.",
             notes="Synthetic, hand-written for the API tests."),
        dict(agreement_id="bhs-brb-1999", title="Synthetic Year-Only Test Agreement", agreement_type="training_education", instrument="agreement",
             signed_on="1999", signed_precision="year", venue_city="", venue_country_iso3="", status="signed",
             status_as_of="2000-01-01", entry_into_force_on="", end_on="",
             summary="Synthetic test record with a year-only signing date, for partial date filters.", notes=""),
        dict(agreement_id="bhs-brb-1999-06", title="Synthetic Month-Only Test Agreement", agreement_type="other", instrument="memorandum_of_understanding",
             signed_on="1999-06", signed_precision="month", venue_city="", venue_country_iso3="BHS", status="signed",
             status_as_of="2000-01-01", entry_into_force_on="", end_on="",
             summary="Synthetic test record with a month-only signing date, for partial date filters.", notes=""),
        dict(agreement_id="bhs-brb-1999-06-15", title="Synthetic Day Test Agreement, with \"quotes\"", agreement_type="procurement", instrument="contract",
             signed_on="1999-06-15", signed_precision="day", venue_city="Synthetic Town", venue_country_iso3="BRB",
             status="signed", status_as_of="2000-01-01", entry_into_force_on="", end_on="",
             summary="Synthetic test record with a full signing date;\nits summary has two lines, a comma and \"quotes\".", notes=""),
    ],
    "parties": [
        dict(agreement_id=TRI, country_iso3="FRA", signatory_name="", signatory_title="Minister of Defence"),
        dict(agreement_id=TRI, country_iso3="IND", signatory_name="", signatory_title="Minister of Defence"),
        dict(agreement_id=TRI, country_iso3="RUS", signatory_name="", signatory_title=""),
        *[dict(agreement_id=a, country_iso3=c, signatory_name="", signatory_title="")
          for a in ("bhs-brb-1999", "bhs-brb-1999-06", "bhs-brb-1999-06-15") for c in ("BHS", "BRB")],
    ],
    "sources": [
        dict(source_id=f"{a}-s1", agreement_id=a, url=f"https://example.org/synthetic/test-{i}", citation="",
             title="Synthetic test source", publisher="Synthetic Press Agency", author="", published_on=p,
             source_type="news", supports="date", reprint_of="")
        for i, (a, p) in enumerate([(TRI, "2020-01-10"), ("bhs-brb-1999", "2000-01-01"), ("bhs-brb-1999-06", "2000-01-01"),
                                    ("bhs-brb-1999-06-15", "2000-01-01")], 1)
    ] + [
        # A second, independent origin for each, as every agreement needs.
        dict(source_id=f"{a}-s2", agreement_id=a, url=f"https://example.org/synthetic/test-second-{i}", citation="",
             title="Synthetic second test source", publisher="Synthetic Gazette", author="", published_on="2000-01-01",
             source_type="official", supports="parties", reprint_of="")
        for i, a in enumerate([TRI, "bhs-brb-1999", "bhs-brb-1999-06", "bhs-brb-1999-06-15"], 1)
    ],
    "equipment": [
        dict(equipment_id=f"{TRI}-e1", agreement_id=TRI, designation="Mi-35M", category="helicopter", supplier_iso3="RUS",
             recipient_iso3="IND", quantity="4", status="contracted", non_party_reason="", note="", source_id=f"{TRI}-s1"),
        dict(equipment_id=f"{TRI}-e2", agreement_id=TRI, designation="Rafale-M", category="combat_aircraft", supplier_iso3="FRA",
             recipient_iso3="IND", quantity="26", status="contracted", non_party_reason="", note="", source_id=f"{TRI}-s1"),
        dict(equipment_id="bhs-brb-1999-06-15-e1", agreement_id="bhs-brb-1999-06-15", designation="SX_100%", category="other",
             supplier_iso3="BHS", recipient_iso3="BRB", quantity="", status="mentioned", non_party_reason="",
             note="Synthetic designation with LIKE wildcards.", source_id="bhs-brb-1999-06-15-s1"),
    ],
    "status_history": [
        dict(history_id=f"{TRI}-h1", agreement_id=TRI, equipment_id="", status_on="2019-03-05", agreement_status="signed",
             equipment_status="", description="Synthetic step: signed.", source_id=f"{TRI}-s1"),
        dict(history_id=f"{TRI}-h2", agreement_id=TRI, equipment_id="", status_on="2019-06", agreement_status="in_force",
             equipment_status="", description="Synthetic step: in force.", source_id=f"{TRI}-s1"),
    ],
}


def _append_hand_records(root: Path) -> None:
    for table, rows in HAND.items():
        path = root / "dataset" / f"{table}.csv"
        with path.open(encoding="utf-8", newline="") as f:
            existing = list(csv.DictReader(f))
        ids = {r[FIELDS[table][0]] for r in existing}
        if table != "parties":
            clash = [r for r in rows if r[FIELDS[table][0]] in ids]
            assert not clash, f"hand-written ids already generated: {clash}"
        allrows = existing + rows
        if table == "parties":
            allrows.sort(key=lambda r: (r["agreement_id"], r["country_iso3"]))
        else:
            allrows.sort(key=lambda r: r[FIELDS[table][0]])
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=FIELDS[table], lineterminator="\n")
            w.writeheader()
            w.writerows(allrows)


def _build(root: Path, out: Path) -> Path:
    from scripts.build import build_package

    return build_package(root, out).database


@pytest.fixture(scope="session")
def synthetic_package(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synthetic") / "pkg"
    subprocess.run([sys.executable, str(ROOT / "bench" / "make_package.py"), "--n", "300", "--seed", "7", "--out", str(root)],
                   check=True, capture_output=True)
    _append_hand_records(root)
    return root


@pytest.fixture(scope="session")
def synthetic_db(synthetic_package, tmp_path_factory) -> Path:
    return _build(synthetic_package, tmp_path_factory.mktemp("synthetic-build") / "build")


@pytest.fixture(scope="session")
def real_db(tmp_path_factory) -> Path:
    from tests.packages import copy_real_package

    root = copy_real_package(tmp_path_factory.mktemp("real") / "pkg")
    return _build(root, tmp_path_factory.mktemp("real-build") / "build")


def _settings(backend: str, db: Path, schema: str) -> Settings:
    if backend == "sqlite":
        return Settings(sqlite_path=db)
    from scripts.pgload import load_postgres

    load_postgres(db, TEST_DATABASE_URL, schema=schema)
    return Settings(database_url=TEST_DATABASE_URL, pg_schema=schema)


_loaded: dict[tuple[str, str], Settings] = {}


def settings_for(backend: str, db: Path, schema: str) -> Settings:
    key = (backend, str(db))
    if key not in _loaded:
        _loaded[key] = _settings(backend, db, schema)
    return _loaded[key]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def app_settings(backend, synthetic_db) -> Settings:
    return settings_for(backend, synthetic_db, "dca_test_synthetic")


@pytest.fixture(scope="session")
def app(app_settings):
    return create_app(app_settings)


@pytest.fixture(scope="session")
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def real_client(backend, real_db):
    with TestClient(create_app(settings_for(backend, real_db, "dca_test_real"))) as c:
        yield c


# ------------------------------------------------------------------------- the oracle

def _read(root: Path, table: str) -> list[dict[str, Any]]:
    with (root / "dataset" / f"{table}.csv").open(encoding="utf-8", newline="") as f:
        return [{k: (v if v != "" else None) for k, v in r.items()} for r in csv.DictReader(f)]


def first_day(text: str) -> dt.date:
    parts = [int(x) for x in text.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def last_day(text: str) -> dt.date:
    parts = [int(x) for x in text.split("-")]
    if len(parts) == 3:
        return dt.date(*parts)
    if len(parts) == 2:
        nxt = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
    else:
        nxt = dt.date(parts[0] + 1, 1, 1)
    return nxt - dt.timedelta(days=1)


@dataclass
class Oracle:
    root: Path
    tables: dict[str, list[dict[str, Any]]]

    @property
    def agreements(self) -> list[dict[str, Any]]:
        return self.tables["agreements"]

    def parties_of(self, aid: str) -> set[str]:
        return self._parties.get(aid, set())

    def __post_init__(self) -> None:
        self._parties: dict[str, set[str]] = {}
        for p in self.tables["parties"]:
            self._parties.setdefault(p["agreement_id"], set()).add(p["country_iso3"])
        self._equipment: dict[str, list[dict[str, Any]]] = {}
        for e in self.tables["equipment"]:
            self._equipment.setdefault(e["agreement_id"], []).append(e)
        self.country_names = {c["iso3"]: c["name"] for c in self.tables["countries"]}

    def select(self, *, parties=(), signed_from=None, signed_to=None, types=(), instruments=(), statuses=(), venue=None,
               categories=(), designation=None, words=()) -> list[dict[str, Any]]:
        out = []
        for a in self.agreements:
            if parties and not set(parties) <= self.parties_of(a["agreement_id"]):
                continue
            if signed_from and first_day(a["signed_on"]) < first_day(signed_from):
                continue
            if signed_to and first_day(a["signed_on"]) > last_day(signed_to):
                continue
            if instruments and a["instrument"] not in instruments:
                continue
            if types and a["agreement_type"] not in types:
                continue
            if statuses and a["status"] not in statuses:
                continue
            if venue and a["venue_country_iso3"] != venue:
                continue
            if categories or designation:
                if not any((not categories or e["category"] in categories)
                           and (not designation or designation.lower() in e["designation"].lower())
                           for e in self._equipment.get(a["agreement_id"], [])):
                    continue
            if words:
                text = re.findall(r"[a-z0-9]+", f"{a['title']} {a['summary']}".lower())
                if not all(any(t.startswith(w) for t in text) for w in words):
                    continue
            out.append(a)
        return out

    @staticmethod
    def ids(rows, sort: str = "signed_on") -> list[str]:
        key = sort.lstrip("-")
        desc = sort.startswith("-")
        if key == "agreement_id":
            ordered = sorted(rows, key=lambda a: a["agreement_id"], reverse=desc)
        else:
            ordered = sorted(rows, key=lambda a: (a[key], a["agreement_id"]), reverse=desc)
        return [a["agreement_id"] for a in ordered]


@pytest.fixture(scope="session")
def oracle(synthetic_package) -> Oracle:
    tables = {t: _read(synthetic_package, t) for t in ["countries", *FIELDS]}
    return Oracle(synthetic_package, tables)


# ------------------------------------------------------------------------- helpers

def all_pages(client: TestClient, url: str, limit: int = 7, **kw) -> list[dict[str, Any]]:
    """Every item of a JSON list, following `next` links; checks each page's envelope."""
    sep = "&" if "?" in url else "?"
    r = client.get(f"{url}{sep}limit={limit}", **kw)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = []
    total = r.json()["total"]
    pages = 0
    while True:
        body = r.json()
        assert body["total"] == total
        assert body["count"] == len(body["items"]) <= limit
        items += body["items"]
        pages += 1
        assert pages <= total // limit + 2, "more pages than rows"
        nxt = body["links"]["next"]
        assert (nxt is None) == (body["next_cursor"] is None)
        assert ('rel="next"' in r.headers["link"]) == (nxt is not None)
        if nxt is None:
            break
        r = client.get(nxt, **kw)
        assert r.status_code == 200, r.text
    assert len(items) == total
    return items

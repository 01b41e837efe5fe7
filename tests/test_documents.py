"""The documents the API serves (scripts/documents.py) are, byte for byte, the straightforward construction:
a dict per agreement serialised with orjson, and csv.writer for its CSV record."""
from __future__ import annotations

import csv
import io

import orjson
import polars as pl
import pytest

from scripts.build import party_cells, read_frames
from scripts.documents import CSV_COLUMNS, documents
from schema.tableschema import load_package
from tests.packages import make_package


def reference_documents(frames: dict[str, pl.DataFrame]) -> list[tuple[str, str, str, str]]:
    """(agreement_id, list_json, detail_json, csv_record) per agreement, in agreement_id order, one dict at a time."""
    countries = {r["iso3"]: r for r in frames["countries"].iter_rows(named=True)}

    def children(name: str, key) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for row in frames[name].iter_rows(named=True):
            out.setdefault(row["agreement_id"], []).append(row)
        return {k: sorted(v, key=key) for k, v in out.items()}

    def cow(c: dict) -> int | None:
        return int(c["cow_code"]) if c.get("cow_code") is not None else None

    def with_cow(e: dict) -> dict:
        out = {}
        for k, v in e.items():
            if k == "agreement_id":
                continue
            out[k] = v
            if k in ("supplier_iso3", "recipient_iso3"):
                out[k.replace("_iso3", "_cow_code")] = cow(countries.get(v or "", {}))
        return out

    def without_id(r: dict) -> dict:
        return {k: v for k, v in r.items() if k != "agreement_id"}

    parties = children("parties", lambda p: p["country_iso3"])
    equipment = children("equipment", lambda e: e["equipment_id"])
    sources = children("sources", lambda s: s["source_id"])
    history = children("status_history", lambda h: (h["status_on"], h["history_id"]))
    rows = []
    for a in frames["agreements"].sort("agreement_id").iter_rows(named=True):
        aid = a["agreement_id"]
        own = parties.get(aid, [])
        plist = [{"iso3": p["country_iso3"], "name": countries.get(p["country_iso3"], {}).get("name"),
                  "cow_code": cow(countries.get(p["country_iso3"], {}))} for p in own]
        venue = countries.get(a["venue_country_iso3"] or "", {})
        item = {k: a[k] for k in CSV_COLUMNS[:8]} | {"venue_country_name": venue.get("name"), "venue_country_cow_code": cow(venue)}
        item |= {k: a[k] for k in CSV_COLUMNS[10:15]} | {"parties": plist}
        detail = dict(item)
        detail["notes"] = a["notes"]
        detail["parties"] = [dict(q, signatory_name=p["signatory_name"], signatory_title=p["signatory_title"],
                                  cow_abbr=countries.get(p["country_iso3"], {}).get("cow_abbr")) for q, p in zip(plist, own)]
        detail["equipment"] = [with_cow(e) for e in equipment.get(aid, [])]
        detail["sources"] = [without_id(s) for s in sources.get(aid, [])]
        detail["status_history"] = [without_id(h) for h in history.get(aid, [])]
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerow([item[c] for c in CSV_COLUMNS[:-3]] + party_cells(plist))
        rows.append((aid, orjson.dumps(item).decode(), orjson.dumps(detail).decode(), buf.getvalue()))
    return rows


AWKWARD = ['comma, inside', 'a "quoted" word', "line\nbreak", "carriage\rreturn", "crlf\r\nend", "back\\slash",
           "tab\tand \x01 control \x1f", "Ωμέγα 漢字 🙂 \u2028", " leading and trailing ", "", "/slash", "\x7f"]


def _add(frames: dict[str, pl.DataFrame], name: str, rows: list[dict]) -> None:
    """Rows (given as text, the rest null) appended to a frame, typed as read_frames types it."""
    df = frames[name]
    extra = pl.DataFrame([{c: r.get(c) for c in df.columns} for r in rows], schema={c: pl.Utf8 for c in df.columns})
    frames[name] = pl.concat([df, extra.cast(df.schema)])


@pytest.fixture
def frames(tmp_path):
    frames = read_frames(load_package(make_package(tmp_path / "p")))
    agreement = {"title": "t", "agreement_type": "training_education", "instrument": "agreement", "signed_on": "2001",
                 "signed_precision": "year", "status": "signed", "status_as_of": "2002-01-01", "summary": "s"}
    new = []
    for i, text in enumerate(AWKWARD):
        new.append(agreement | {"agreement_id": f"zz-{i:02d}", "title": text, "summary": text[::-1], "notes": text or None,
                                "venue_city": text, "venue_country_iso3": ["FRA", "XXX", None][i % 3]})
    # out of id order in the file, as a contributor may leave them
    _add(frames, "agreements", new[::-1])
    _add(frames, "parties", [
        {"agreement_id": "zz-01", "country_iso3": "USA", "signatory_name": AWKWARD[1]},
        {"agreement_id": "zz-01", "country_iso3": "ABW", "signatory_title": AWKWARD[7]},  # no COW code
        {"agreement_id": "zz-01", "country_iso3": "QQQ"},  # not in countries
        {"agreement_id": "zz-00", "country_iso3": "FRA"},
    ])
    _add(frames, "equipment", [
        {"equipment_id": f"zz-01-e{i}", "agreement_id": "zz-01", "designation": text or "d", "category": "other",
         "supplier_iso3": ["USA", None, "ABW"][i % 3], "recipient_iso3": ["QQQ", "FRA", None][i % 3],
         "quantity": str(i * 10**9) if i % 2 else None, "status": "mentioned", "source_id": "zz-01-s1",
         "value_amount": ["1e16", "0.1", "12.5", None, "3", "123456789.123", "1e-7"][i % 7], "value_year": "2001" if i % 2 else None}
        for i, text in reversed(list(enumerate(AWKWARD)))
    ])
    _add(frames, "sources", [{"source_id": f"zz-0{i}-s{j}", "agreement_id": f"zz-0{i}", "title": AWKWARD[j], "url": None,
                              "source_type": "news"} for i in (1, 3) for j in (3, 1, 2)])
    _add(frames, "status_history", [
        {"history_id": f"zz-01-h{j}", "agreement_id": "zz-01", "status_on": on, "description": AWKWARD[j], "source_id": "zz-01-s1"}
        for j, on in [(3, "2001"), (1, "2001"), (2, "2000-05"), (4, "2003")]
    ])
    return frames


@pytest.mark.parametrize("chunk", [1, 4, 1000])
def test_documents_are_the_per_agreement_construction(frames, chunk):
    got = [r for batch in documents(frames, chunk=chunk) for r in batch]
    want = reference_documents(frames)
    assert [r[0] for r in got] == [r[0] for r in want]
    for g, w in zip(got, want):
        assert g == w, g[0]


def test_awkward_text_survives_the_round_trip(frames):
    docs = {r[0]: r for batch in documents(frames) for r in batch}
    detail = orjson.loads(docs["zz-01"][2])
    assert detail["title"] == AWKWARD[1]
    assert [p["iso3"] for p in detail["parties"]] == ["ABW", "QQQ", "USA"]
    assert [p["cow_code"] for p in detail["parties"]] == [None, None, 2]
    assert [h["history_id"] for h in detail["status_history"]] == ["zz-01-h2", "zz-01-h1", "zz-01-h3", "zz-01-h4"]
    assert detail["equipment"][0]["value_amount"] == 1e16 and detail["equipment"][1]["quantity"] == 10**9
    record = next(csv.reader(io.StringIO(docs["zz-04"][3], newline="")))
    assert record[1] == AWKWARD[4] and record[15:] == ["", "", ""]

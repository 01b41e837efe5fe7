"""CSV and NDJSON: the same rows as JSON, streamed for limit=all, with counts and file names."""
from __future__ import annotations

import csv
import io
import json

import pytest

from scripts.build import CSV_COLUMNS

from .conftest import all_pages


def parse_csv(text: str) -> tuple[list[str], list[dict[str, str]]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def as_csv_row(item: dict, columns: list[str]) -> dict[str, str]:
    """What a JSON list item should look like as a CSV row."""
    out = {}
    for c in columns:
        if c == "parties":
            out[c] = ";".join(p["iso3"] for p in item["parties"])
        elif c == "party_names":
            out[c] = ";".join(p["name"] or "" for p in item["parties"])
        elif c == "party_cow_codes":
            out[c] = ";".join("" if p["cow_code"] is None else str(p["cow_code"]) for p in item["parties"])
        else:
            v = item[c]
            out[c] = "" if v is None else str(v)
    return out


QUERIES = ["", "party=USA", "party=RUS&party=USA", "q=exercises&sort=-signed_on", "designation=mi-35",
           "party=BHS&party=BRB", "type=mutual_defence&status=in_force", "signed_from=2019&signed_to=2019"]


@pytest.mark.parametrize("query", QUERIES)
def test_full_csv_equals_json_rows(client, query):
    items = all_pages(client, f"/v1/agreements?{query}", limit=1000)
    r = client.get(f"/v1/agreements?{query}&format=csv&limit=all")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["x-row-count"] == str(len(items)) == r.headers["x-total-count"]
    assert r.headers["content-disposition"] == 'attachment; filename="dca-0.1.0-agreements.csv"'
    header, rows = parse_csv(r.text)
    assert header == CSV_COLUMNS
    assert rows == [as_csv_row(i, CSV_COLUMNS) for i in items]
    assert r.text.endswith("\r\n") or not items


def test_csv_is_rfc4180(client):
    r = client.get("/v1/agreements?party=BHS&party=BRB&signed_from=1999-06-15&signed_to=1999-06-15&format=csv")
    header, rows = parse_csv(r.text)
    row = rows[0]
    assert row["title"] == 'Synthetic Day Test Agreement, with "quotes"'
    assert row["summary"] == 'Synthetic test record with a full signing date;\nits summary has two lines, a comma and "quotes".'
    assert '"Synthetic Day Test Agreement, with ""quotes"""' in r.text
    assert r.text.startswith(",".join(CSV_COLUMNS) + "\r\n")


def test_csv_pages_follow_the_json_pages(client):
    j = client.get("/v1/agreements?party=USA&limit=7").json()
    r = client.get("/v1/agreements?party=USA&limit=7&format=csv")
    _, rows = parse_csv(r.text)
    assert rows == [as_csv_row(i, CSV_COLUMNS) for i in j["items"]]
    assert r.headers["x-row-count"] == "7"
    assert r.headers["x-total-count"] == str(j["total"])
    nxt = [p for p in r.headers["link"].split(", ") if 'rel="next"' in p][0]
    assert "format=csv" in nxt and "cursor=" in nxt
    url = nxt[1:nxt.index(">")]
    j2 = client.get(j["links"]["next"]).json()
    _, rows2 = parse_csv(client.get(url).text)
    assert rows2 == [as_csv_row(i, CSV_COLUMNS) for i in j2["items"]]


def test_csv_rest_of_result_after_a_cursor(client):
    first = client.get("/v1/agreements?party=USA&limit=10").json()
    r = client.get(f"/v1/agreements?party=USA&format=csv&limit=all&cursor={first['next_cursor']}")
    assert r.status_code == 200
    _, rows = parse_csv(r.text)
    assert len(rows) == first["total"] - 10 == int(r.headers["x-row-count"])
    assert int(r.headers["x-total-count"]) == first["total"]


def test_csv_with_fields(client):
    items = all_pages(client, "/v1/agreements?party=USA&fields=signed_on,parties,agreement_id", limit=1000)
    r = client.get("/v1/agreements?party=USA&fields=signed_on,parties,agreement_id&format=csv&limit=all")
    header, rows = parse_csv(r.text)
    assert header == ["signed_on", "parties", "party_names", "party_cow_codes", "agreement_id"]
    assert rows == [as_csv_row(i, header) for i in items]


def test_fields_takes_every_csv_column(client):
    """fields= accepts each column of the CSV, alone: party_names and party_cow_codes too."""
    full = client.get("/v1/agreements?party=USA&format=csv&limit=all")
    header, rows = parse_csv(full.text)
    for column in header:
        r = client.get(f"/v1/agreements?party=USA&format=csv&limit=all&fields={column}")
        assert r.status_code == 200, (column, r.text)
        h, got = parse_csv(r.text)
        # `parties` stands for its three columns (codes, names, COW codes); each can be asked for alone
        want = ["parties", "party_names", "party_cow_codes"] if column == "parties" else [column]
        assert h == want and got == [{c: row[c] for c in want} for row in rows]
    r = client.get("/v1/agreements?party=USA&fields=agreement_id,party_cow_codes&limit=1000")
    items = r.json()["items"]
    assert [i["party_cow_codes"] for i in items] == [row["party_cow_codes"] for row in rows]
    assert all("parties" not in i for i in items)


def test_accept_header_negotiation(client):
    r = client.get("/v1/agreements?limit=3", headers={"Accept": "text/csv"})
    assert r.headers["content-type"].startswith("text/csv") and r.text.startswith("agreement_id,")
    r = client.get("/v1/agreements?limit=3", headers={"Accept": "text/html,application/json;q=0.9,text/csv;q=0.5"})
    assert r.headers["content-type"] == "application/json"
    r = client.get("/v1/agreements?limit=3", headers={"Accept": "application/x-ndjson"})
    assert r.headers["content-type"] == "application/x-ndjson"
    r = client.get("/v1/agreements?limit=3&format=json", headers={"Accept": "text/csv"})
    assert r.headers["content-type"] == "application/json"
    r = client.get("/v1/agreements?limit=all", headers={"Accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    # ETags differ between representations of the same URL.
    a = client.get("/v1/agreements?limit=3", headers={"Accept": "text/csv"}).headers["etag"]
    b = client.get("/v1/agreements?limit=3").headers["etag"]
    assert a != b


def test_ndjson(client):
    items = all_pages(client, "/v1/agreements?party=CHN", limit=1000)
    r = client.get("/v1/agreements?party=CHN&format=ndjson&limit=all")
    assert r.headers["content-type"] == "application/x-ndjson"
    assert r.headers["x-row-count"] == str(len(items))
    assert r.headers["content-disposition"].endswith('.ndjson"')
    lines = r.text.splitlines()
    assert [json.loads(x) for x in lines] == items
    r = client.get("/v1/agreements?party=CHN&format=ndjson&limit=3&fields=agreement_id")
    assert [json.loads(x) for x in r.text.splitlines()] == [{"agreement_id": i["agreement_id"]} for i in items[:3]]


def test_whole_table_in_one_request(client, oracle):
    r = client.get("/v1/agreements?format=csv&limit=all")
    _, rows = parse_csv(r.text)
    assert len(rows) == len(oracle.agreements) == int(r.headers["x-row-count"])
    assert [x["agreement_id"] for x in rows] == oracle.ids(oracle.agreements)


@pytest.mark.parametrize("path, key", [("/v1/countries", "iso3"), ("/v1/equipment", "equipment_id"), ("/v1/sources", "source_id")])
def test_other_lists_as_csv_and_ndjson(client, path, key):
    items = all_pages(client, path, limit=1000)
    r = client.get(f"{path}?format=csv&limit=all")
    assert r.headers["x-row-count"] == str(len(items))
    header, rows = parse_csv(r.text)
    assert header == list(items[0])
    assert rows == [{k: "" if v is None else str(v) for k, v in i.items()} for i in items]
    r = client.get(f"{path}?format=ndjson&limit=all")
    assert [json.loads(x) for x in r.text.splitlines()] == items
    r = client.get(f"{path}?format=csv&limit=5&fields={key}")
    assert r.text.splitlines()[0] == key and len(r.text.splitlines()) == 6


def test_gzip_for_large_responses(client):
    r = client.get("/v1/agreements?format=csv&limit=all", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.text.startswith("agreement_id,")
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    plain = client.get("/v1/agreements?format=csv&limit=all", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == r.text

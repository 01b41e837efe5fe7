"""Streamed responses (limit=all) and the connection pool: more streams than connections.

A stream holds a pooled connection from its first rows to its end, across thread hops.
Before ``Database.stream_slots``, 32 concurrent CSV streams on one PostgreSQL server all
but stopped: the streams holding the pool's connections waited for a worker thread while
every worker thread waited in the pool for a connection, until the pool's 30 s timeout
broke them off (responses ending in ``# incomplete``). These tests run far more streams
than a small pool has connections and check that every one completes, whole; they test
completion, not speed (the timeout only keeps a regression from hanging the suite).
"""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest
from fastapi.testclient import TestClient

from api.db import pool_budget, stream_slot_count
from api.main import create_app
from api.streaming import stream_chunks

from .conftest import settings_for

STREAMS = 16  # concurrent requests; the small pool below has 2 threads + 2 stream slots (+4 overflow)
URLS = [
    "/v1/agreements?format=csv&limit=all",
    "/v1/agreements?format=ndjson&limit=all",
    "/v1/agreements?format=json&limit=all",
    "/v1/agreements?country=USA&format=csv&limit=all",
    "/v1/dyads?format=csv&limit=all",
    "/v1/dyad-years?format=csv&limit=all",
]


@pytest.fixture(scope="module")
def small_pool_client(backend, synthetic_db):
    settings = dataclasses.replace(settings_for(backend, synthetic_db, "dca_test_synthetic"), db_threads=2, db_streams=2)
    with TestClient(create_app(settings)) as c:
        yield c


def test_the_pool_covers_threads_and_stream_slots(backend, synthetic_db):
    settings = dataclasses.replace(settings_for(backend, synthetic_db, "dca_test_synthetic"), db_threads=3, db_streams=5)
    assert stream_slot_count(settings) + settings.db_threads <= pool_budget(settings)
    if backend == "postgres":
        assert stream_slot_count(settings) == 5


@pytest.mark.parametrize("url", URLS)
def test_more_concurrent_streams_than_connections_all_complete(small_pool_client, url):
    c = small_pool_client
    alone = c.get(url)
    assert alone.status_code == 200
    assert b"# incomplete" not in alone.content and b"urn:dca:problem:incomplete" not in alone.content
    with ThreadPoolExecutor(STREAMS) as pool:
        futures = [pool.submit(c.get, url) for _ in range(STREAMS)]
        # Generous: the broken behaviour first shows after the pool's 30 s timeout.
        responses = [f.result(timeout=300) for f in futures]
    assert [r.status_code for r in responses] == [200] * STREAMS
    assert all(r.content == alone.content for r in responses)


def test_short_queries_are_served_while_streams_wait(small_pool_client):
    """Pages and lookups do not queue behind the stream slots: they use the worker threads' own connections."""
    c = small_pool_client
    with ThreadPoolExecutor(STREAMS + 4) as pool:
        streams = [pool.submit(c.get, URLS[0]) for _ in range(STREAMS)]
        pages = [pool.submit(c.get, "/v1/agreements?limit=5") for _ in range(4)]
        assert all(f.result(timeout=300).status_code == 200 for f in pages + streams)


def test_a_stream_closed_early_closes_its_cursor_before_giving_back_its_slot():
    events: list[str] = []
    slots = anyio.CapacityLimiter(1)

    def source():
        try:
            for i in range(3):
                yield [(i,)]
        finally:
            events.append(f"cursor closed, slot held: {slots.borrowed_tokens}")

    async def main():
        body = stream_chunks(source, b"head\n", lambda rows: b"%d\n" % rows[0][0], anyio.CapacityLimiter(2), slots=slots)
        assert await body.__anext__() == b"head\n"
        assert await body.__anext__() == b"0\n"
        assert slots.borrowed_tokens == 1
        await body.aclose()  # the client went away
        events.append(f"after close: {slots.borrowed_tokens}")

    anyio.run(main)
    assert events == ["cursor closed, slot held: 1", "after close: 0"]

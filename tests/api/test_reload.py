"""A new build is served without a restart; a broken one is ignored."""
from __future__ import annotations

import os
import shutil
import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.settings import Settings

from .conftest import BACKENDS, TEST_DATABASE_URL


def wait_for(pred, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_build_is_picked_up(backend, synthetic_db, real_db, tmp_path):
    if backend == "sqlite":
        build = tmp_path / "build"
        build.mkdir()
        db = build / "dca.sqlite"
        shutil.copy2(synthetic_db, db)
        settings = Settings(sqlite_path=db, watch_interval=0.2)
    else:
        from scripts.pgload import load_postgres

        load_postgres(synthetic_db, TEST_DATABASE_URL, schema="dca_test_reload")
        settings = Settings(database_url=TEST_DATABASE_URL, pg_schema="dca_test_reload", watch_interval=0.2)
    with TestClient(create_app(settings)) as c:
        before = c.get("/v1/meta").json()
        etag = c.get("/v1/agreements?limit=5").headers["etag"]
        cursor = c.get("/v1/agreements?limit=5").json()["next_cursor"]
        assert before["counts"]["agreements"] == 304
        # A broken file where the build was: ignored, the previous build is still served.
        if backend == "sqlite":
            broken = tmp_path / "broken.sqlite"
            broken.write_text("not a database")
            os.replace(broken, db)
            time.sleep(1.0)
            assert c.get("/v1/meta").json()["content_hash"] == before["content_hash"]
            assert c.get("/v1/agreements?limit=5").status_code == 200
            staged = tmp_path / "staged.sqlite"
            shutil.copy2(real_db, staged)
            os.replace(staged, db)  # as `dca build` swaps build/ in
        else:
            load_postgres(real_db, TEST_DATABASE_URL, schema="dca_test_reload")
        assert wait_for(lambda: c.get("/v1/meta").json()["content_hash"] != before["content_hash"])
        after = c.get("/v1/meta").json()
        assert after["counts"]["agreements"] != 304
        r = c.get("/v1/agreements?limit=5", headers={"If-None-Match": etag})
        assert r.status_code == 200 and r.headers["etag"] != etag  # ETags follow the build
        assert c.get(f"/v1/agreements?limit=5&cursor={cursor}").status_code == 400  # cursors too
        assert "pak-rus-2014-11-20" in [i["agreement_id"] for i in c.get("/v1/agreements?party=PAK&party=RUS").json()["items"]]

"""PostgreSQL specifics: the server going away and coming back."""

from __future__ import annotations

import time

import pytest

from collector import create_app
from collector import keys

import pg
from conftest import basic
from conftest import make_event


@pytest.mark.slow
def test_server_down_is_503_then_recovers_without_a_restart():
    reason = pg.available()
    if reason:
        pytest.skip(f"SKIPPED LOUDLY: PostgreSQL tests cannot run: {reason}")
    server = pg.PostgresServer().start()  # its own server: this test stops it
    app = create_app({"DATABASE_URL": server.fresh_database(), "SQLITE_BUSY_TIMEOUT_MS": 1000,
                      "RETRY_AFTER_SECONDS": 2, "LOG_LEVEL": "ERROR"})
    storage = app.extensions["collector.storage"]
    try:
        key = keys.create_key(storage, "pg", [])
        client = app.test_client()
        assert client.post("/v1/events", json=make_event(), headers=basic(key)).status_code == 204
        server.pause()
        for _ in range(3):
            response = client.post("/v1/events", json=make_event(), headers=basic(key))
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "2"
            assert response.json["code"] == "storage_unavailable"
        assert client.get("/readyz").status_code == 503
        server.resume()
        deadline, status = time.monotonic() + 20, None
        while time.monotonic() < deadline and status != 204:
            status = client.post("/v1/events", json=make_event(), headers=basic(key)).status_code
            time.sleep(0.2)
        assert status == 204, "the same app (no restart) writes again once the server is back"
        assert client.get("/readyz").status_code == 200
        rows = storage.query("SELECT count(*) FROM events")[1]
        assert rows[0][0] == 2
    finally:
        storage.close()
        server.stop()

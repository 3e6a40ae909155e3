"""PostgreSQL specifics: the server going away and coming back under running gunicorn workers."""

from __future__ import annotations

import time

import pytest
import requests

from support import pg
from support.factories import basic
from support.factories import make_event
from support.servers import Gunicorn
from support.servers import prepare_store


@pytest.mark.processes
def test_server_down_is_503_then_recovers_without_a_restart():
    reason = pg.available()
    if reason:
        pytest.skip(f"SKIPPED LOUDLY: PostgreSQL tests cannot run: {reason}")
    server = pg.PostgresServer().start()  # its own server: this test stops it
    try:
        url = server.fresh_database()
        key = prepare_store(url, "pg")
        with Gunicorn(url, workers=2, SQLITE_BUSY_TIMEOUT_MS=1000, RETRY_AFTER_SECONDS=2) as collector:
            post = lambda: requests.post(collector.url + "/v1/events", json=make_event(),  # noqa: E731
                                         headers=basic(key), timeout=10)
            assert post().status_code == 200  # a home page view, answered with its lists
            server.pause()
            for _ in range(4):  # reaches both workers
                response = post()
                assert response.status_code == 503
                assert response.headers["Retry-After"] == "2"
                assert response.json()["code"] == "storage_unavailable"
            assert requests.get(collector.url + "/readyz", timeout=10).status_code == 503
            server.resume()
            deadline, statuses = time.monotonic() + 20, []
            while time.monotonic() < deadline and statuses[-4:] != [200] * 4:
                statuses.append(post().status_code)
            assert statuses[-4:] == [200] * 4, f"the same workers write again once the server is back: {statuses}"
            # A worker whose pool is between reconnection attempts (psycopg_pool backs off while the server
            # is down) answers 503 a little longer; every worker is ready again within the deadline.
            deadline, ready = time.monotonic() + 20, []
            while time.monotonic() < deadline and ready[-4:] != [200] * 4:
                ready.append(requests.get(collector.url + "/readyz", timeout=10).status_code)
            assert ready[-4:] == [200] * 4, f"readiness comes back without a restart: {ready}"
        import psycopg

        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1 + statuses.count(200)
    finally:
        server.stop()

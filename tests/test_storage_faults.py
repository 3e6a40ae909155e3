"""The 503 path: a locked or read-only database is answered 503 with Retry-After, never 2xx or 500."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess

import pytest
import requests

from collector import create_app

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import new_id
from support.factories import stored_status
from support.servers import Gunicorn
from support.servers import prepare_store
from support.servers import stored_event_ids

pytestmark = pytest.mark.sqlite_only  # these tests lock and freeze the SQLite file itself


#: What a stored home page view is answered: 200, with its lists.
STORED = stored_status(make_event())


def test_locked_database_is_503_then_recovers(make_app, key, db_path, db):
    client = make_app(SQLITE_BUSY_TIMEOUT_MS=100, RETRY_AFTER_SECONDS=7).test_client()
    body = make_event(env_event_id=new_id())
    analyst = sqlite3.connect(db_path, isolation_level=None)
    analyst.execute("BEGIN IMMEDIATE")  # a long write transaction elsewhere holds the lock
    try:
        for path, payload in (("/v1/events", body), ("/user-interactions", make_interaction()),
                              ("/v1/events", {"events": [make_event()]}), ("/v1/events", {"user": {}})):
            response = client.post(path, json=payload, headers=basic(key))
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "7"
            assert response.json["code"] == "storage_unavailable"
        assert client.get("/readyz").status_code == 200  # reads still work under WAL
    finally:
        analyst.execute("ROLLBACK")
        analyst.close()
    # The id was not claimed by the failed attempt: the retry stores it.
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    assert db("SELECT event_id FROM events") == [{"event_id": body["event_id"]}]
    assert db("SELECT count(*) AS n FROM rejected") == [{"n": 0}]


def test_unopenable_database_is_503_on_ingest_and_readyz(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/c.sqlite3"})
    client = app.test_client()
    response = client.post("/v1/events", json=make_event(), headers=bearer("live_x"))
    assert response.status_code == 503 and "Retry-After" in response.headers
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json["code"]) == (503, "storage_unavailable")


def _set_read_only(path: str, read_only: bool) -> None:
    """Make the file unwritable for this process: file modes, or the immutable flag for root (who ignores modes)."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444 if read_only else 0o644)
        return
    if not shutil.which("chattr"):
        pytest.skip("SKIPPED LOUDLY: running as root without chattr, so a file cannot be made read-only")
    result = subprocess.run(["chattr", "+i" if read_only else "-i", path], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"SKIPPED LOUDLY: chattr does not work on this filesystem: {result.stderr.strip()}")


@pytest.mark.processes
def test_read_only_database_under_gunicorn(tmp_path):
    """Make the file read-only under running workers: each answer is a 503 with Retry-After, or a 200
    for an event that really was written (a worker's open connection may still write to the WAL);
    then ingest recovers without restart and every acknowledged event is in the store."""
    path = str(tmp_path / "c.sqlite3")
    key = prepare_store(path, "ro")
    acknowledged, refused = [], 0
    with Gunicorn(path, workers=2, RETRY_AFTER_SECONDS=3) as server:
        url = server.url + "/v1/events"
        first = make_event(env_event_id=new_id())
        assert requests.post(url, json=first, headers=basic(key), timeout=10).status_code == STORED
        acknowledged.append(first["event_id"])
        _set_read_only(path, True)
        try:
            for _ in range(6):  # reaches every worker
                event = make_event(env_event_id=new_id())
                response = requests.post(url, json=event, headers=basic(key), timeout=10)
                if response.status_code == STORED:
                    acknowledged.append(event["event_id"])
                    continue
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == "3"
                assert response.json()["code"] == "storage_unavailable"
                refused += 1
        finally:
            _set_read_only(path, False)
        event = make_event(env_event_id=new_id())
        assert requests.post(url, json=event, headers=basic(key), timeout=10).status_code == STORED
        acknowledged.append(event["event_id"])
    stored = stored_event_ids(path)
    print(f"read-only file: {refused} answered 503, {len(acknowledged)} acknowledged, {len(stored)} stored")
    assert stored == set(acknowledged)


def test_long_analyst_read_does_not_stop_ingest(make_app, key, db_path, db):
    """An analyst's open read transaction (WAL readers never block the writer): ingest goes on."""
    client = make_app(SQLITE_BUSY_TIMEOUT_MS=100).test_client()
    analyst = sqlite3.connect(db_path, isolation_level=None)
    analyst.execute("BEGIN")
    analyst.execute("SELECT count(*) FROM events").fetchone()  # holds a read snapshot from here on
    try:
        for _ in range(5):
            body = make_event()
            assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
        assert analyst.execute("SELECT count(*) FROM events").fetchone()[0] == 0  # its snapshot is unchanged
    finally:
        analyst.execute("COMMIT")
        analyst.close()
    assert db("SELECT count(*) AS n FROM events") == [{"n": 5}]


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs, so the disk really fills up (needs root: CI runs as root)."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("SKIPPED LOUDLY: mounting a small tmpfs needs root; the disk-full test did not run")
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True,
                            text=True)
    if result.returncode != 0:
        pytest.skip(f"SKIPPED LOUDLY: cannot mount a tmpfs here: {result.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.processes
def test_disk_full_is_503_then_recovers_when_space_returns(small_disk):
    """Fill the disk under a running worker: 503 with Retry-After (never 2xx for an unwritten event, never
    500); free space and the same worker stores again; every acknowledged event is in the file."""
    path = str(small_disk / "c.sqlite3")
    key = prepare_store(path, "full")
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * 1_500_000)  # room for a few hundred events, then nothing
    acknowledged, statuses = [], []
    profile = {"notes": "x" * 3000}
    with Gunicorn(path, workers=1, RETRY_AFTER_SECONDS=2) as server:
        url = server.url + "/v1/events"
        for _ in range(2000):
            event = make_event(env_event_id=new_id(), user={"anonymous_id": "a1", "profile": profile})
            response = requests.post(url, json=event, headers=basic(key), timeout=10)
            statuses.append(response.status_code)
            if response.status_code == STORED:
                acknowledged.append(event["event_id"])
                continue
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "2" and response.json()["code"] == "storage_unavailable"
            if statuses.count(503) >= 5:
                break
        assert 503 in statuses, "the disk never filled up"
        filler.unlink()
        for _ in range(3):
            event = make_event(env_event_id=new_id())
            assert requests.post(url, json=event, headers=basic(key), timeout=10).status_code == STORED
            acknowledged.append(event["event_id"])
    stored = stored_event_ids(path)
    print(f"\ndisk full: {statuses.count(STORED)} stored before it filled, {statuses.count(503)} answered 503, "
          f"{len(acknowledged)} acknowledged in all, {len(set(acknowledged) - stored)} missing")
    assert set(acknowledged) <= stored
    assert 500 not in statuses

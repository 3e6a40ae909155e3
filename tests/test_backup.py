"""`collector backup`: a consistent copy of a running SQLite store while gunicorn keeps taking events;
on PostgreSQL, the pg_dump command (without the password)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

from collector import create_app

from support.factories import basic
from support.factories import make_event
from support.factories import new_id
from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import prepare_store


def _cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    """Run `collector ARGS` against a store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env["COLLECTOR_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "collector.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def _grow(path: str, doublings: int) -> int:
    """Make the store big enough that a copy takes a while: double its events (new ids) a few times."""
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(events)") if row[1] != "id"]
        chosen = ", ".join(columns)
        for n in range(doublings):
            renamed = chosen.replace("event_id", f"event_id || '-{n}'", 1)
            conn.execute(f"INSERT INTO events ({chosen}) SELECT {renamed} FROM events")
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


@pytest.mark.slow
@pytest.mark.processes
def test_a_backup_under_ingest_holds_every_event_acknowledged_before_it(tmp_path):
    path = str(tmp_path / "live.sqlite3")
    key = prepare_store(path, "shop")
    acknowledged: list[tuple[float, str]] = []
    stop, lock, failures = threading.Event(), threading.Lock(), []

    def send(url: str) -> None:
        """Post batches until told to stop, noting when each event was acknowledged."""
        with requests.Session() as session:
            while not stop.is_set():
                batch = [make_event(env_event_id=new_id()) for _ in range(10)]
                answer = session.post(f"{url}/v1/events", json={"events": batch}, headers=basic(key), timeout=30)
                if answer.status_code == 200:
                    at = time.monotonic()
                    with lock:
                        acknowledged.extend((at, event["event_id"]) for event in batch)
                elif answer.status_code != 503:
                    failures.append(answer.text)

    with Gunicorn(path, workers=2) as server:
        for _ in range(3):
            requests.post(f"{server.url}/v1/events", json={"events": [make_event(env_event_id=new_id())
                                                                       for _ in range(10)]},
                          headers=basic(key), timeout=10)
        total = _grow(path, 13)
        threads = [threading.Thread(target=send, args=(server.url,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(2)
        began = time.monotonic()
        copy = str(tmp_path / "copy.sqlite3")
        made = _cli(f"sqlite:///{path}", "backup", copy)
        ended = time.monotonic()
        time.sleep(1)
        stop.set()
        for thread in threads:
            thread.join()
    assert made.returncode == 0, made.stderr
    assert "backed up" in made.stderr and "to restore" in made.stderr
    assert not failures
    during = [event for at, event in acknowledged if began <= at <= ended]
    print(f"{total:,} events in the store; backup took {ended - began:.2f} s; {len(during)} events acknowledged "
          "during it")
    assert during, "ingest went on during the backup"
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        stored = {row[0] for row in conn.execute("SELECT event_id FROM events")}
    before = [event for at, event in acknowledged if at < began]
    assert before and set(before) <= stored
    # The copy is a store the collector opens as it is.
    restored = create_app({"DATABASE_URL": f"sqlite:///{copy}"}).extensions["collector.storage"]
    assert restored.migrate() == []
    assert restored.query("SELECT count(*) FROM events")[1][0][0] == len(stored)
    restored.close()
    assert _cli(f"sqlite:///{path}", "backup", copy).returncode == 1  # never over an existing file


def test_on_postgresql_the_pg_dump_command_without_the_password(tmp_path):
    shown = _cli("postgresql://collector:s3cret-pass@db.internal:5432/collector", "backup", "/backups/c.dump")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == ("pg_dump --format=custom --file /backups/c.dump "
                                    "postgresql://collector@db.internal:5432/collector")
    assert "s3cret-pass" not in shown.stdout + shown.stderr and "pg_restore" in shown.stderr

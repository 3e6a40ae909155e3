"""End to end: real gunicorn with several workers, thousands of events from several threads."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
import requests

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import new_id
from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import database_url
from support.servers import free_port
from support.servers import prepare_store

THREADS = 8
ROUNDS = 60  # each round: 1 single DataCue event, a batch of 10, 1 Cobi record, a batch of 3 records


def _send(session, url, body, headers, acknowledged, ids, lock, failures):
    """Post until acknowledged; remember the ids a 2xx acknowledged."""
    for _ in range(20):
        try:
            response = session.post(url, json=body, headers=headers, timeout=30)
        except requests.RequestException:
            continue
        if response.status_code in (200, 201, 204):
            with lock:
                acknowledged.extend(ids)
            return
        if response.status_code != 503:
            failures.append((response.status_code, response.text))
            return
    failures.append(("gave up", ids))


@pytest.mark.processes
def test_every_acknowledged_event_is_stored_exactly_once(tmp_path):
    path = str(tmp_path / "e2e.sqlite3")
    key = prepare_store(path, "e2e")
    acknowledged, failures, lock = [], [], threading.Lock()

    def client(server):
        session = requests.Session()
        for _ in range(ROUNDS):
            single = make_event(env_event_id=new_id())
            _send(session, server.url + "/v1/events", single, basic(key), acknowledged,
                  [single["event_id"]], lock, failures)
            batch = [make_event("search", None, term="t", env_event_id=new_id()) for _ in range(10)]
            _send(session, server.url + "/v1/events", {"events": batch}, basic(key), acknowledged,
                  [e["event_id"] for e in batch], lock, failures)
            record = make_interaction(event_id=new_id())
            _send(session, server.url + "/user-interactions", record, bearer(key), acknowledged,
                  [record["event_id"]], lock, failures)
            records = [make_interaction(event_id=new_id()) for _ in range(3)]
            _send(session, server.url + "/v1/user-interactions", {"records": records}, bearer(key),
                  acknowledged, [r["event_id"] for r in records], lock, failures)

    with Gunicorn(path, workers=4) as server:
        threads = [threading.Thread(target=client, args=(server,)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    conn = sqlite3.connect(path)
    stored = [row[0] for row in conn.execute("SELECT event_id FROM events")]
    conn.close()
    expected = THREADS * ROUNDS * 15
    print(f"\nacknowledged {len(acknowledged)} events, stored {len(stored)}, distinct {len(set(stored))}")
    assert len(acknowledged) == len(set(acknowledged)) == expected
    assert len(stored) == len(set(stored)) == expected
    assert set(stored) == set(acknowledged)


@pytest.mark.processes
def test_gunicorn_serves_the_checkouts_wsgi_module(tmp_path):
    """`gunicorn wsgi:app`, typed in a checkout as the design card's layout promises, serves the collector."""
    path = str(tmp_path / "wsgi.sqlite3")
    prepare_store(path, "wsgi")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_") and k != "PYTHONPATH"}
    env["COLLECTOR_DATABASE_URL"] = database_url(path)
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                                    "1", "wsgi:app"], cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        deadline, answer = time.monotonic() + 30, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        assert answer is not None, log.read_text()
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok"}
    finally:
        process.terminate()
        process.wait(timeout=30)

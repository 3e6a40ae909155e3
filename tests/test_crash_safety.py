"""Crash safety: 100,000 events through gunicorn while workers, and once the master, are killed with
SIGKILL at random moments. Clients retry until they get an answer; afterwards no acknowledged event is
missing and none is stored twice."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import threading
import time

import pytest
import requests

from support.factories import basic
from support.factories import make_event
from support.factories import new_id
from support.servers import Gunicorn
from support.servers import prepare_store

pytestmark = [pytest.mark.long, pytest.mark.processes]

EVENTS = 100_000
BATCH = 50
CLIENTS = 4


def _children(pid: int) -> list[int]:
    """The worker processes of a gunicorn master."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


@pytest.mark.slow
def test_kill_9_workers_and_master_loses_nothing(tmp_path):
    path = str(tmp_path / "crash.sqlite3")
    key = prepare_store(path, "crash")
    batches = [[make_event(env_event_id=new_id(), user={"anonymous_id": f"a{n % 500}"}) for _ in range(BATCH)]
               for n in range(EVENTS // BATCH)]
    acknowledged: list[str] = []
    failures = {"errors": 0, "5xx": 0}
    kills = {"workers": 0, "master": 0}
    server = Gunicorn(path, workers=2, RETRY_AFTER_SECONDS=1).__enter__()
    url = server.url + "/v1/events"
    done = threading.Event()

    deadline = time.monotonic() + 600  # a run that cannot finish fails instead of hanging CI
    problems: list[str] = []

    def client(mine):
        """Send each batch until it is answered 2xx, as the tracker would."""
        session = requests.Session()
        for batch in mine:
            while time.monotonic() < deadline and not problems:
                try:
                    response = session.post(url, json={"events": batch}, headers=basic(key), timeout=30)
                except requests.RequestException:
                    failures["errors"] += 1
                    session.close()
                    session = requests.Session()
                    time.sleep(0.05)
                    continue
                if response.status_code == 200 and response.json()["received"] == BATCH:
                    acknowledged.extend(event["event_id"] for event in batch)
                    break
                if response.status_code < 500:  # never a 4xx for valid events
                    problems.append(f"{response.status_code}: {response.text[:200]}")
                failures["5xx"] += 1
                time.sleep(0.05)
        session.close()

    def restart():
        """What the supervisor (systemd in production) does: start it again on the same port."""
        nonlocal server
        for _ in range(20):
            try:
                server = Gunicorn(path, workers=2, RETRY_AFTER_SECONDS=1, port=server.port).__enter__()
                return
            except RuntimeError as exc:  # the port not free yet, say
                last = exc
                time.sleep(0.5)
        problems.append(f"could not restart gunicorn: {last}")

    def killer():
        """SIGKILL a random worker every so often; once, halfway, the master and its workers together."""
        rng = random.Random(7)
        while not done.is_set() and not problems:
            time.sleep(rng.uniform(0.2, 0.8))
            if not kills["master"] and len(acknowledged) >= EVENTS // 2:
                os.killpg(server.process.pid, signal.SIGKILL)  # the whole process group: no orphan keeps the port
                server.process.wait()
                kills["master"] += 1
                time.sleep(0.5)
                restart()
                continue
            workers = _children(server.process.pid)
            if workers:
                subprocess.run(["kill", "-9", str(rng.choice(workers))], check=False)
                kills["workers"] += 1

    threads = [threading.Thread(target=client, args=(batches[n::CLIENTS],)) for n in range(CLIENTS)]
    chaos = threading.Thread(target=killer)
    started = time.monotonic()
    for thread in threads:
        thread.start()
    chaos.start()
    for thread in threads:
        thread.join()
    done.set()
    chaos.join()
    server.stop()
    conn = sqlite3.connect(path)
    stored, distinct = conn.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone()
    present = {row[0] for row in conn.execute("SELECT event_id FROM events")}
    conn.close()
    lost = len(set(acknowledged) - present)
    print(f"\ncrash safety: {EVENTS} events posted in batches of {BATCH} by {CLIENTS} clients in "
          f"{time.monotonic() - started:.0f} s; {kills['workers']} workers and {kills['master']} master killed "
          f"with SIGKILL; {failures['errors']} connection errors and {failures['5xx']} 5xx answers retried; "
          f"{len(acknowledged)} acknowledged, {stored} stored, {lost} lost, {stored - distinct} duplicated")
    assert not problems, problems
    assert kills["workers"] >= 5 and kills["master"] == 1
    assert len(acknowledged) == EVENTS
    assert lost == 0 and stored == distinct == EVENTS

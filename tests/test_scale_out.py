"""Two collector nodes over one PostgreSQL, two forwarders: nothing lost, nothing doubled."""

from __future__ import annotations

import base64
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import requests

from collector import create_app
from collector.clock import now_iso

from support.factories import make_event
from support.factories import new_id
from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import prepare_store
from support.upstream import Upstream

EVENTS = 20_000
BATCH = 50
THREADS = 8


@pytest.mark.processes
def test_two_nodes_two_forwarders_one_database(postgres_server):
    url = postgres_server.fresh_database()
    key = prepare_store(url, "scale")
    storage = create_app({"DATABASE_URL": url}).extensions["collector.storage"]
    with Upstream() as upstream:
        storage.add_target(key, "webhook", upstream.url, "whsec_" + base64.b64encode(b"s" * 32).decode(), now_iso())
        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
        env.update({"COLLECTOR_DATABASE_URL": url, "COLLECTOR_FORWARD_BATCH": "200"})
        forwarders = [subprocess.Popen([sys.executable, "-m", "collector.cli", "forward", "run"], cwd=ROOT, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
        acknowledged, failures, lock = [], [], threading.Lock()
        batches = iter([[make_event(env_event_id=new_id()) for _ in range(BATCH)] for _ in range(EVENTS // BATCH)])
        with Gunicorn(url, workers=2) as one, Gunicorn(url, workers=2) as two:
            nodes = itertools.cycle([one.url, two.url])

            def client():
                session = requests.Session()
                for batch in iter(lambda: next(batches, None), None):
                    for attempt in range(20):  # retry on failure, possibly on the other node
                        node = next(nodes)
                        try:
                            response = session.post(f"{node}/v1/events?key={key}", json={"events": batch}, timeout=30)
                        except requests.RequestException:
                            continue
                        if response.status_code == 200:
                            with lock:
                                acknowledged.extend(e["event_id"] for e in batch)
                            break
                        time.sleep(0.05 * attempt)
                    else:
                        failures.append(batch[0]["event_id"])

            threads = [threading.Thread(target=client) for _ in range(THREADS)]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            ingest_seconds = time.monotonic() - started
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pending = [r for r in storage.outbox_status(time.time()) if r["state"] != "delivered"]
            if not pending:
                break
            time.sleep(0.2)
        for forwarder in forwarders:
            forwarder.send_signal(signal.SIGTERM)
        logs = [f.communicate(timeout=60)[1].decode() for f in forwarders]
        received = Counter(upstream.event_ids())
    columns, rows = storage.query("SELECT event_id FROM events")
    stored = [r[0] for r in rows]
    storage.close()
    print(f"\n{len(acknowledged)} events acknowledged by two nodes in {ingest_seconds:.1f} s; "
          f"{len(stored)} stored; {sum(received.values())} forwarded")
    assert failures == []
    assert len(acknowledged) == len(set(acknowledged)) == EVENTS
    assert sorted(stored) == sorted(acknowledged), "every acknowledged event stored exactly once"
    assert set(received) == set(acknowledged), "every event forwarded"
    assert max(received.values()) == 1, "no event sent twice: no row was sent by both forwarders"
    assert all("forward target=" in log for log in logs), "both forwarders drained"

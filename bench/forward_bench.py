"""Benchmark: the forwarder's drain rate against a fast local upstream, beside single-event ingest.

    python bench/forward_bench.py [--events 4000] [--seconds 10]

Starts real gunicorn processes on loopback (the collector, and a 204-only upstream), measures
single-event ingest with a threaded HTTP client, then fills the outbox and times `Forwarder` draining
it to a DataCue target (one request per event) and to a webhook target (batches of 100).
Numbers vary with the machine and its load: compare the ratios printed by one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from load import event  # noqa: E402
from load import ingest_rate  # noqa: E402

from collector import create_app  # noqa: E402
from collector.clock import now_iso  # noqa: E402
from collector.forward.runner import Forwarder  # noqa: E402

from support.servers import Gunicorn  # noqa: E402
from support.servers import free_port  # noqa: E402
from support.servers import prepare_store  # noqa: E402

SETTINGS = {"FORWARD_BATCH": 500, "FORWARD_CONCURRENCY": 4, "FORWARD_LEASE_SECONDS": 60,
            "FORWARD_TIMEOUT_SECONDS": 10, "FORWARD_MAX_AGE_HOURS": 72}


def drain_rate(kind: str, upstream_url: str, events: int, processes: int = 0) -> float:
    """Events per second delivered from a full outbox to one target of this kind.

    With processes=0 one forwarder runs in this process; otherwise that many `collector forward run --once`
    processes share the outbox.
    """
    folder = tempfile.mkdtemp(prefix="forward-bench-")
    path = os.path.join(folder, "bench.sqlite3")
    key = prepare_store(path, "bench")
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING", **SETTINGS})
    storage = app.extensions["collector.storage"]
    storage.add_target(key, kind, upstream_url, "whsec_" + "a" * 43 + "=" if kind == "webhook" else "k", now_iso())
    client = app.test_client()
    for i in range(0, events, 500):
        client.post(f"/v1/events?key={key}", json={"events": [event(j) for j in range(i, min(events, i + 500))]})
    started = time.monotonic()
    if processes:
        env = {**os.environ, "COLLECTOR_DATABASE_URL": f"sqlite:///{path}", "COLLECTOR_LOG_LEVEL": "WARNING",
               **{f"COLLECTOR_{k}": str(v) for k, v in SETTINGS.items()}}
        running = [subprocess.Popen([sys.executable, "-m", "collector.cli", "forward", "run", "--once"], env=env)
                   for _ in range(processes)]
        for process in running:
            process.wait()
    else:
        forwarder = Forwarder(storage, app.config)
        while forwarder.step():
            pass
        forwarder.close()
    elapsed = time.monotonic() - started
    delivered = sum(r["count"] for r in storage.outbox_status(time.time()) if r["state"] == "delivered")
    assert delivered == events, f"{delivered} of {events} delivered"
    return events / elapsed


def main() -> None:
    """Run both measurements and print them with their ratio."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    port = free_port()
    upstream = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}",
                                 "--chdir", str(ROOT / "bench"), "--log-level", "warning", "upstream_app:app"])
    try:
        time.sleep(1.5)
        upstream_url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "ingest.sqlite3")
            key = prepare_store(path, "bench")
            with Gunicorn(path, workers=4, LOG_LEVEL="WARNING") as server:
                ingest = ingest_rate(key, server.url, args.seconds)
        datacue = drain_rate("datacue", upstream_url, args.events)
        datacue_two = drain_rate("datacue", upstream_url, args.events, processes=2)
        webhook = drain_rate("webhook", upstream_url, args.events * 5)
    finally:
        upstream.terminate()
        upstream.wait()
    print(f"single-event ingest (gunicorn, 4 workers, 8 client threads): {ingest:8.0f} events/s")
    print(f"drain to DataCue, one request per event, one forwarder:     {datacue:8.0f} events/s "
          f"= {datacue / ingest:.1f} x ingest")
    print(f"drain to DataCue, one request per event, two forwarders:    {datacue_two:8.0f} events/s "
          f"= {datacue_two / ingest:.1f} x ingest")
    print(f"drain to a webhook, batches of 100:                           {webhook:8.0f} events/s "
          f"= {webhook / ingest:.1f} x ingest")


if __name__ == "__main__":
    main()

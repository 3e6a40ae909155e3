"""The load generator both benchmarks share: a closed-loop threaded HTTP client on loopback."""

from __future__ import annotations

import threading
import time
import uuid

import requests


def event(i: int) -> dict:
    """A small valid DataCue event with a fresh id."""
    return {"event_id": str(uuid.uuid4()), "user": {"anonymous_id": f"a{i}"},
            "event": {"type": "search", "term": f"t{i}"}}


def ingest_rate(key: str, url: str, seconds: float, batch: int = 1, threads: int = 8) -> float:
    """Events per second the collector acknowledges, single events (batch=1) or batches of `batch`."""
    counts = [0] * threads
    deadline = time.monotonic() + seconds

    def client(n):
        session = requests.Session()
        i = 0
        while time.monotonic() < deadline:
            i += batch
            body = event(i) if batch == 1 else {"events": [event(i + j) for j in range(batch)]}
            status = session.post(url + f"/v1/events?key={key}", json=body, timeout=30).status_code
            if status in (200, 204):
                counts[n] += batch

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / (time.monotonic() - started)

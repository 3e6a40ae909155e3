"""Benchmark: what a request costs in process, beside the two reference apps, and the pieces of a batch's event.

    python bench/ingest_floor.py

No HTTP and no threads: Flask's test client posts the same bodies to the bare app, the validation-only app
(plain marshmallow) and the collector (a fresh SQLite store, synchronous OFF), best of three runs each, and
prints microseconds per request and the collector's rate as a share of validation alone. Then, for a batch of
100 searches, the microseconds per event of plain validation, of the collector's compiled validation, of the
intake's whole load of an event (validation, row, payload JSON, size) and of the store's write of the rows:
the floor that no change around them can go under.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import bare_app  # noqa: E402
import validate_app  # noqa: E402
from bodies import body  # noqa: E402
from inprocess import fresh_collector  # noqa: E402

from collector.ingest import families  # noqa: E402
from collector.ingest.intake import Intake  # noqa: E402
from collector.ingest.rejections import Client  # noqa: E402
from collector.schemas import datacue  # noqa: E402

#: Requests per run of each load.
COUNTS = {"single": 3000, "click": 3000, "cobi": 3000, "batch100": 200}


def per_request(client, headers: dict, kind: str) -> float:
    """Microseconds per request of this kind, the best of three runs."""
    best = float("inf")
    for _ in range(3):
        requests = [body(kind, 9) for _ in range(COUNTS[kind])]
        started = time.perf_counter()
        for path, data, _ids in requests:
            answer = client.post(path, data=data, headers=headers)
        assert answer.status_code < 300, answer.status_code
        best = min(best, (time.perf_counter() - started) / len(requests) * 1e6)
    return best


def per_event(run, batches: int) -> float:
    """Microseconds per event of `run(i)` over batches of 100, the best of three runs."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for i in range(batches):
            run(i)
        best = min(best, (time.perf_counter() - started) / batches / 100 * 1e6)
    return best


def main() -> None:
    """Print both tables."""
    with tempfile.TemporaryDirectory() as folder:
        storage, collector, headers = fresh_collector(folder)
        apps = {"bare": bare_app.app.test_client(), "validation only": validate_app.app.test_client(),
                "collector": collector}
        print("| load | bare us | validation only us | collector us | collector / validation only |")
        print("|---|---|---|---|---|")
        for kind in COUNTS:
            cost = {name: per_request(client, headers, kind) for name, client in apps.items()}
            print(f"| {kind} | {cost['bare']:.0f} | {cost['validation only']:.0f} | {cost['collector']:.0f} "
                  f"| {cost['validation only'] / cost['collector']:.2f} |")
        with sqlite3.connect(f"{folder}/bench.sqlite3") as conn:
            conn.row_factory = sqlite3.Row
            key_row = dict(conn.execute("SELECT * FROM keys").fetchone())
        client = Client(ip="192.0.2.1", user_agent="Mozilla/5.0", language=None)

        def intake() -> Intake:
            """A fresh intake of DataCue events for the bench's key."""
            return Intake(families.DATACUE, key_row, storage, client, collector.application.config)

        batches = [json.loads(body("batch100", 5)[1])["events"] for _ in range(60)]
        plain = per_event(lambda i: [datacue.EVENT.load(e) for e in batches[i]], 60)
        fast = per_event(lambda i: [families.DATACUE.item_schema.load(e) for e in batches[i]], 60)
        loaded = per_event(lambda i: [intake().load(e, None) for e in json.loads(json.dumps(batches[i]))], 60)
        rows = [[intake().load(e, None) for e in json.loads(body("batch100", 6)[1])["events"]] for _ in range(180)]
        fresh = iter(rows)
        write = per_event(lambda i: storage.write(next(fresh), []), 60)
    print(f"\nper event of a batch of 100, us: plain validation {plain:.1f}; compiled validation {fast:.1f}; the "
          f"intake's load (compiled validation, row, payload JSON, size) {loaded:.1f}; the store's write {write:.1f}")


if __name__ == "__main__":
    main()

"""Benchmark: ingest latency while a retention pass deletes old events, against the same load without one.

    python bench/retention_bench.py [--old 1000000] [--seconds 10]

Fills a SQLite store with `--old` events received 100 days ago (and some lines), starts the collector
under real gunicorn (2 workers), and sends single events from 4 threads at a steady pace (each waits
20 ms between requests: a shop's traffic, not a saturating load, so the latency measured is a request's,
not the queue's). First without retention, then while `collector prune --older-than 30` deletes every old
event, a few thousand rows a transaction. Prints each phase's p50, p99 and max latency and the ratio of the
p99s. Numbers vary with the machine's load: compare the ratio of one run.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from load import event  # noqa: E402

from support.servers import Gunicorn  # noqa: E402
from support.servers import prepare_store  # noqa: E402

THREADS = 4
PAUSE = 0.02


def fill(path: str, key: str, old: int) -> None:
    """`old` events received 100 days ago, one line each for a tenth of them, written straight to the file."""
    with sqlite3.connect(path) as conn:
        rows = ((f"old-{n}", key, "live", "datacue", "search", f"a{n % 50000}", "2026-01-01T00:00:00.000Z",
                 "2026-01-01T00:00:00.000Z", '{"event": {"type": "search"}}', f"t{n % 1000}") for n in range(old))
        conn.executemany("INSERT INTO events (event_id, key, mode, source, type, anonymous_id, received_at, "
                         "event_time, payload, term) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("INSERT INTO event_lines (event_pk, key, event_id, line_no, product_id, quantity, unit_price) "
                     "SELECT id, key, event_id, 0, 'p1', 1, 10 FROM events WHERE id % 10 = 0")


def measure(url: str, key: str, until) -> list[float]:
    """Latencies (seconds) of single events sent by THREADS paced clients until `until()` holds."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        """Send, note the latency, pause; repeat."""
        with requests.Session() as session:
            i = n * 10_000_000
            while not until():
                i += 1
                started = time.perf_counter()
                status = session.post(f"{url}/v1/events?key={key}", json=event(i), timeout=30).status_code
                took = time.perf_counter() - started
                if status == 204:
                    with lock:
                        latencies.append(took)
                time.sleep(PAUSE)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def _after(seconds: float):
    """A condition that holds once `seconds` have passed from now."""
    deadline = time.monotonic() + seconds
    return lambda: time.monotonic() > deadline


def summary(latencies: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max in milliseconds."""
    cut = statistics.quantiles(latencies, n=100)
    return cut[49] * 1000, cut[98] * 1000, max(latencies) * 1000


def main() -> None:
    """Fill, serve, measure without and during a retention pass."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/retention.sqlite3"
        key = prepare_store(path, "bench")
        started = time.monotonic()
        fill(path, key, args.old)
        print(f"{args.old:,} old events written in {time.monotonic() - started:.0f} s", file=sys.stderr)
        with Gunicorn(path, workers=2) as server:
            measure(server.url, key, _after(2.0))  # warm up
            quiet = measure(server.url, key, _after(args.seconds))
            prune = subprocess.Popen([sys.executable, "-m", "collector.cli", "prune", "--older-than", "30"],
                                     env={**server.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            started = time.monotonic()
            busy = measure(server.url, key, lambda: prune.poll() is not None)
            took = time.monotonic() - started
            out, err = prune.communicate()
        if prune.returncode != 0:
            raise SystemExit(err)
    print(f"retention pass: {out.strip()} in {took:.1f} s")
    for name, latencies in (("without retention", quiet), ("during retention", busy)):
        p50, p99, top = summary(latencies)
        print(f"{name:<18} {len(latencies):>6} events  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  max {top:7.1f} ms")
    print(f"p99 during / without: {summary(busy)[1] / summary(quiet)[1]:.2f}")


if __name__ == "__main__":
    main()

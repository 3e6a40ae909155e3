"""Benchmark: ingest on PostgreSQL beside SQLite, single events and batches of 100, same gunicorn settings.

    python bench/ingest_bench.py [--seconds 8]

Starts a PostgreSQL server (as the tests do) and the collector under gunicorn (4 workers) over each
store in turn, and drives both with the same threaded client on loopback. Compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from load import ingest_rate  # noqa: E402

from support import pg  # noqa: E402
from support.servers import Gunicorn  # noqa: E402
from support.servers import prepare_store  # noqa: E402


def main() -> None:
    """Measure and print events/s per backend and mode."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    reason = pg.available()
    if reason:
        sys.exit(f"cannot start PostgreSQL: {reason}")
    server = pg.PostgresServer(durable=True).start()  # fsync on, like SQLite's synchronous=FULL
    results = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for name, store in (("SQLite", f"{folder}/bench.sqlite3"), ("PostgreSQL", server.fresh_database())):
                key = prepare_store(store, "bench")
                with Gunicorn(store, workers=4, LOG_LEVEL="WARNING") as collector:
                    for batch in (1, 100):
                        results[(name, batch)] = ingest_rate(key, collector.url, args.seconds, batch=batch)
    finally:
        server.stop()
    for batch in (1, 100):
        sqlite, postgres = results[("SQLite", batch)], results[("PostgreSQL", batch)]
        label = "single events" if batch == 1 else "batches of 100"
        print(f"{label:15} SQLite {sqlite:8.0f} events/s   PostgreSQL {postgres:8.0f} events/s   "
              f"PostgreSQL/SQLite {postgres / sqlite:.2f}")


if __name__ == "__main__":
    main()

"""Benchmark: Cobi's Data API end to end under gunicorn (one worker), beside its validation alone.

    python bench/data_api_bench.py [--requests 6] [--records 5000] [--store sqlite|postgres]

Loads one shop, then posts requests of `--records` new transactions of that shop (each request new ids)
to `POST /v1/data/transactions` on a real gunicorn over a SQLite file with synchronous=FULL (or a
PostgreSQL server started for the run, fsync on), and reports records per second. The validation-only
rate is the same records through the marshmallow schema in this process; the history-only rate is the
same records' history rows written to a bare SQLite file, the least a store of every version costs. The
target: the endpoint at 70% or more of the validation-only rate. Numbers vary with the machine and its
load: compare the ratios printed by one run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from collector import create_app  # noqa: E402
from collector.access import server_keys  # noqa: E402
from collector.reference.record_types import get  # noqa: E402
from collector.schemas import cobi_data  # noqa: E402, F401 (registers the types)
from collector.storage.columns import VERSION_COLUMNS  # noqa: E402
from collector.storage.columns import insert_sql  # noqa: E402

from support.records import EXAMPLES  # noqa: E402
from support.servers import Gunicorn  # noqa: E402
from support.servers import database_url  # noqa: E402
from support.servers import prepare_store  # noqa: E402


def transactions(count: int) -> list[dict]:
    """New transactions of the example shop (no offer or branch, so the shop is the one reference)."""
    base = {k: v for k, v in EXAMPLES["transactions"].items() if k not in ("offer_id", "branch_id")}
    return [{**base, "transaction_id": str(uuid.uuid4()), "amount": 10.0 + n % 50} for n in range(count)]


def validation_rate(count: int, repeat: int) -> float:
    """Records per second through the transactions schema alone (the endpoint's validation)."""
    schema = get("transactions").schema
    best = 0.0
    for _ in range(repeat):
        records = transactions(count)
        start = time.perf_counter()
        for record in records:
            schema.load(record)
        best = max(best, count / (time.perf_counter() - start))
    return best


def history_rate(count: int, repeat: int) -> float:
    """Records per second when nothing is done but writing their history rows, as the store writes them
    (same table, indexes, chunks of 1,000, synchronous=FULL): the least any store of every version costs."""
    import sqlite3

    path = f"{tempfile.mkdtemp(prefix='data-floor-')}/floor.sqlite3"
    prepare_store(path, "floor")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    insert = insert_sql("record_versions", VERSION_COLUMNS)
    best = 0.0
    for _ in range(repeat):
        records = transactions(count)
        start = time.perf_counter()
        for first in range(0, count, 1000):
            request_id, received_at = str(uuid.uuid4()), "2026-01-01T00:00:00.000000Z"
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(insert, [
                (str(uuid.uuid4()), "key", "live", "transactions", r["transaction_id"], r.get("updated"), 0,
                 "cobi-data", 1, request_id, request_id, received_at, json.dumps(r, separators=(",", ":")), None)
                for r in records[first:first + 1000]])
            conn.execute("COMMIT")
        best = max(best, count / (time.perf_counter() - start))
    conn.close()
    return best


def endpoint_rate(count: int, repeat: int, path: str) -> float:
    """Records per second posted to the endpoint over a store (a SQLite path or a database URL), best
    request of `repeat` (the first warms the worker)."""
    key = prepare_store(path, "bench")
    storage = create_app({"DATABASE_URL": database_url(path)}).extensions["collector.storage"]
    secret = server_keys.create_server_key(storage, key)
    storage.close()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    best = 0.0
    with Gunicorn(path, workers=1, SQLITE_SYNCHRONOUS="FULL") as server, requests.Session() as session:
        assert session.post(f"{server.url}/v1/data/shops", data=json.dumps({"records": [EXAMPLES["shops"]]}),
                            headers=headers).status_code == 200
        for _ in range(repeat):
            body = json.dumps({"records": transactions(count)})
            start = time.perf_counter()
            response = session.post(f"{server.url}/v1/data/transactions", data=body, headers=headers, timeout=120)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, response.text[:500]
            best = max(best, count / elapsed)
    return best


def main() -> None:
    """Run both measures and print them with their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    validation = validation_rate(args.records, args.requests)
    if args.store == "postgres":
        from support.pg import PostgresServer

        server = PostgresServer(durable=True).start()
        try:
            endpoint = endpoint_rate(args.records, args.requests, server.fresh_database())
        finally:
            server.stop()
        where = "PostgreSQL, fsync on"
    else:
        endpoint = endpoint_rate(args.records, args.requests, f"{tempfile.mkdtemp(prefix='data-bench-')}/b.sqlite3")
        where = "SQLite FULL"
    history = history_rate(args.records, args.requests)
    print(f"validation only: {validation:,.0f} records/s")
    print(f"history rows only (bare SQLite FULL): {history:,.0f} records/s; validation and these writes alone: "
          f"{1 / (1 / validation + 1 / history) / validation:.0%} of the validation-only rate")
    print(f"endpoint (gunicorn, 1 worker, {where}): {endpoint:,.0f} records/s")
    print(f"ratio: {endpoint / validation:.0%} (target: 70% or more)")


if __name__ == "__main__":
    main()

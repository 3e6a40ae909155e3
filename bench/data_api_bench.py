"""Benchmark: Cobi's Data API end to end under gunicorn (one worker), beside its validation alone.

    python bench/data_api_bench.py [--requests 6] [--records 5000]

Loads one shop, then posts requests of `--records` new transactions of that shop (each request new ids)
to `POST /v1/data/transactions` on a real gunicorn over a SQLite file with synchronous=FULL, and reports
records per second. The validation-only rate is the same records through the marshmallow schema in this
process. The target: the endpoint at 70% or more of the validation-only rate. Numbers vary with the
machine and its load: compare the ratio printed by one run.
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
from collector import server_keys  # noqa: E402
from collector.reference import get  # noqa: E402
from collector.schemas import cobi_data  # noqa: E402, F401 (registers the types)

from support.records import EXAMPLES  # noqa: E402
from support.servers import Gunicorn  # noqa: E402
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


def endpoint_rate(count: int, repeat: int) -> float:
    """Records per second posted to the endpoint, best request of `repeat` (the first warms the worker)."""
    folder = tempfile.mkdtemp(prefix="data-bench-")
    path = f"{folder}/bench.sqlite3"
    key = prepare_store(path, "bench")
    storage = create_app({"DATABASE_URL": f"sqlite:///{path}"}).extensions["collector.storage"]
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
    args = parser.parse_args()
    validation = validation_rate(args.records, args.requests)
    endpoint = endpoint_rate(args.records, args.requests)
    print(f"validation only: {validation:,.0f} records/s")
    print(f"endpoint (gunicorn, 1 worker, SQLite FULL): {endpoint:,.0f} records/s")
    print(f"ratio: {endpoint / validation:.0%} (target: 70% or more)")


if __name__ == "__main__":
    main()

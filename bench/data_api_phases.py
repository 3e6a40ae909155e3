"""Where a Data API record's time goes: in all, in storage and in JSON parsing, per record, in process.

    python bench/data_api_phases.py [--requests 4]

Flask's test client (no HTTP), one SQLite file, requests of 5,000 new transactions of one shop.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from data_api_bench import transactions  # noqa: E402

from collector import create_app  # noqa: E402
from collector.access import keys  # noqa: E402
from collector.access import server_keys  # noqa: E402
from collector.web import bodies as web_bodies  # noqa: E402

from support.records import EXAMPLES  # noqa: E402


def timed(function, spent: dict, name: str):
    """`function`, adding the seconds each call takes to spent[name]."""
    def wrapper(*args, **kwargs):
        """Call and time."""
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start
    return wrapper


def main() -> None:
    """Post the requests and print microseconds per record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4)
    args = parser.parse_args()
    app = create_app({"DATABASE_URL": f"sqlite:///{tempfile.mkdtemp()}/phases.sqlite3", "LOG_LEVEL": "WARNING",
                      "RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_KEY": ""})
    storage = app.extensions["collector.storage"]
    storage.migrate()
    secret = server_keys.create_server_key(storage, keys.create_key(storage, "phases", []))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    client.post("/v1/data/shops", data=json.dumps({"records": [EXAMPLES["shops"]]}), headers=headers)
    spent = {"storage": 0.0, "parse": 0.0}
    storage.write_records = timed(storage.write_records, spent, "storage")
    web_bodies.parse_json = timed(web_bodies.parse_json, spent, "parse")
    bodies = [json.dumps({"records": transactions(5000)}) for _ in range(args.requests)]
    start = time.perf_counter()
    for body in bodies:
        assert client.post("/v1/data/transactions", data=body, headers=headers).status_code == 200
    per = 1e6 / (5000 * args.requests)
    print(f"in all {(time.perf_counter() - start) * per:.1f} us per record; storage {spent['storage'] * per:.1f}; "
          f"JSON parsing {spent['parse'] * per:.1f}")


if __name__ == "__main__":
    main()

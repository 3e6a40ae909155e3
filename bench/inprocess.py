"""A collector in the benchmark's own process, over a fresh SQLite store: what bench/request_cost.py and
bench/request_profile.py drive with Flask's test client."""

from __future__ import annotations

import base64


def fresh_collector(folder: str, log_level: str = "WARNING"):
    """A collector over a new SQLite store in `folder` (synchronous OFF: the disk is not what is measured;
    no rate limits), with one live key: its storage, a test client and the key's request headers. Imports
    the `collector` package first found on sys.path, so a caller may point it at another checkout."""
    from collector import create_app

    try:
        from collector.access import keys
    except ImportError:  # a checkout from before the package by concern
        from collector import keys

    app = create_app({"DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3", "LOG_LEVEL": log_level,
                      "RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_KEY": "", "SQLITE_SYNCHRONOUS": "OFF"})
    storage = app.extensions["collector.storage"]
    storage.migrate()
    key = keys.create_key(storage, "bench", [])
    headers = {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode(),
               "Content-Type": "application/json"}
    return storage, app.test_client(), headers

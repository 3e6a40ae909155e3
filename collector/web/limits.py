"""Rate limits on the ingest endpoints, per key and per client IP, answered 429 with Retry-After.

Fixed windows counted in each worker's memory: with N workers behind one socket a client can get up to
N times the limit through. That bounds a flood from one key or address without a shared store; a limit
across workers and nodes belongs in nginx (`limit_req`, see docs/deploy.md).

Hand-written rather than flask-limiter: measured in process, flask-limiter added about 250 us to every
request (more than validating and storing the event), this adds a few.
"""

from __future__ import annotations

import math
import re
import threading
import time

from flask import Flask
from flask import current_app
from flask import request

from .. import metrics
from ..errors import ConfigError
from ..errors import RateLimited

_PERIODS = {"second": 1, "minute": 60, "hour": 3600}
#: Counters kept before the oldest windows are dropped (a flood of random addresses must not grow memory).
_MAX_COUNTERS = 100_000


def parse_limit(text: str) -> tuple[int, int] | None:
    """`100/second` -> (100, 1); '' -> None (no limit). Raises ValueError on anything else."""
    if not text:
        return None
    found = re.fullmatch(r"\s*(\d+)\s*/\s*(second|minute|hour)\s*", text)
    if not found or int(found[1]) < 1:
        raise ValueError(text)
    return int(found[1]), _PERIODS[found[2]]


class Limiter:
    """Counts requests per (scope, id) in fixed windows."""

    def __init__(self):
        """Start with no counters."""
        self._counters: dict[tuple[str, str], list[int]] = {}
        self._lock = threading.Lock()

    def hit(self, scope: str, ident: str, limit: tuple[int, int], now: float) -> int:
        """Count one request; return 0 when it is allowed, else the seconds until the window ends."""
        allowed, period = limit
        window = int(now // period)
        with self._lock:
            counter = self._counters.get((scope, ident))
            if counter is None or counter[0] != window:
                if len(self._counters) >= _MAX_COUNTERS:
                    self._counters.clear()
                counter = self._counters[(scope, ident)] = [window, 0]
            counter[1] += 1
            if counter[1] <= allowed:
                return 0
        return max(1, math.ceil((window + 1) * period - now))


def check(key_row: dict) -> None:
    """Refuse the current ingest request when its key or its address is over its limit.

    Runs after authentication: an unknown key is answered 401 before it can count against anyone.
    """
    limits = current_app.extensions["collector.web.limits"]
    if key_row["mode"] == "test" and not current_app.config["RATE_LIMIT_TEST_KEYS"]:
        return
    now = time.time()
    for scope, ident, limit in (("key", key_row["key"], limits["per_key"]),
                                ("address", request.remote_addr or "", limits["per_ip"])):
        if limit is None:
            continue
        retry = limits["limiter"].hit(scope, ident, limit, now)
        if retry:
            metrics.RATE_LIMITED.labels(scope).inc()
            allowed, period = limit
            unit = next(name for name, seconds in _PERIODS.items() if seconds == period)
            raise RateLimited(f"Too many requests from this {scope}: the limit is {allowed} per {unit}. "
                              f"Nothing was stored; retry after {retry} s.", headers={"Retry-After": str(retry)})


def init_app(app: Flask) -> None:
    """Parse the limits once (a bad one stops the start) and give the app its counters."""
    parsed = {}
    for name in ("RATE_LIMIT_PER_KEY", "RATE_LIMIT_PER_IP"):
        try:
            parsed[name] = parse_limit(app.config[name])
        except ValueError:
            raise ConfigError(f"{name} must look like 100/second, 600/minute or 5000/hour (or be empty), "
                              f"got {app.config[name]!r}") from None
    app.extensions["collector.web.limits"] = {"limiter": Limiter(), "per_key": parsed["RATE_LIMIT_PER_KEY"],
                                          "per_ip": parsed["RATE_LIMIT_PER_IP"]}

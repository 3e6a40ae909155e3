"""One stderr line per request, in gunicorn's format, naming the key but never its value."""

from __future__ import annotations

import logging
import sys
import time

from flask import Flask
from flask import g
from flask import request

log = logging.getLogger("collector")


def init_app(app: Flask) -> None:
    """Attach the stderr handler once and log every request after it is answered."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s",
                                               "%Y-%m-%d %H:%M:%S %z"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(app.config["LOG_LEVEL"])

    @app.before_request
    def start_clock():
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        if not log.isEnabledFor(logging.INFO):  # a quieter level: no line, so nothing to format
            return response
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        # request.path, not the URL: the query string may hold ?key=
        # dropped: events a tracker lost from its full queue, reported with its next batch
        dropped = f" dropped={g.dropped}" if g.get("dropped") else ""
        log.info("%s %s %s key=%s accepted=%d rejected=%d%s %.1fms", request.method, request.path,
                 response.status_code, g.get("key_name", "-"), g.get("accepted", 0), g.get("rejected", 0),
                 dropped, elapsed)
        return response

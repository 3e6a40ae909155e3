"""One stderr line per request, in gunicorn's format or as one JSON object (COLLECTOR_LOG_FORMAT=json, for
log shippers), naming the key but never its value."""

from __future__ import annotations

import json
import logging
import sys
import time

from flask import Flask
from flask import g
from flask import request

log = logging.getLogger("collector")
_TEXT = logging.Formatter("[%(asctime)s] [%(process)d] [%(levelname)s] %(message)s", "%Y-%m-%d %H:%M:%S %z")


class JsonFormatter(logging.Formatter):
    """A record as one JSON object: time, level, pid and either the request's fields or the message."""

    def format(self, record: logging.LogRecord) -> str:
        """The record's line."""
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                 "pid": record.process}
        entry.update(getattr(record, "fields", None) or {"message": record.getMessage()})
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, separators=(",", ":"))


def init_app(app: Flask) -> None:
    """Attach the stderr handler once, in the configured format, and log every request after it is answered."""
    if not log.handlers:
        log.addHandler(logging.StreamHandler(sys.stderr))
        log.propagate = False
    for handler in log.handlers:
        handler.setFormatter(JsonFormatter() if app.config["LOG_FORMAT"] == "json" else _TEXT)
    log.setLevel(app.config["LOG_LEVEL"])

    @app.before_request
    def start_clock():
        """Note when the request started, for the log line's duration."""
        g.started = time.perf_counter()

    @app.after_request
    def log_request(response):
        """Write the request's one log line (never a key's value)."""
        if not log.isEnabledFor(logging.INFO):  # a quieter level: no line, so nothing to format
            return response
        elapsed = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        # request.path, not the URL: the query string may hold ?key=
        # dropped: events a tracker lost from its full queue, reported with its next batch
        fields = {"method": request.method, "path": request.path, "status": response.status_code,
                  "key": g.get("key_name", "-"), "accepted": g.get("accepted", 0), "rejected": g.get("rejected", 0),
                  "dropped": g.get("dropped", 0), "ms": round(elapsed, 1)}
        dropped = f" dropped={fields['dropped']}" if fields["dropped"] else ""
        log.info("%s %s %s key=%s accepted=%d rejected=%d%s %.1fms", request.method, request.path,
                 response.status_code, fields["key"], fields["accepted"], fields["rejected"], dropped, elapsed,
                 extra={"fields": fields})
        return response


def note(**values) -> None:
    """Say what the request's log line reports: `key_name` (whose key it came with), `accepted`, `rejected`
    and `dropped` (what it stored, refused, and what the client dropped)."""
    # One look-up of the request's globals, not one per value: this runs on every ingest request.
    vars(g._get_current_object()).update(values)

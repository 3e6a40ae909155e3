"""The tracker as served: collector/static/tracker.min.js (terser's build of the checkout's
static/tracker.js), gzip and brotli, each with an ETag.

The minified file is built by `./dev build-tracker` and shipped in the package; tracker.min.json beside it
records which source it was built from. While the source has changed since (a developer editing it),
the source itself is served, unminified, with a warning, so an edit shows at once. Compressed once per
process (the WSGI entry point does it at start; otherwise the first request), and again only when a
file changes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import brotli

log = logging.getLogger("collector")

STATIC = Path(__file__).resolve().parent.parent / "static"
#: A checkout's top level: its static/ holds the browser code's sources (a wheel ships only their builds).
_CHECKOUT = Path(__file__).resolve().parents[2]
#: The readable source, the single source of truth; None in an installed package.
SOURCE = _CHECKOUT / "static" / "tracker.js" if (_CHECKOUT / "setup.cfg").is_file() else None
#: What is served: terser's output, and the record of the source it was built from.
MINIFIED = STATIC / "tracker.min.js"
RECORD = STATIC / "tracker.min.json"
#: The encodings served, best first, and the ETag suffix of each representation.
ENCODINGS = {"br": "-br", "gzip": "-gz", "identity": ""}


@dataclass(frozen=True)
class Built:
    """The tracker ready to serve: one body per encoding."""

    bodies: dict[str, bytes]
    etag: str
    stamp: tuple[float, ...]

    def best(self, accepted) -> str:
        """The encoding to send for an Accept-Encoding header (werkzeug's parsed form): brotli, gzip, none."""
        for encoding in ("br", "gzip"):
            if accepted.quality(encoding) > 0:  # `in` would also match `br;q=0`
                return encoding
        return "identity"


_lock = threading.Lock()
_built: Built | None = None


def _stamp() -> tuple[float, ...]:
    """The modification times of the files the served tracker depends on."""
    return tuple(path.stat().st_mtime if path and path.exists() else 0.0 for path in (SOURCE, MINIFIED, RECORD))


def script() -> bytes:
    """The tracker to serve: the minified build when it is of the current source (or, installed, always),
    else the source."""
    if SOURCE is None or not SOURCE.is_file():
        return MINIFIED.read_bytes()
    source = SOURCE.read_bytes()
    try:
        record = json.loads(RECORD.read_text())
        if record["source_sha256"] == hashlib.sha256(source).hexdigest():
            return MINIFIED.read_bytes()
    except (OSError, ValueError, KeyError):
        pass
    log.warning("tracker.min.js is not built from tracker.js: serving the source unminified "
                "(run ./dev build-tracker)")
    return source


def built() -> Built:
    """Return the served tracker, rebuilt when a file changes (once per process otherwise)."""
    global _built
    stamp = _stamp()
    if _built is None or _built.stamp != stamp:
        with _lock:
            if _built is None or _built.stamp != stamp:
                body = script()
                _built = Built(bodies={"br": brotli.compress(body, quality=11),
                                       "gzip": gzip.compress(body, 9, mtime=0), "identity": body},
                               etag=hashlib.sha256(body).hexdigest()[:20], stamp=stamp)
    return _built

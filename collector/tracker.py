"""The tracker as served: static/tracker.js minified with calmjs.parse, gzipped, with an ETag."""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from calmjs.parse import es5
from calmjs.parse.unparsers.es5 import minify_print

#: The readable source, the single source of truth.
SOURCE = Path(__file__).resolve().parent.parent / "static" / "tracker.js"


@dataclass(frozen=True)
class Built:
    """The tracker ready to serve."""

    minified: bytes
    gzipped: bytes
    etag: str
    mtime: float


_lock = threading.Lock()
_built: Built | None = None


def minify(source: str) -> str:
    """Minify ES5 source, renaming local names (calmjs.parse, pure Python)."""
    return minify_print(es5(source), obfuscate=True, obfuscate_globals=False) + "\n"


def built() -> Built:
    """Return the served tracker, rebuilt when the source file changes (once per process otherwise)."""
    global _built
    mtime = SOURCE.stat().st_mtime
    if _built is None or _built.mtime != mtime:
        with _lock:
            if _built is None or _built.mtime != mtime:
                minified = minify(SOURCE.read_text()).encode()
                _built = Built(minified=minified, gzipped=gzip.compress(minified, 9, mtime=0),
                               etag=hashlib.sha256(minified).hexdigest()[:20], mtime=mtime)
    return _built

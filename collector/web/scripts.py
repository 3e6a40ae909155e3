"""The files a shop's pages load from the collector, as served: the tracker (/t.js), the widget script
(/w.js) and the widgets' stylesheet (/w.css), each brotli, gzip and plain, with an ETag (and the same
for any other body served that way: the OpenAPI document).

The scripts are terser's builds (collector/static/NAME.min.js) of the checkout's static/NAME.js, made by
`./dev build-tracker` and shipped in the package; NAME.min.json beside each records which source it was
built from. While a source has changed since (a developer editing it), the source itself is served,
unminified, with a warning, so an edit shows at once. The stylesheet is served as it is written.

Each file is compressed once per process (the WSGI entry point does it at start; otherwise the first
request), and again only when one of its files changes. gzip is zopfli's (some 1.5% smaller than zlib's
best, for every visitor, at 10 ms once per process); every browser that takes gzip reads it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import threading
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import brotli
import zopfli.gzip
from flask import Response
from flask import request

log = logging.getLogger("collector")

STATIC = Path(__file__).resolve().parent.parent / "static"
#: A checkout's top level: its static/ holds the browser code's sources (a wheel ships only their builds).
_CHECKOUT = Path(__file__).resolve().parents[2]
_IN_CHECKOUT = (_CHECKOUT / "setup.cfg").is_file()
#: The encodings served, best first, and the ETag suffix of each representation.
ENCODINGS = {"br": "-br", "gzip": "-gz", "identity": ""}


@dataclass(frozen=True)
class Built:
    """A file ready to serve: one body per encoding."""

    bodies: dict[str, bytes]
    etag: str
    stamp: tuple[float, ...]

    def best(self, accepted) -> str:
        """The encoding to send for an Accept-Encoding header (werkzeug's parsed form): brotli, gzip, none."""
        for encoding in ("br", "gzip"):
            if accepted.quality(encoding) > 0:  # `in` would also match `br;q=0`
                return encoding
        return "identity"


@dataclass
class Served:
    """One browser file: what is served (`minified`), and for a built script its readable source (None in
    an installed package, or for a file served as written) and the record of the source it was built from."""

    minified: Path
    source: Path | None = None
    record: Path | None = None
    content_type: str = "application/javascript; charset=utf-8"
    _built: Built | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _stamp(self) -> tuple[float, ...]:
        """The modification times of the files the served body depends on."""
        return tuple(path.stat().st_mtime if path and path.exists() else 0.0
                     for path in (self.source, self.minified, self.record))

    def body(self) -> bytes:
        """What to serve: the minified build when it is of the current source (or, installed, always), else
        the source."""
        if self.source is None or not self.source.is_file():
            return self.minified.read_bytes()
        source = self.source.read_bytes()
        try:
            record = json.loads(self.record.read_text())
            if record["source_sha256"] == hashlib.sha256(source).hexdigest():
                return self.minified.read_bytes()
        except (OSError, ValueError, KeyError):
            pass
        log.warning("%s is not built from %s: serving the source unminified (run ./dev build-tracker)",
                    self.minified.name, self.source.name)
        return source

    def built(self) -> Built:
        """The file ready to serve, compressed again when one of its files changes (once per process otherwise)."""
        stamp = self._stamp()
        if self._built is None or self._built.stamp != stamp:
            with self._lock:
                if self._built is None or self._built.stamp != stamp:
                    self._built = encoded(self.body(), stamp)
        return self._built


def encoded(body: bytes, stamp: tuple[float, ...] = (), thorough: bool = True) -> Built:
    """A body in every encoding served, with its ETag. Thorough (brotli 11, zopfli) for what every visitor of a
    shop loads; otherwise brotli 9 and zlib's best, for a large document read now and then (the OpenAPI
    document's 230 KB take a second thoroughly, 50 ms so)."""
    if thorough:
        compressed = {"br": brotli.compress(body, quality=11), "gzip": zopfli.gzip.compress(body, numiterations=15)}
    else:
        compressed = {"br": brotli.compress(body, quality=9), "gzip": gzip.compress(body, compresslevel=9, mtime=0)}
    return Built(bodies={**compressed, "identity": body}, etag=hashlib.sha256(body).hexdigest()[:20], stamp=stamp)


def representation(built: Built, content_type: str, cache_control: str) -> Response:
    """The answer to this request for a built body: the best encoding it accepts, revalidated by ETag."""
    encoding = built.best(request.accept_encodings)
    response = Response(built.bodies[encoding], content_type=content_type,
                        headers={"Cache-Control": cache_control, "Vary": "Accept-Encoding"})
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    # Each encoding is its own representation, so each has its own ETag.
    response.set_etag(built.etag + ENCODINGS[encoding])
    return response.make_conditional(request)


def _script(name: str) -> Served:
    """A script built by terser from static/NAME.js."""
    return Served(minified=STATIC / f"{name}.min.js", record=STATIC / f"{name}.min.json",
                  source=_CHECKOUT / "static" / f"{name}.js" if _IN_CHECKOUT else None)


#: What the collector serves to a shop's pages, by path.
FILES = {"/t.js": _script("tracker"), "/w.js": _script("widgets"),
         "/w.css": Served(minified=STATIC / "widgets.css", content_type="text/css; charset=utf-8")}
TRACKER = FILES["/t.js"]
WIDGETS = FILES["/w.js"]

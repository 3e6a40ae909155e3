"""CORS for the ingest endpoints: preflights answered 204, headers on every answer, errors included.

Written here rather than with flask-cors: its after-request hook measured about 50 us of a
single-event request's 460 us of CPU (bench/RESULTS.md), for the three paths and one rule below.
"""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import request

#: Where browsers post events.
INGEST_PATHS = frozenset({"/v1/events", "/", "/v1/user-interactions", "/user-interactions"})
#: Methods a preflight may ask for (PUT: the DataCue docs' wishlist examples send it to /v1/events).
_METHODS = frozenset({"POST", "PUT"})
#: Request headers a page may send (lower case, as compared).
ALLOW_HEADERS = frozenset({"authorization", "content-type", "content-encoding"})
#: How long a browser may reuse a preflight's answer, in seconds.
MAX_AGE = "86400"


def init_app(app: Flask) -> None:
    """Add the CORS headers to every ingest answer."""
    app.after_request(add_cors_headers)


def add_cors_headers(response: Response) -> Response:
    """Reflect the request's Origin so the page can read the answer (and Retry-After).

    Any origin: which origins may send with a key is checked per key (403 otherwise); these headers
    only let a browser read the answer, and no cookies are involved.
    """
    if request.path not in INGEST_PATHS:
        return response
    headers = response.headers
    headers.add("Vary", "Origin")  # the answer depends on Origin, so no cache may share it
    origin = request.headers.get("Origin")
    if not origin:
        return response
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Expose-Headers"] = "Retry-After"
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method", "").upper() in _METHODS:
        asked = request.headers.get("Access-Control-Request-Headers", "").split(",")
        allowed = sorted({name.strip().lower() for name in asked} & ALLOW_HEADERS)
        if allowed:
            headers["Access-Control-Allow-Headers"] = ", ".join(allowed)
        methods = "OPTIONS, POST, PUT" if request.path == "/v1/events" else "OPTIONS, POST"
        headers["Access-Control-Allow-Methods"] = methods
        headers["Access-Control-Max-Age"] = MAX_AGE
    return response


def preflight_or(handler):
    """Answer a CORS preflight with 204 (add_cors_headers adds its headers), else run the handler."""
    if request.method == "OPTIONS":
        return "", 204
    return handler()

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
#: Request headers a page may send (lower case, as compared).
ALLOW_HEADERS = frozenset({"authorization", "content-type", "content-encoding"})
#: How long a browser may reuse a preflight's answer, in seconds.
MAX_AGE = "86400"


def init_app(app: Flask) -> None:
    """Add the CORS headers to every ingest answer."""
    app.after_request(add_cors_headers)


def add_cors_headers(response: Response) -> Response:
    """CORS on the browser ingest paths (PUT too on /v1/events, for the DataCue docs' wishlist examples)."""
    if request.path not in INGEST_PATHS:
        return response
    methods = "OPTIONS, POST, PUT" if request.path == "/v1/events" else "OPTIONS, POST"
    return allow(response, ALLOW_HEADERS, methods)


def allow(response: Response, headers_allowed: frozenset[str], methods: str) -> Response:
    """Reflect the request's Origin so the page can read the answer (and Retry-After); answer a preflight
    with the methods and the asked-for headers among `headers_allowed`.

    Any origin: which origins may send with a key is checked per key (403 otherwise); these headers
    only let a browser read the answer, and no cookies are involved.
    """
    headers = response.headers
    headers.add("Vary", "Origin")  # the answer depends on Origin, so no cache may share it
    origin = request.headers.get("Origin")
    if not origin:
        return response
    headers["Access-Control-Allow-Origin"] = origin
    headers["Access-Control-Expose-Headers"] = "Retry-After"
    asking = request.headers.get("Access-Control-Request-Method", "").upper()
    if request.method == "OPTIONS" and asking in methods.split(", "):
        asked = request.headers.get("Access-Control-Request-Headers", "").split(",")
        allowed = sorted({name.strip().lower() for name in asked} & headers_allowed)
        if allowed:
            headers["Access-Control-Allow-Headers"] = ", ".join(allowed)
        headers["Access-Control-Allow-Methods"] = methods
        headers["Access-Control-Max-Age"] = MAX_AGE
    return response


def preflight_or(handler):
    """Answer a CORS preflight with 204 (add_cors_headers adds its headers), else run the handler."""
    if request.method == "OPTIONS":
        return "", 204
    return handler()

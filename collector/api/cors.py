"""CORS for the ingest endpoints: preflights answered 204, headers on every response."""

from __future__ import annotations

from flask import Flask
from flask import request
from flask_cors import CORS

#: Where browsers post events.
INGEST_PATHS = r"^/(v1/events|v1/user-interactions|user-interactions)$"


def init_app(app: Flask) -> None:
    """Reflect the request's Origin on ingest responses, errors included, so the page can read them.

    Which origins may send with a key is checked per key (403 otherwise); these headers only let a
    browser read the answer, and no cookies are involved.
    """
    CORS(app, resources={INGEST_PATHS: {}}, origins="*", send_wildcard=False, vary_header=True,
         methods=["POST", "OPTIONS"], allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
         expose_headers=["Retry-After"], max_age=86400)


def preflight_or(handler):
    """Answer a CORS preflight with 204 (flask-cors adds its headers), else run the handler."""
    if request.method == "OPTIONS":
        return "", 204
    return handler()

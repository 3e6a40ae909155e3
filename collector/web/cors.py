"""CORS for the routes browsers post to (DataCue's events, Cobi's interactions, Segment's and RudderStack's
browser SDKs), answered by flask-cors: the page's Origin reflected so it can read every answer (errors and
Retry-After included), preflights given the methods and the asked-for headers among those allowed.

Any origin here: which origins may send with a key is the collector's own decision, per key
(access/credentials.py answers 403 for another), and no cookies are involved.
"""

from __future__ import annotations

import re

from flask import Flask
from flask import Response
from flask import request
from flask_cors import CORS

#: Request headers a page may send to the event endpoints.
ALLOW_HEADERS = ("authorization", "content-type", "content-encoding")
#: Request headers Segment's and RudderStack's browser SDKs send (SEGMENT_SPEC.md 1.4).
SEGMENT_HEADERS = (*ALLOW_HEADERS, "x-retry-count", "anonymousid", "sentat", "rsa-recovered", "rsa-retry-attempt",
                   "rsa-since-last-attempt", "rsa-since-first-attempt", "rsa-retry-reason")
#: How long a browser may reuse a preflight's answer, in seconds.
MAX_AGE = 86400
#: The blueprints whose routes browsers post to.
BROWSER_BLUEPRINTS = frozenset({"datacue", "cobi", "segment"})


def init_app(app: Flask) -> None:
    """Answer CORS on the routes browsers post to (PUT too on /v1/events, for the DataCue docs' wishlist
    examples; Segment's routes under their configured prefix)."""
    prefix = re.escape(app.config["SEGMENT_PREFIX"].rstrip("/"))
    post = ["OPTIONS", "POST"]
    # Registered first, so it runs after flask-cors's own hook (Flask runs them in reverse).
    app.after_request(vary_on_origin)
    CORS(app, origins="*", always_send=False, allow_headers=list(ALLOW_HEADERS), expose_headers=["Retry-After"],
         max_age=MAX_AGE,
         resources={r"^/v1/events$": {"methods": ["OPTIONS", "POST", "PUT"]},
                    r"^/(v1/)?user-interactions$": {"methods": post},
                    r"^/$": {"methods": post},
                    rf"^{prefix}/.+$": {"methods": post, "allow_headers": list(SEGMENT_HEADERS)}})


def vary_on_origin(response: Response) -> Response:
    """`Vary: Origin` on a browser route's answer to a request without an Origin too (flask-cors adds it
    only beside the CORS headers), so that no cache hands that answer to a page."""
    if request.blueprint in BROWSER_BLUEPRINTS and "Origin" not in request.headers:
        response.headers.add("Vary", "Origin")  # as a header line of its own: parsing Vary costs more
    return response


def preflight_or(handler):
    """Answer a CORS preflight with 204 (flask-cors adds its headers), else run the handler."""
    if request.method == "OPTIONS":
        return "", 204
    return handler()

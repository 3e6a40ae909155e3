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
    hooks = app.after_request_funcs.setdefault(None, [])
    before = list(hooks)
    CORS(app, origins="*", always_send=False, allow_headers=list(ALLOW_HEADERS), expose_headers=["Retry-After"],
         max_age=MAX_AGE,
         resources={r"^/v1/events$": {"methods": ["OPTIONS", "POST", "PUT"]},
                    r"^/(v1/)?user-interactions$": {"methods": post},
                    r"^/$": {"methods": post},
                    rf"^{prefix}/.+$": {"methods": post, "allow_headers": list(SEGMENT_HEADERS)}})
    # flask-cors matches every answer's path against the resources; an answer to a request that carries no
    # Origin gets no CORS header from it anyway, so servers' requests (most of the volume) skip that work.
    (answer_cors,) = [hook for hook in hooks if hook not in before]
    hooks.remove(answer_cors)

    @app.after_request
    def cors_or_vary(response: Response) -> Response:
        """flask-cors's answer to a request from a page (one with an Origin); else `Vary: Origin` on a
        browser route's answer (flask-cors adds it only beside its headers), so no cache hands it to a page."""
        if "Origin" in request.headers:
            return answer_cors(response)
        if request.blueprint in BROWSER_BLUEPRINTS:
            response.headers.add("Vary", "Origin")  # as a header line of its own: parsing Vary costs more
        return response


def preflight_or(handler):
    """Answer a CORS preflight with 204 (flask-cors adds its headers), else run the handler."""
    if request.method == "OPTIONS":
        return "", 204
    return handler()

"""The tracker at /t.js and the demo shop at /demo/."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template_string
from flask import request

from ..storage import current_storage
from ..tracker import built

bp = Blueprint("static_files", __name__)

DEMO = Path(__file__).resolve().parent.parent.parent / "static" / "demo"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "application/javascript; charset=utf-8"}


@bp.get("/t.js")
def tracker():
    """Serve the minified tracker, gzipped when the browser takes gzip, revalidated by ETag."""
    tracker = built()
    gzipped = "gzip" in request.accept_encodings
    response = Response(tracker.gzipped if gzipped else tracker.minified,
                        content_type="application/javascript; charset=utf-8",
                        headers={"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"})
    if gzipped:
        response.headers["Content-Encoding"] = "gzip"
    # Each encoding is its own representation, so each has its own ETag.
    response.set_etag(tracker.etag + ("-gz" if gzipped else ""))
    return response.make_conditional(request)


_EVENTS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Events landed – Demo shop</title>
<link rel="stylesheet" href="shop.css"><link rel="icon" href="data:,"></head><body>
<header><strong>Demo shop</strong><a href="index.html">Back to the shop</a></header>
<h1>The demo key's latest {{ rows|length }} events</h1>
<table><tr>{% for c in columns %}<th>{{ c }}</th>{% endfor %}</tr>
{% for r in rows %}<tr>{% for c in columns %}<td>{{ r[c] if r[c] is not none else "" }}</td>{% endfor %}</tr>
{% endfor %}</table></body></html>"""


@bp.get("/demo/events.html")
def demo_events():
    """Show the demo key's latest events, so a new user sees clicks land."""
    key = current_app.config["DEMO_KEY"]
    if not key:
        abort(404)
    rows = current_storage().recent(key, 30)
    columns = ["event_time", "source", "type", "subtype", "interaction_type", "item_type", "product_id",
               "banner_id", "order_id", "term", "revenue", "currency"]
    return render_template_string(_EVENTS_PAGE, rows=rows, columns=columns), {"Cache-Control": "no-store"}


@bp.get("/demo/")
@bp.get("/demo/<name>")
def demo(name: str = "index.html"):
    """Serve a demo shop page with the demo key in its script tag (only when DEMO_KEY is set)."""
    key = current_app.config["DEMO_KEY"]
    path = DEMO / name
    if not key or path.suffix not in _TYPES or path.parent != DEMO or not path.is_file():
        abort(404)
    body = path.read_text().replace("{{KEY}}", key)
    return Response(body, content_type=_TYPES[path.suffix], headers={"Cache-Control": "no-store"})

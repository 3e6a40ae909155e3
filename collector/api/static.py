"""What a shop's pages load (the tracker at /t.js, the widgets at /w.js and /w.css) and the demo shop at
/demo/ (pages in templates/demo/, assets in static/demo/)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from flask import Blueprint
from flask import Response
from flask import abort
from flask import current_app
from flask import render_template
from flask import request

from ..web.context import current_storage
from ..web.scripts import ENCODINGS
from ..web.scripts import FILES

bp = Blueprint("static_files", __name__)

PACKAGE = Path(__file__).resolve().parent.parent
#: Demo pages, rendered with the demo key: every template of templates/demo/ but the layout.
DEMO_PAGES = frozenset(p.name for p in (PACKAGE / "templates" / "demo").iterdir() if p.name != "base.html")
#: Demo assets served as they are.
DEMO_ASSETS = PACKAGE / "static" / "demo"
_TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
          ".js": "application/javascript; charset=utf-8", ".svg": "image/svg+xml"}
#: The demo shop's catalogue (DataCue backend records, imported by `./dev run`): its pages show it.
DEMO_CATALOGUE = PACKAGE / "data" / "demo" / "products.ndjson"
#: The columns of the demo's "Events landed" page.
_EVENT_COLUMNS = ["event_time", "source", "type", "subtype", "interaction_type", "item_type", "product_id",
                  "banner_id", "order_id", "term", "revenue", "currency"]


@bp.get("/t.js")
@bp.get("/w.js")
@bp.get("/w.css")
def served():
    """Serve the tracker or a widget file, brotli or gzip when the browser takes it, revalidated by ETag."""
    file = FILES[request.path]
    built = file.built()
    encoding = built.best(request.accept_encodings)
    response = Response(built.bodies[encoding], content_type=file.content_type,
                        headers={"Cache-Control": "public, max-age=3600", "Vary": "Accept-Encoding"})
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    # Each encoding is its own representation, so each has its own ETag.
    response.set_etag(built.etag + ENCODINGS[encoding])
    return response.make_conditional(request)


def _demo_key() -> str:
    """The demo key, or 404: the demo is off without one."""
    key = current_app.config["DEMO_KEY"]
    if not key:
        abort(404)
    return key


@bp.get("/demo/events.html")
def demo_events():
    """Show the demo key's latest events, so a new user sees clicks land."""
    key = _demo_key()
    rows = current_storage().recent(key, 30)
    return (render_template("demo/events.html", key=key, rows=rows, columns=_EVENT_COLUMNS),
            {"Cache-Control": "no-store"})


@cache
def demo_catalogue() -> dict[str, dict]:
    """The demo shop's products, by id, in the catalogue's order."""
    with open(DEMO_CATALOGUE, encoding="utf-8") as lines:
        return {row["product_id"]: row for row in map(json.loads, lines)}


@bp.get("/demo/")
@bp.get("/demo/<name>")
def demo(name: str = "index.html"):
    """Serve a demo shop page with the demo key in its script tag (a product page and the cart name their
    product with `?id=`), or one of its assets."""
    key = _demo_key()
    suffix = Path(name).suffix  # the route's <name> holds no slash, so it names a file in one folder
    if suffix not in _TYPES:
        abort(404)
    if name in DEMO_PAGES:
        catalogue = demo_catalogue()
        product = catalogue.get(request.args.get("id", "p1")) or catalogue["p1"]
        body = render_template(f"demo/{name}", key=key, catalogue=list(catalogue.values()), product=product)
    elif (DEMO_ASSETS / name).is_file():
        body = (DEMO_ASSETS / name).read_text()
    else:
        abort(404)
    return Response(body, content_type=_TYPES[suffix], headers={"Cache-Control": "no-store"})

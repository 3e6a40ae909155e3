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
from ..web.scripts import FILES
from ..web.scripts import representation

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
#: What the demo's "Events landed" page shows of an event, after its time and its kind.
_EVENT_DETAILS = ("product_id", "banner_id", "order_id", "term", "item_type", "revenue", "currency")
#: Events the "Events landed" page lists.
_LANDED = 30


@bp.get("/t.js")
@bp.get("/w.js")
@bp.get("/w.css")
def served():
    """Serve the tracker or a widget file, brotli or gzip when the browser takes it, revalidated by ETag."""
    file = FILES[request.path]
    return representation(file.built(), file.content_type, "public, max-age=3600")


def _demo_key() -> str:
    """The demo key, or 404: the demo is off without one."""
    key = current_app.config["DEMO_KEY"]
    if not key:
        abort(404)
    return key


def _landed(row: dict) -> dict:
    """One event as the "Events landed" page shows it: its time, its kind and its details, as text."""
    kind = row["interaction_type"] if row["source"] == "cobi" else " ".join(filter(None, (row["type"], row["subtype"])))
    details = ", ".join(f"{name} {row[name]}" for name in _EVENT_DETAILS if row[name] is not None)
    return {"time": row["event_time"][11:19], "day": row["event_time"][:10], "source": row["source"], "kind": kind,
            "details": details}


@bp.get("/demo/events.html")
def demo_events():
    """Show the demo key's latest events, newest first, so a new user sees clicks land (events.js keeps the
    list up to date from events.json)."""
    key = _demo_key()
    rows = [_landed(row) for row in current_storage().recent(key, _LANDED)]
    return (render_template("demo/events.html", key=key, rows=rows), {"Cache-Control": "no-store"})


@bp.get("/demo/events.json")
def demo_events_json():
    """The same events as data, for the page to refresh itself."""
    return ({"events": [_landed(row) for row in current_storage().recent(_demo_key(), _LANDED)]},
            {"Cache-Control": "no-store"})


@cache
def demo_catalogue() -> dict[str, dict]:
    """The demo shop's products, by id, in the catalogue's order."""
    with open(DEMO_CATALOGUE, encoding="utf-8") as lines:
        return {row["product_id"]: row for row in map(json.loads, lines)}


def _demo_product(key: str, product_id: str) -> dict:
    """The product a demo page names: as the demo key's catalogue holds it (the demo's products, and any
    sent for that key through the backend API), else the demo file's; 404 for a product neither knows."""
    stored = current_storage().records_where(key, "products", "product_id", product_id)
    if stored:
        return stored[min(stored)]  # its first variant
    product = demo_catalogue().get(product_id)
    if product is None:
        abort(404)
    return product


@bp.get("/demo/spa/<path:route>")
def demo_spa(route: str):
    """A deep link of the single-page shop: the same page, whose script shows the route (a reload or a shared
    link must not answer 404, as a single-page app's server falls back to its page)."""
    return demo("spa.html")


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
        product = _demo_product(key, request.args.get("id") or "p1")
        body = render_template(f"demo/{name}", key=key, catalogue=list(demo_catalogue().values()), product=product)
    elif (DEMO_ASSETS / name).is_file():
        body = (DEMO_ASSETS / name).read_text()
    else:
        abort(404)
    return Response(body, content_type=_TYPES[suffix], headers={"Cache-Control": "no-store"})

"""DataCue browser events: `POST /v1/events`, one event or a batch. A single event that loads a page (home
and product page views, searches, cart views) is answered 200 with DataCue's recommendation lists once it
is stored; every other one 204."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app

from ..ingest.families import DATACUE
from ..recommendations.answers import answers
from ..recommendations.answers import recommend
from ..web.context import current_storage
from ..web.cors import preflight_or
from .receive import ingest

bp = Blueprint("datacue", __name__)


class _NoContent(Response):
    """An answer without a body, so without a Content-Type (and without the HTML page headers)."""

    default_mimetype = None


def _answer(row: dict, earlier: dict | None):
    """A stored event's answer, the first time and on a repeat alike: the page's recommendations (200),
    or 204 for an event that loads no page."""
    config = current_app.config
    if config["RECOMMENDATIONS"] and answers(row["type"], row["subtype"]):
        return Response(recommend(current_storage(), row, config), mimetype="application/json")
    return _NoContent(status=204)


# PUT too: the DataCue docs' wishlist examples send PUT. `/` is the events host's root, where DataCue's
# official client (and its later docs) post events.
@bp.route("/v1/events", methods=["POST", "PUT", "OPTIONS"], provide_automatic_options=False)
@bp.route("/", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def events():
    """Record one DataCue event or a batch of them (an object with `events`, or a JSON array)."""
    return preflight_or(lambda: ingest(DATACUE, _answer))

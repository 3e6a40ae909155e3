"""DataCue browser events: `POST /v1/events`, one event (204) or a batch."""

from __future__ import annotations

from flask import Blueprint
from flask import Response

from ..ingest.families import DATACUE
from ..web.cors import preflight_or
from .receive import ingest

bp = Blueprint("datacue", __name__)


class _NoContent(Response):
    """An answer without a body, so without a Content-Type (and without the HTML page headers)."""

    default_mimetype = None


def _no_content(row: dict, earlier: dict | None):
    """DataCue answers a recorded event with 204, the first time and on a repeat alike."""
    return _NoContent(status=204)


# PUT too: the DataCue docs' wishlist examples send PUT. `/` is the events host's root, where DataCue's
# official client (and its later docs) post events.
@bp.route("/v1/events", methods=["POST", "PUT", "OPTIONS"], provide_automatic_options=False)
@bp.route("/", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def events():
    """Record one DataCue event or a batch of them (an object with `events`, or a JSON array)."""
    return preflight_or(lambda: ingest(DATACUE, _no_content))

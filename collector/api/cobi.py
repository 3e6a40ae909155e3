"""Cobi user interactions: `POST /user-interactions` (and `/v1/...`), one record (201) or a batch."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import jsonify

from ..ingest.families import COBI
from ..web.cors import preflight_or
from .receive import ingest

bp = Blueprint("cobi", __name__)


def _created(row: dict, earlier: dict | None):
    """Answer 201 with the created interaction; a repeat gets the object created the first time."""
    source = earlier or row
    created = json.loads(source["payload"])
    created["received_at"] = source["received_at"]
    response = jsonify(created)
    response.status_code = 201
    return response


@bp.route("/user-interactions", methods=["POST", "OPTIONS"], provide_automatic_options=False)
@bp.route("/v1/user-interactions", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def interactions():
    """Record one Cobi interaction or a batch of them."""
    return preflight_or(lambda: ingest(COBI, _created))

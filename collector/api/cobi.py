"""Cobi user interactions: `POST /user-interactions` (and `/v1/...`), one record (201) or a batch."""

from __future__ import annotations

import json

from flask import Blueprint
from flask import jsonify

from ..pipeline import Api
from ..pipeline import ingest
from ..rows import cobi_row
from ..schemas import cobi
from .cors import preflight_or

bp = Blueprint("cobi", __name__)


def _created(row: dict, earlier: dict | None):
    """Answer 201 with the created interaction; a repeat gets the object created the first time."""
    source = earlier or row
    created = json.loads(source["payload"])
    created["received_at"] = source["received_at"]
    response = jsonify(created)
    response.status_code = 201
    return response


API = Api(source="cobi", batch_field="records", item_schema=cobi.RECORD, batch_schema=cobi.BATCH,
          to_row=cobi_row, single_response=_created)


@bp.route("/user-interactions", methods=["POST", "OPTIONS"], provide_automatic_options=False)
@bp.route("/v1/user-interactions", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def interactions():
    """Record one Cobi interaction or a batch of them."""
    return preflight_or(lambda: ingest(API))

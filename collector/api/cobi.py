"""Cobi user interactions: `POST /user-interactions` (and `/v1/...`), one record (201) or a batch."""

from __future__ import annotations

import json
import uuid

from flask import Blueprint
from flask import jsonify

from ..ingest.families import COBI
from ..ingest.intake import Item
from ..ingest.intake import counts
from ..web.cors import preflight_or
from .cobi_answers import Refusal
from .cobi_answers import answer
from .cobi_answers import batch_entry
from .receive import all_invalid
from .receive import ingest
from .receive import item_results

bp = Blueprint("cobi", __name__)


def _created(row: dict, earlier: dict | None):
    """Answer 201 with the created interaction; a repeat gets the object created the first time."""
    source = earlier or row
    created = json.loads(source["payload"])
    created["received_at"] = source["received_at"]
    response = jsonify(created)
    response.status_code = 201
    return response


def _batch(items: list[Item]):
    """A batch of interactions answered in Cobi's consistent format (api/cobi_answers.py): one batch (the
    request's one transaction), its counts and each interaction's result in its `data`; the error shape
    when none was valid."""
    request_id = str(uuid.uuid4())
    results = item_results(items)
    refused = [Refusal(r["index"], r["event_id"], r["message"], r["errors"]) for r in results
               if r["status"] == "rejected"]
    entry = batch_entry(1, request_id, str(uuid.uuid4()), "interactions", len(items), refused,
                        {"counts": counts(items), "results": results})
    return answer(request_id, "interactions", [entry], refused if all_invalid(items) else [], len(items))


@bp.route("/user-interactions", methods=["POST", "OPTIONS"], provide_automatic_options=False)
@bp.route("/v1/user-interactions", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def interactions():
    """Record one Cobi interaction or a batch of them."""
    return preflight_or(lambda: ingest(COBI, _created, _batch))

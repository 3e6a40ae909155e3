"""How the event APIs' views hand a request to the intake: the publishable key and its limits, the body,
and DataCue's and Cobi's answers (a single event's own, and the batch answer both share)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response
from flask import current_app
from flask import jsonify
from flask import request

from ..access.credentials import authenticate
from ..errors import EventIdConflict
from ..errors import InvalidBatch
from ..ingest.intake import Api
from ..ingest.intake import Intake
from ..ingest.intake import Item
from ..ingest.intake import counts
from ..storage import Storage
from ..web import limits
from ..web.bodies import client_of
from ..web.bodies import declared_size
from ..web.bodies import read_body
from ..web.context import current_storage
from ..web.error_answers import error_response
from ..web.logs import note


def intake_for(api: Api, key_row: dict, storage: Storage) -> Intake:
    """The intake of this request's events, once its key passed its rate limits."""
    note(key_name=key_row["name"])
    limits.check(key_row)
    return Intake(api, key_row, storage, client_of(request), current_app.config)


def counted(intake: Intake) -> None:
    """Put what the intake stored and refused on the request's log line."""
    note(accepted=intake.accepted, rejected=len(intake.rejected), dropped=intake.dropped)


def ingest(api: Api, single: Callable[[dict, dict | None], Response],
           batch: Callable[[list[Item]], Response] | None = None) -> Response:
    """Handle one POST to DataCue's or Cobi's event endpoint: one event (`single` answers it) or a batch
    (`batch` answers it; DataCue's answer by default)."""
    storage = current_storage()
    intake = intake_for(api, authenticate(request, storage), storage)
    config = current_app.config
    try:
        received = intake.receive(lambda: read_body(request, max(config["MAX_BODY_BYTES"], config["MAX_BATCH_BYTES"])),
                                  declared_size)
    finally:
        counted(intake)
    if received.items is None:
        return single(received.row, received.earlier)
    return (batch or batch_answer)(received.items)


def item_results(items: list[Item]) -> list[dict]:
    """Each event of a batch as the answers list it: its index, id and status, and why when refused."""
    results = []
    for item in items:
        result = {"index": item.index, "event_id": item.event_id if isinstance(item.event_id, str) else None,
                  "status": item.status}
        if item.error is not None:
            result.update(code=item.error.code, message=item.error.message, errors=item.error.errors or {})
        results.append(result)
    return results


def all_invalid(items: list[Item]) -> bool:
    """Whether no event of a batch was valid (one refused only for its id's conflict was valid)."""
    return not any(i.status != "rejected" or isinstance(i.error, EventIdConflict) for i in items)


def batch_answer(items: list[Item]) -> Response:
    """A batch's answer: counts alone (200), with each event's result when some were refused (207), or
    the error shape when none was valid (400)."""
    results = item_results(items)
    tally = counts(items)
    if not tally["rejected"]:
        return jsonify(tally)
    if all_invalid(items):
        return error_response(InvalidBatch(
            f"All {len(items)} events were rejected.",
            errors={str(r["index"]): r["errors"] or {"_schema": [r["message"]]} for r in results},
            extra={**tally, "results": results}))
    response = jsonify({**tally, "results": results})
    response.status_code = 207
    return response

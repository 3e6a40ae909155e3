"""Cobi's consistent response format, which "all endpoints return" (its docs, "Common Features"): a request's
`request_id` and `type`, and one entry per batch in `batches[]`, each with an HTTP-like `status` and its
`data` (`success`, `partial` or `error`, a message, the batch's id and a readable `error`). The Data API and
a batch of interactions answer this way; each batch's `data` also carries the collector's per-item details
(`counts`, and `errors` or `results`), documented in docs/api.md."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field

from flask import Response
from flask import jsonify

from ..errors import InvalidBatch
from ..web.error_answers import error_response

#: Refused items a batch's readable `error` names before it says how many more there are.
_NAMED = 5


@dataclass
class Refusal:
    """One refused item of a batch, as its readable `error` names it."""

    index: int
    item_id: str | None
    message: str
    errors: dict = field(default_factory=dict)


def batch_entry(number: int, request_id: str, batch_id: str, type_name: str, received: int,
                refused: list[Refusal], details: dict, note: str = "") -> dict:
    """One entry of `batches[]`: 200 success, 207 partial or 400 error by how many of its `received` items
    were refused, a message (with `note` added), the first refusals named, and the collector's `details`."""
    noun = "interactions" if type_name == "interactions" else "records"
    if not refused:
        status, word, message = 200, "success", f"{noun.capitalize()} uploaded successfully"
    elif len(refused) == received:
        status, word, message = 400, "error", f"All {received} {noun} were refused"
    else:
        status, word, message = 207, "partial", f"{len(refused)} of {received} {noun} were refused"
    error = "; ".join(f"{noun[:-1]} {r.index}" + (f" ({r.item_id})" if r.item_id else "") + f": {r.message.rstrip('.')}"
                      for r in refused[:_NAMED])
    if len(refused) > _NAMED:
        error += f"; and {len(refused) - _NAMED} more"
    return {"batch": number, "status": status, "data": {
        "status": word, "type": type_name, "message": message + note, "request_id": request_id,
        "batch_id": batch_id, "error": error, **details}}


def answer(request_id: str, type_name: str, batches: list[dict], refused: list[Refusal], received: int) -> Response:
    """The whole answer: 200 when every batch succeeded, 207 when some item was refused, and the error
    shape (400, Cobi's body beside it) when every item of the request was."""
    body = {"request_id": request_id, "type": type_name, "batches": batches}
    if received and len(refused) == received:
        return error_response(InvalidBatch(
            f"All {received} {'interactions' if type_name == 'interactions' else 'records'} were refused.",
            errors={str(r.index): r.errors or {"_schema": [r.message]} for r in refused}, extra=body))
    response = jsonify(body)
    response.status_code = 200 if all(b["status"] == 200 for b in batches) else 207
    return response

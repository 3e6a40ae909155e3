"""Cobi's Data API: `POST /v1/data/<type>` with `{"records": [...]}`, a secret key, and Cobi's `batches[]` answer."""

from __future__ import annotations

import functools

from flask import Blueprint
from flask import current_app
from flask import jsonify
from flask import request

from ..access import server_keys
from ..errors import InvalidBatch
from ..errors import NotFound
from ..errors import PayloadTooLarge
from ..ingest.rejections import Refusals
from ..ingest.rejections import validated
from ..reference.writes import Chunk
from ..reference.writes import Upload
from ..reference.writes import store
from ..schemas import cobi_data
from ..web import limits
from ..web.bodies import client_of
from ..web.bodies import parsed_body
from ..web.bodies import read_body
from ..web.context import current_storage
from ..web.error_answers import error_response
from ..web.logs import note

bp = Blueprint("cobi_data", __name__)

TYPES = {record_type.name: record_type for record_type in cobi_data.TYPES}
#: Refused records a batch's readable `error` names before it says how many more there are.
_NAMED = 5


def _summary(chunk: Chunk) -> tuple[int, str, str, str]:
    """A chunk's HTTP-like status, Cobi's status word, its message and its readable error."""
    counts = chunk.counts()
    refused = [r for r in chunk.results if r.status == "refused"]
    if not refused:
        status, word, message = 200, "success", "Records uploaded successfully"
    elif len(refused) == counts["received"]:
        status, word, message = 400, "error", f"All {counts['received']} records were refused"
    else:
        status, word, message = 207, "partial", f"{len(refused)} of {counts['received']} records were refused"
    if counts["stale"]:
        message += f" ({counts['stale']} stale: older than the stored version, kept in history only)"
    error = "; ".join(f"record {r.index}" + (f" ({r.record_id})" if r.record_id else "") + f": {r.message.rstrip('.')}"
                      for r in refused[:_NAMED])
    if len(refused) > _NAMED:
        error += f"; and {len(refused) - _NAMED} more"
    return status, word, message, error


def _answer(upload: Upload):
    """Cobi's documented answer, with per-record `errors` and `counts` beside each batch's `error`."""
    name = upload.record_type.name
    batches = []
    for chunk in upload.chunks:
        status, word, message, error = _summary(chunk)
        batches.append({"batch": chunk.number, "status": status, "data": {
            "status": word, "type": name, "message": message, "request_id": upload.request_id,
            "batch_id": chunk.batch_id, "error": error, "counts": chunk.counts(),
            "errors": [r.as_dict() for r in chunk.results if r.status == "refused"]}})
    body = {"request_id": upload.request_id, "type": name, "batches": batches}
    if upload.refused() == upload.received():
        return error_response(InvalidBatch(
            f"All {upload.received()} records were refused.",
            errors={str(r.index): r.errors or {"_schema": [r.message]} for c in upload.chunks for r in c.results},
            extra=body))
    response = jsonify(body)
    response.status_code = 200 if all(b["status"] == 200 for b in batches) else 207
    return response


@bp.post("/v1/data/<name>")
def upload(name: str):
    """Store a request of one record type's records."""
    record_type = TYPES.get(name)
    if record_type is None:
        raise NotFound(f"Unknown record type {name!r}. The Data API takes: {', '.join(TYPES)}.",
                       extra={"types": list(TYPES)})
    storage = current_storage()
    config = current_app.config
    body = functools.cache(lambda: read_body(request, config["MAX_DATA_BYTES"]))
    key_row, server_key = server_keys.authenticate(request, storage, body)
    note(key_name=key_row["name"])
    limits.check(key_row)
    items = parsed_body(storage, config, key_row, record_type.family, body, _records)
    upload = store(Upload(record_type, key_row, server_key["id"], Refusals.of(config, client_of(request))), items,
                   storage, config["DATA_CHUNK"])
    note(accepted=upload.received() - upload.refused(), rejected=upload.refused())
    return _answer(upload)


def _records(document) -> list:
    """A Data API body's records: `{"records": [...]}`, 1 to MAX_RECORDS of them."""
    items = validated(cobi_data.BATCH, document if isinstance(document, dict) else {"records": None}, InvalidBatch,
                      f"The body must be {{\"records\": [...]}} with 1 to {cobi_data.MAX_RECORDS} records")["records"]
    if len(items) > cobi_data.MAX_RECORDS:
        raise PayloadTooLarge(f"The request holds {len(items)} records; the limit is {cobi_data.MAX_RECORDS}.")
    return items

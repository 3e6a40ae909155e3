"""Cobi's Data API: `POST /v1/data/<type>` with `{"records": [...]}`, a secret key, and Cobi's `batches[]` answer."""

from __future__ import annotations

import functools

from flask import Blueprint
from flask import current_app
from flask import request

from ..access import server_keys
from ..errors import InvalidBatch
from ..errors import NotFound
from ..errors import PayloadTooLarge
from ..ingest.rejections import Refusals
from ..ingest.rejections import validated
from ..reference.writes import Upload
from ..reference.writes import store
from ..schemas import cobi_data
from ..web import limits
from ..web.bodies import client_of
from ..web.bodies import parsed_body
from ..web.bodies import read_body
from ..web.context import current_storage
from ..web.logs import note
from .cobi_answers import Refusal
from .cobi_answers import answer
from .cobi_answers import batch_entry

bp = Blueprint("cobi_data", __name__)

TYPES = {record_type.name: record_type for record_type in cobi_data.TYPES}
def _answer(upload: Upload):
    """Cobi's documented answer, with per-record `errors` and `counts` beside each batch's `error`."""
    name = upload.record_type.name
    batches, every_refusal = [], []
    for chunk in upload.chunks:
        counts = chunk.counts()
        refused = [r for r in chunk.results if r.status == "refused"]
        refusals = [Refusal(r.index, r.record_id, r.message, r.errors or {}) for r in refused]
        every_refusal += refusals
        stale = (f" ({counts['stale']} stale: older than the stored version, kept in history only)"
                 if counts["stale"] else "")
        batches.append(batch_entry(chunk.number, upload.request_id, chunk.batch_id, name, counts["received"], refusals,
                                   {"counts": counts, "errors": [r.as_dict() for r in refused]}, stale))
    return answer(upload.request_id, name, batches, every_refusal, upload.received())


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

"""The one ingest path every endpoint shares: auth, parse, validate, enrich, store, answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from flask import Request
from flask import Response
from flask import current_app
from flask import g
from flask import has_request_context
from flask import jsonify
from flask import request
from marshmallow import Schema
from marshmallow import ValidationError

from . import limits
from . import rows
from .auth import authenticate
from .body import parse_json
from .body import read_body
from .clock import iso
from .clock import utcnow
from .errors import ApiError
from .errors import EventIdConflict
from .errors import InvalidBatch
from .errors import InvalidEvent
from .errors import PayloadTooLarge
from .errors import Suppressed
from .errors import error_response
from .schemas.common import UA_MAX
from .schemas.common import json_size
from .storage import Storage
from .storage import current_storage
from .storage.privacy import id_hash


@dataclass(frozen=True)
class Api:
    """How one API family differs: its schemas, its batch field, its row mapping, its single answer."""

    source: str
    batch_field: str
    item_schema: Schema
    #: None for an API whose view reads its batches itself (Segment's).
    batch_schema: Schema | None
    to_row: Callable[[dict, rows.RequestMeta, tuple], dict]
    single_response: Callable[[dict, dict | None], Response]
    #: Whether a bare JSON array is a batch of items (DataCue's client sends events so).
    array_is_batch: bool = False


def describe(messages, prefix: str = "") -> list[str]:
    """Flatten marshmallow's nested messages into 'path: message' lines."""
    if isinstance(messages, dict):
        lines = []
        for field, inner in messages.items():
            path = prefix if field == "_schema" else (f"{prefix}.{field}" if prefix else str(field))
            lines.extend(describe(inner, path))
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix}: {m}" if prefix else m for m in messages]
    if isinstance(messages, list):
        return [line for m in messages for line in describe(m, prefix)]
    return [f"{prefix}: {messages}" if prefix else str(messages)]


def summary(messages, limit: int = 3) -> str:
    """Return the first few validation problems as one sentence."""
    lines = describe(messages)
    text = "; ".join(line.rstrip(".") for line in lines[:limit])
    if len(lines) > limit:
        text += f"; and {len(lines) - limit} more"
    return text


@dataclass(frozen=True)
class Client:
    """Who sent a request, as far as its events may record it: the address, the user agent, the language."""

    ip: str | None = None
    user_agent: str | None = None
    language: str | None = None

    @classmethod
    def of(cls, req: Request) -> Client:
        """The client of an HTTP request (an import job has none: `Client()`)."""
        return cls(ip=req.remote_addr, user_agent=req.headers.get("User-Agent", "")[:UA_MAX] or None,
                   # The visitor's first language preference, for events whose context does not name one.
                   language=req.accept_languages.best[:35] if req.accept_languages else None)


def rejected_row(key_row: dict, source: str, error: ApiError, raw: bytes | str | None, event_id=None,
                 size: int | None = None, received_at=None, client: Client | None = None,
                 job_id: int | None = None, row_no: int | None = None) -> dict:
    """The `rejected` row of something refused from a valid key: the reason and the body, bounded.

    Refused in a request, the row names its client; refused in an import job, the job and the file's row
    (`raw` None keeps the reason alone: a forgotten person's row).
    """
    config = current_app.config
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    limit = config["REJECTED_RAW_MAX_BYTES"]
    privacy = (config["IP_STORAGE"], config["IPV4_PREFIX"], config["IPV6_PREFIX"])
    if client is None:
        client = Client.of(request) if has_request_context() else Client()
    return {
        "key": key_row["key"], "mode": key_row["mode"], "source": source,
        "event_id": event_id if isinstance(event_id, str) else None,
        "reason": error.code, "message": error.message,
        "errors": json.dumps(error.errors) if error.errors else None,
        # NUL cannot be stored in a text column (PostgreSQL refuses it): kept as U+FFFD.
        "raw": None if raw is None else raw[:limit].decode("utf-8", "replace").replace("\x00", "\ufffd"),
        "raw_bytes": (len(raw) if raw is not None else 0) if size is None else size,
        "ip": rows.stored_ip(client.ip, *privacy), "user_agent": client.user_agent,
        "received_at": iso(received_at or utcnow()), "job_id": job_id, "row_no": row_no,
    }


class Intake:
    """The state of one request's (or one import chunk's) events as they move through the pipeline."""

    def __init__(self, api: Api, key_row: dict, storage: Storage, client: Client):
        """Capture what the request tells about every event in it."""
        config = current_app.config
        self.api = api
        self.storage = storage
        self.config = config
        self.key_row = key_row
        self.received_at = utcnow()
        self.privacy = (config["IP_STORAGE"], config["IPV4_PREFIX"], config["IPV6_PREFIX"])
        self.client = client
        self.rejected: list[dict] = []
        self._meta: rows.RequestMeta | None = None

    def meta(self, sent_at) -> rows.RequestMeta:
        """Return the per-request details each row needs (one object per batch, not per event)."""
        if self._meta is None or self._meta.sent_at != sent_at:
            client = self.client
            self._meta = rows.RequestMeta(key=self.key_row["key"], mode=self.key_row["mode"],
                                          received_at=self.received_at, sent_at=sent_at, ip=client.ip,
                                          user_agent=client.user_agent, language=client.language)
        return self._meta

    def reject(self, error: ApiError, raw: bytes | str, event_id=None, size: int | None = None) -> None:
        """Keep a refused body or batch item, bounded, with the reason (not a forgotten person's)."""
        if not isinstance(error, Suppressed):
            self.rejected.append(rejected_row(self.key_row, self.api.source, error, raw, event_id=event_id,
                                              size=size, received_at=self.received_at, client=self.client))

    def load(self, item, sent_at, size: int | None = None) -> dict:
        """Validate one event against the size cap (on `size`, its size as sent, when the caller added to
        it) and schema and map it to a row, or raise ApiError."""
        size = json_size(item) if size is None else size
        if size > self.config["MAX_EVENT_BYTES"]:
            raise PayloadTooLarge(f"The event is {size} bytes; the limit is {self.config['MAX_EVENT_BYTES']}.")
        if not isinstance(item, dict):
            raise InvalidEvent("An event must be a JSON object.")
        try:
            data = self.api.item_schema.load(item)
        except ValidationError as exc:
            raise InvalidEvent(f"The event is invalid: {summary(exc.messages)}.", errors=exc.messages) from None
        row = self.api.to_row(data, self.meta(sent_at), self.privacy)
        suppressed = self.storage.suppressed()
        if suppressed and any(row[c] and id_hash(row[c]) in suppressed for c in ("user_id", "anonymous_id")):
            raise Suppressed("This visitor asked to be forgotten; their events are not stored.")
        return row

    def write(self, events: list[dict]) -> list[dict | None]:
        """Store accepted events and rejected rows together; only then may the answer be sent."""
        outcomes = self.storage.write(events, self.rejected)
        g.accepted = len(events)
        g.rejected = len(self.rejected)
        return outcomes


def parsed_body(storage, key_row: dict, source: str, body: Callable[[], bytes], parse: Callable):
    """`parse(json)` of a server API's body; a body refused on the way (too large, not JSON, not the
    shape `parse` wants) is kept in `rejected` with its reason, then answered."""
    raw = b""
    try:
        raw = body()
        return parse(parse_json(raw))
    except ApiError as error:
        storage.write([], [rejected_row(key_row, source, error, raw,
                                        size=len(raw) if raw else request.content_length or 0)])
        raise


def ingest(api: Api) -> Response:
    """Handle one POST to an ingest endpoint, single or batch."""
    storage = current_storage()
    key_row = authenticate(request, storage)
    g.key_name = key_row["name"]
    limits.check(key_row)
    state = Intake(api, key_row, storage, Client.of(request))
    config = state.config
    raw = b""
    try:
        raw = read_body(request, max(config["MAX_BODY_BYTES"], config["MAX_BATCH_BYTES"]))
        document = parse_json(raw)
        if isinstance(document, list) and api.array_is_batch:  # as DataCue's client batches events
            document = {api.batch_field: document}
        if not isinstance(document, dict):
            raise InvalidEvent("The body must be a JSON object: one event, or a batch.")
        is_batch = api.batch_field in document
        limit = config["MAX_BATCH_BYTES"] if is_batch else config["MAX_BODY_BYTES"]
        if len(raw) > limit:
            raise PayloadTooLarge(f"A {'batch' if is_batch else 'single-event'} body is limited to {limit} bytes.")
        if is_batch:
            return _batch(state, document)
        row = state.load(document, None)
    except ApiError as error:
        # A body refused before it was read (too large, wrong type) is kept as its size alone.
        state.reject(error, raw, size=len(raw) if raw else request.content_length or 0)
        state.write([])
        raise
    earlier = state.write([row])[0]
    conflict = id_conflict(api, earlier)
    if conflict:
        raise conflict
    return api.single_response(row, earlier)


def id_conflict(api: Api, earlier: dict | None) -> EventIdConflict | None:
    """The error for an event id that this key already used with the other API, if it did."""
    if earlier is None or earlier.get("source") in (None, api.source):
        return None
    return EventIdConflict(f"This event_id was already used for a {earlier['source']} event; "
                           "nothing was stored. Give each event its own id.")


def _batch(state: Intake, document: dict) -> Response:
    """Validate each event of a batch on its own, store the good ones, answer per event."""
    config = state.config
    try:
        batch = state.api.batch_schema.load(document)
    except ValidationError as exc:
        raise InvalidBatch(f"The batch is invalid: {summary(exc.messages)}.", errors=exc.messages) from None
    items = batch[state.api.batch_field]
    g.dropped = batch.get("dropped", 0)
    if len(items) > config["MAX_BATCH_EVENTS"]:
        raise PayloadTooLarge(f"The batch holds {len(items)} events; the limit is {config['MAX_BATCH_EVENTS']}.")
    accepted, results = [], []
    for index, item in enumerate(items):
        event_id = item.get("event_id") if isinstance(item, dict) else None
        try:
            row = state.load(item, batch.get("sent_at"))
        except ApiError as error:
            state.reject(error, json.dumps(item, ensure_ascii=False), event_id=event_id)
            results.append({"index": index, "event_id": event_id if isinstance(event_id, str) else None,
                            "status": "rejected", "code": error.code, "message": error.message,
                            "errors": error.errors or {}})
            continue
        accepted.append(row)
        results.append({"index": index, "event_id": row["event_id"], "status": "stored"})
    outcomes = state.write(accepted)
    stored_results = [r for r in results if r["status"] == "stored"]
    for result, earlier in zip(stored_results, outcomes, strict=True):
        conflict = id_conflict(state.api, earlier)
        if conflict:
            result.update(status="rejected", code=conflict.code, message=conflict.message, errors={})
        elif earlier is not None:
            result["status"] = "duplicate"
    counts = {
        "received": len(items),
        "stored": sum(r["status"] == "stored" for r in results),
        "duplicates": sum(r["status"] == "duplicate" for r in results),
        "rejected": sum(r["status"] == "rejected" for r in results),
    }
    if not counts["rejected"]:
        return jsonify(counts)
    if not accepted:
        return error_response(InvalidBatch(
            f"All {len(items)} events were rejected.",
            errors={str(r["index"]): r["errors"] or {"_schema": [r["message"]]} for r in results},
            extra={**counts, "results": results}))
    response = jsonify({**counts, "results": results})
    response.status_code = 207
    return response

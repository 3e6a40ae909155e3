"""The one intake path every API family and the import worker share: validate each event, map it to a
row, store the accepted ones and the refused ones together, and say what became of each.

Free of Flask: an Intake is handed the settings, the store, the site's key row and who sent the events,
and returns what it did; authenticating, rate limits and the HTTP answer are the views' (collector/api/).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass

from marshmallow import Schema

from ..clock import utcnow
from ..errors import ApiError
from ..errors import EventIdConflict
from ..errors import InvalidBatch
from ..errors import InvalidEvent
from ..errors import PayloadTooLarge
from ..errors import Suppressed
from ..schemas.common import json_size
from ..storage import Storage
from ..storage.privacy import id_hash
from . import rows
from .body import parse_json
from .rejections import Client
from .rejections import Refusals
from .rejections import validated


@dataclass(frozen=True)
class Api:
    """How one API family differs: its schemas, its batch field, its row mapping."""

    source: str
    batch_field: str
    item_schema: Schema
    #: None for an API whose view reads its batches itself (Segment's).
    batch_schema: Schema | None
    to_row: Callable[[dict, rows.RequestMeta, tuple], dict]
    #: Whether a bare JSON array is a batch of items (DataCue's client sends events so).
    array_is_batch: bool = False


@dataclass
class Item:
    """What became of one item of a batch: stored, duplicate (its id was stored before) or rejected."""

    index: int
    #: The stored event's id; for an item refused before it was read, the id it gave, as it gave it.
    event_id: object
    status: str
    error: ApiError | None = None


@dataclass
class Received:
    """What became of a request's body: a single event's row (and the earlier row of a repeat), or a
    batch's items."""

    row: dict | None = None
    earlier: dict | None = None
    items: list[Item] | None = None


def counts(items: list[Item]) -> dict[str, int]:
    """A batch's counts as every batch answer gives them: received, stored, duplicates, rejected."""
    return {"received": len(items), "stored": sum(i.status == "stored" for i in items),
            "duplicates": sum(i.status == "duplicate" for i in items),
            "rejected": sum(i.status == "rejected" for i in items)}


def id_conflict(api: Api, earlier: dict | None) -> EventIdConflict | None:
    """The error for an event id that this key already used with the other API, if it did."""
    if earlier is None or earlier.get("source") in (None, api.source):
        return None
    return EventIdConflict(f"This event_id was already used for a {earlier['source']} event; "
                           "nothing was stored. Give each event its own id.")


class Intake:
    """The state of one request's (or one import chunk's) events as they move through the pipeline."""

    def __init__(self, api: Api, key_row: dict, storage: Storage, client: Client, settings: Mapping):
        """Capture what the request tells about every event in it."""
        self.api = api
        self.storage = storage
        self.settings = settings
        self.key_row = key_row
        self.received_at = utcnow()
        self.privacy = (settings["IP_STORAGE"], settings["IPV4_PREFIX"], settings["IPV6_PREFIX"])
        self.client = client
        self.rejected: list[dict] = []
        #: What the request's log line counts: events stored, refused, and dropped by the client.
        self.accepted = 0
        self.dropped = 0
        self._meta: rows.RequestMeta | None = None

    @functools.cached_property
    def refusals(self) -> Refusals:
        """How this request's refused events are kept (made when the first one is)."""
        return Refusals(self.settings["REJECTED_RAW_MAX_BYTES"], self.privacy, self.client)

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
            self.rejected.append(self.refusals.row(self.key_row, self.api.source, error, raw, event_id=event_id,
                                                   size=size, received_at=self.received_at))

    def refuse(self, error: ApiError, raw: bytes, declared_size: Callable[[], int]) -> None:
        """Keep a body refused whole and store that at once (one refused before it was read is kept as its
        `declared_size()` alone)."""
        self.reject(error, raw, size=len(raw) if raw else declared_size())
        self.write([])

    def load(self, item, sent_at, size: int | None = None) -> dict:
        """Validate one event against the size cap (on `size`, its size as sent, when the caller added to
        it) and schema and map it to a row, or raise ApiError."""
        size = json_size(item) if size is None else size
        limit = self.settings["MAX_EVENT_BYTES"]
        if size > limit:
            raise PayloadTooLarge(f"The event is {size} bytes; the limit is {limit}.")
        if not isinstance(item, dict):
            raise InvalidEvent("An event must be a JSON object.")
        data = validated(self.api.item_schema, item, InvalidEvent, "The event is invalid")
        row = self.api.to_row(data, self.meta(sent_at), self.privacy)
        suppressed = self.storage.suppressed()
        if suppressed and any(row[c] and id_hash(row[c]) in suppressed for c in ("user_id", "anonymous_id")):
            raise Suppressed("This visitor asked to be forgotten; their events are not stored.")
        return row

    def write(self, events: list[dict]) -> list[dict | None]:
        """Store accepted events and rejected rows together; only then may the answer be sent."""
        outcomes = self.storage.write(events, self.rejected)
        self.accepted += len(events)
        return outcomes

    def store_one(self, row: dict) -> dict | None:
        """Store a single event's row; return the earlier row when its id was stored before (an id the
        other API used is refused)."""
        earlier = self.write([row])[0]
        conflict = id_conflict(self.api, earlier)
        if conflict:
            raise conflict
        return earlier

    def batch(self, items: list, sent_at=None, prepare: Callable[[int, object], object] = lambda index, item: item,
              id_field: str = "event_id") -> list[Item]:
        """The one batch loop: each item (`prepare`d, which may refuse it) validated on its own, the
        accepted stored together with the refused ones' rows, and what became of each."""
        results, accepted = [], []
        for index, item in enumerate(items):
            given = item.get(id_field) if isinstance(item, dict) else None
            try:
                row = self.load(prepare(index, item), sent_at, size=json_size(item))
            except ApiError as error:
                self.reject(error, json.dumps(item, ensure_ascii=False), event_id=given)
                results.append(Item(index, given, "rejected", error))
                continue
            accepted.append(row)
            results.append(Item(index, row["event_id"], "stored"))
        outcomes = self.write(accepted)
        for result, earlier in zip([r for r in results if r.status == "stored"], outcomes, strict=True):
            conflict = id_conflict(self.api, earlier)
            if conflict:
                result.status, result.error = "rejected", conflict
            elif earlier is not None:
                result.status = "duplicate"
        return results

    def receive(self, body: Callable[[], bytes], declared_size: Callable[[], int]) -> Received:
        """A request of DataCue's or Cobi's shape, one event or a batch (`body()` reads it; a body refused
        before it was read is kept as its `declared_size()` alone)."""
        settings = self.settings
        raw = b""
        try:
            raw = body()
            document = parse_json(raw)
            if isinstance(document, list) and self.api.array_is_batch:  # as DataCue's client batches events
                document = {self.api.batch_field: document}
            if not isinstance(document, dict):
                raise InvalidEvent("The body must be a JSON object: one event, or a batch.")
            is_batch = self.api.batch_field in document
            limit = settings["MAX_BATCH_BYTES"] if is_batch else settings["MAX_BODY_BYTES"]
            if len(raw) > limit:
                raise PayloadTooLarge(f"A {'batch' if is_batch else 'single-event'} body is limited to {limit} bytes.")
            if is_batch:
                return Received(items=self._batch_document(document))
            row = self.load(document, None)
        except ApiError as error:
            self.refuse(error, raw, declared_size)
            raise
        return Received(row=row, earlier=self.store_one(row))

    def _batch_document(self, document: dict) -> list[Item]:
        """A batch object: its own fields checked, then each event through the batch loop."""
        batch = validated(self.api.batch_schema, document, InvalidBatch, "The batch is invalid")
        items = batch[self.api.batch_field]
        self.dropped = batch.get("dropped", 0)
        limit = self.settings["MAX_BATCH_EVENTS"]
        if len(items) > limit:
            raise PayloadTooLarge(f"The batch holds {len(items)} events; the limit is {limit}.")
        return self.batch(items, batch.get("sent_at"))

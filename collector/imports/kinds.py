"""What can be imported, and how a chunk of each kind's rows is stored: through the very schema and write
path of its API (DataCue browser events and Cobi interactions through the ingest pipeline; Cobi Data
API, DataCue backend records and coupons through the one record path), in two halves: `prepare`
validates (in the worker or in a process of its pool), `commit` writes, in one transaction with the job's
progress.

Kinds: `events`, `interactions`, each Cobi Data API type, each DataCue backend type, `coupons`.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from marshmallow import Schema

from ..clock import utcnow
from ..errors import ApiError
from ..errors import InvalidEvent
from ..errors import Suppressed
from ..ingest.families import COBI
from ..ingest.families import DATACUE
from ..ingest.intake import Api
from ..ingest.intake import Intake
from ..ingest.rejections import Client
from ..ingest.rejections import Refusals
from ..reference import writes
from ..reference.record_types import RecordType
from ..schemas import capillary
from ..schemas import cobi_data
from ..schemas import datacue_backend
from ..storage.jobs import Progress
from . import files
from .files import Row

#: The namespace of the event ids an import derives for rows that bring none (uuid5 of the row's content):
#: the same row imported again has the same id, so it is stored once.
_ROW_IDS = uuid.UUID("6f1c3c0e-1d0a-4f59-9a55-3b1b7c0a5e21")


@dataclass(frozen=True)
class Chunk:
    """Rows of one job on their way to the store (it travels to a process that prepares it)."""

    job: dict
    key_row: dict
    rows: list[Row]


@dataclass
class Prepared:
    """A chunk made ready to store, wherever it was prepared: the rejected rows of the rows refused, and
    what the commit writes (events, each with its row's index in the chunk; or checked records)."""

    rejected: list[dict]
    #: How the chunk's refused rows are kept (the settings' bounds; an import has no client).
    refusals: Refusals
    events: list[tuple[int, dict]] = dataclasses.field(default_factory=list)
    checked: writes.Checked | None = None
    received_at: datetime | None = None


@dataclass(frozen=True)
class ImportKind:
    """One kind of data a file can hold."""

    name: str
    #: What the data is, for the documentation and errors: e.g. "DataCue browser events".
    title: str
    #: The schema a row is checked against (its fields are the CSV columns).
    schema: Schema
    #: Groups of columns of which a CSV header must have one each.
    required: tuple[tuple[str, ...], ...]
    #: Validates a chunk's rows through the kind's API path, writing nothing: in any process (with the
    #: store and the settings).
    prepare: Callable[[Chunk, object, Mapping], Prepared]
    #: Stores a prepared chunk and the job's progress in one transaction: in the worker.
    commit: Callable[[Chunk, Prepared, Progress, object], None]

    def layout(self, options: dict) -> files.Layout:
        """How this kind's CSV files are read: named columns, or Capillary's positional ones."""
        if options.get("layout") == "capillary":
            from .capillary import positional  # the upload route's layout, for coupons alone

            return positional(options)
        return files.named(self.schema, self.required)


def _required(schema: Schema) -> tuple[tuple[str, ...], ...]:
    """The columns a schema's required fields need: the field, or dotted columns under it."""
    return tuple((name,) for name, field in schema.fields.items() if field.required)


def _refused(chunk: Chunk, refusals: Refusals, source: str, row: Row, error: ApiError) -> dict:
    """The rejected row of a file's row: the reason, the row's text (not a forgotten person's), its place."""
    raw = None if isinstance(error, Suppressed) else row.text
    return refusals.row(chunk.key_row, source, error, raw, size=len(row.text.encode()), job_id=chunk.job["id"],
                        row_no=row.number)


def row_event_id(item: dict) -> str:
    """The id of an imported event that brings none: derived from its content, so a file sent again, or a
    row repeated in it, is stored once."""
    return str(uuid.uuid5(_ROW_IDS, json.dumps(item, sort_keys=True, separators=(",", ":"), default=str)))


def _events(api: Api, time_field: str) -> tuple[Callable, Callable]:
    """A kind of events: each row through the API's ingest pipeline, as a batch item is."""
    def prepare(chunk: Chunk, storage, settings: Mapping) -> Prepared:
        """Validate each row and map it to an events row (Intake.load); refuse the others."""
        intake = Intake(api, chunk.key_row, storage, Client(), settings)
        prepared = Prepared(intake.rejected, intake.refusals)
        for index, row in enumerate(chunk.rows):
            try:
                if row.error is not None:
                    raise row.error
                item = row.item
                if not item.get(time_field):
                    raise InvalidEvent(f"An imported event needs its {time_field}: when it happened.",
                                       errors={time_field: ["Missing data for required field."]})
                if not item.get("event_id"):
                    item["event_id"] = row_event_id(item)
                prepared.events.append((index, intake.load(item, None)))
            except ApiError as error:
                intake.rejected.append(_refused(chunk, intake.refusals, api.source, row, error))
        return prepared

    def commit(chunk: Chunk, prepared: Prepared, progress: Progress, storage) -> None:
        """Store the events and the rejected rows with the job's progress, as a request's write is."""
        def settle(outcomes: list) -> tuple[int, int, list[dict]]:
            """New events are stored; an id seen before is a duplicate, unless another API used it."""
            stored = duplicates = 0
            conflicts = []
            for (index, _), earlier in zip(prepared.events, outcomes, strict=True):
                if earlier is None:
                    stored += 1
                elif earlier.get("source") in (None, api.source):
                    duplicates += 1
                else:
                    conflicts.append(_refused(chunk, prepared.refusals, api.source, chunk.rows[index], InvalidEvent(
                        f"This event_id was already used for a {earlier['source']} event; give each event its "
                        "own id.")))
            return stored, duplicates, conflicts

        storage.write([event for _, event in prepared.events], prepared.rejected,
                      dataclasses.replace(progress, settle=settle))
    return prepare, commit


def _records(record_type: RecordType) -> tuple[Callable, Callable]:
    """A record type: the rows through the one record path, as an API request's records are."""
    def upload(chunk: Chunk, refusals: Refusals) -> tuple[writes.Upload, list[Row]]:
        """The chunk as the record path's Upload of its readable rows, and those rows."""
        readable = [row for row in chunk.rows if row.error is None]
        return writes.Upload(record_type, chunk.key_row, chunk.job["sent_by"], refusals, job_id=chunk.job["id"],
                              rows=readable), readable

    def prepare(chunk: Chunk, storage, settings: Mapping) -> Prepared:
        """Check the readable rows against the type's schema (writes.check); refuse the others."""
        received_at = utcnow()
        refusals = Refusals.of(settings)
        records_upload, readable = upload(chunk, refusals)
        checked = writes.check(records_upload, [row.item for row in readable], 0, received_at)
        unreadable = [_refused(chunk, refusals, record_type.family, row, row.error) for row in chunk.rows if row.error]
        checked.rejected[:0] = unreadable
        return Prepared(checked.rejected, refusals, checked=checked, received_at=received_at)

    def commit(chunk: Chunk, prepared: Prepared, progress: Progress, storage) -> None:
        """Store the checked records (writes.commit: references, history, current rows) with the progress."""
        def settle(outcomes: list) -> tuple[int, int, list[dict]]:
            """A version kept before is a duplicate; a refused one is counted by its rejected row."""
            kept = [outcome for outcome in outcomes if outcome.status != "refused"]
            duplicates = sum(outcome.repeated for outcome in kept)
            return len(kept) - duplicates, duplicates, []

        writes.commit(upload(chunk, prepared.refusals)[0], prepared.checked, storage, prepared.received_at,
                       dataclasses.replace(progress, settle=settle))
    return prepare, commit


def _record_kind(record_type: RecordType, title: str) -> ImportKind:
    """The kind of one record type."""
    return ImportKind(record_type.name, title, record_type.schema, _required(record_type.schema),
                      *_records(record_type))


_EVENT_REQUIRED = (("user",), ("event", "event.type"), ("timestamp",))
KINDS: dict[str, ImportKind] = {
    kind.name: kind for kind in (
        ImportKind("events", "DataCue browser events, with their timestamps", DATACUE.item_schema,
                   _EVENT_REQUIRED, *_events(DATACUE, "timestamp")),
        ImportKind("interactions", "Cobi user interactions", COBI.item_schema,
                   _required(COBI.item_schema), *_events(COBI, "event_timestamp")),
        *(_record_kind(t, f"Cobi Data API {t.name}") for t in cobi_data.TYPES),
        *(_record_kind(t, f"DataCue backend {t.name}") for t in datacue_backend.TYPES),
        _record_kind(capillary.COUPONS, "coupon codes of a series"),
    )
}


def get(name: str) -> ImportKind | None:
    """The kind with this name, or None."""
    return KINDS.get(name)

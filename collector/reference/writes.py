"""The one path reference records take, whatever API sent them: validate each, store them in chunks, say
what became of each. The APIs (Cobi's Data API; DataCue's backend; imports) differ only in their answer.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import Counter
from dataclasses import dataclass
from dataclasses import field

from marshmallow import Schema

from ..clock import iso
from ..clock import utcnow
from ..errors import ApiError
from ..errors import InvalidRecord
from ..errors import MissingReference
from ..ingest.rejections import Refusals
from ..ingest.rejections import validated
from ..schemas.compiled import compiled
from .record_types import RecordType
from .record_types import Version
from .record_types import get


@dataclass
class Result:
    """What became of one record of a request."""

    index: int
    record_id: str | None
    status: str  # stored, deleted, stale, refused
    code: str = ""
    message: str = ""
    errors: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        """The result as an answer lists it."""
        found = {"index": self.index, "id": self.record_id, "status": self.status}
        if self.status == "refused":
            found.update(code=self.code, message=self.message, errors=self.errors)
        elif self.message:
            found["message"] = self.message
        return found


@dataclass
class Chunk:
    """One chunk of a request: one transaction, one entry in Cobi's `batches[]`."""

    number: int
    batch_id: str
    results: list[Result]

    def counts(self) -> dict[str, int]:
        """Records per status, and how many were received."""
        tally = Counter(r.status for r in self.results)
        return {"received": len(self.results), **{s: tally[s] for s in ("stored", "deleted", "stale", "refused")}}


@dataclass(frozen=True)
class Sender:
    """Who writes records and where: the site's key row, the secret's id, the store, how refused items are
    kept, and how many records a transaction holds (DATA_CHUNK)."""

    key_row: dict
    sent_by: int | None
    storage: object
    refusals: Refusals
    chunk: int


@dataclass
class Upload:
    """One request's records (or one import chunk's), written chunk by chunk."""

    record_type: RecordType
    key_row: dict
    sent_by: int | None
    #: How its refused items are kept (the settings' bounds, the client that sent them).
    refusals: Refusals
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    chunks: list[Chunk] = field(default_factory=list)
    #: From an import job: the job, and each item's row in its file (with `number` and `text`), in order.
    job_id: int | None = None
    rows: list | None = None

    def rejected_row(self, index: int, error: ApiError, item, record_id: str | None, received_at) -> dict:
        """The `rejected` row of item `index`: the JSON a request sent, or the row of an imported file."""
        row_no, raw = None, None
        if self.rows is not None:
            row_no, raw = self.rows[index].number, self.rows[index].text
        else:
            raw = json.dumps(item, ensure_ascii=False, default=str)
        return self.refusals.row(self.key_row, self.record_type.family, error, raw, event_id=record_id,
                                 received_at=received_at, job_id=self.job_id, row_no=row_no)

    def refused(self) -> int:
        """Records refused over the whole request."""
        return sum(c.counts()["refused"] for c in self.chunks)

    def received(self) -> int:
        """Records in the request."""
        return sum(len(c.results) for c in self.chunks)


def _record_id(record_type: RecordType, item) -> str | None:
    """The id a refused record names, as sent (for the answer and the rejected table)."""
    value = item.get(record_type.id_field) if isinstance(item, dict) else None
    return value if isinstance(value, str) else None


@functools.cache
def loader(name: str) -> Schema:
    """The schema the record path loads a type's records with: its class compiled (schemas/compiled.py),
    marshmallow's answers in about half the time; the type's own `schema` stays plain."""
    return compiled(type(get(name).schema))


def _validate(record_type: RecordType, index: int, item) -> Version:
    """One record checked against its type's schema, or ApiError.

    No size check of its own: every declared field is bounded by the schema and the undeclared ones
    together by EXTRAS_MAX_BYTES, so a valid record is small; measuring each one cost a tenth of the
    endpoint's time.
    """
    if not isinstance(item, dict):
        raise InvalidRecord("A record must be a JSON object.")
    data = validated(loader(record_type.name), item, InvalidRecord, "The record is invalid")
    return Version(index=index, record_id=record_type.record_id(data), data=data)


@dataclass
class Checked:
    """A chunk's items after validation: the versions to store, the refused ones' results and rejected rows."""

    versions: list[Version]
    results: dict[int, Result]
    rejected: list[dict]


def check(upload: Upload, items: list, start: int, received_at) -> Checked:
    """Validate a chunk of a request's items (indexes from `start`); nothing is written."""
    record_type = upload.record_type
    checked = Checked([], {}, [])
    for index, item in enumerate(items, start):
        try:
            checked.versions.append(_validate(record_type, index, item))
        except ApiError as error:
            record_id = _record_id(record_type, item)
            checked.rejected.append(upload.rejected_row(index, error, item, record_id, received_at))
            checked.results[index] = Result(index, record_id, "refused", error.code, error.message, error.errors or {})
    return checked


def commit(upload: Upload, checked: Checked, storage, received_at, progress=None) -> Chunk:
    """Store a checked chunk in one transaction (with an import chunk's `progress`), and say what became of
    each of its items; the chunk's answer exists only once it is committed."""
    record_type = upload.record_type
    batch_id = str(uuid.uuid4())
    results = dict(checked.results)

    def refuse(version: Version, code: str, message: str) -> dict:
        """The rejected row of a record whose reference is missing."""
        return upload.rejected_row(version.index, MissingReference(message), version.data, version.record_id,
                                   received_at)

    meta = {"key": upload.key_row["key"], "mode": upload.key_row["mode"], "source": record_type.family,
            "sent_by": upload.sent_by, "request_id": upload.request_id, "batch_id": batch_id,
            "received_at": iso(received_at), "job_id": upload.job_id}
    outcomes = storage.write_records(record_type, checked.versions, meta, checked.rejected, refuse, progress)
    for version, outcome in zip(checked.versions, outcomes, strict=True):
        if outcome.status == "refused":
            results[version.index] = Result(version.index, version.record_id, "refused", MissingReference.code,
                                            outcome.message)
        else:
            results[version.index] = Result(version.index, version.record_id, outcome.status,
                                            message=outcome.message)
    chunk = Chunk(len(upload.chunks) + 1, batch_id, [results[i] for i in sorted(results)])
    upload.chunks.append(chunk)
    return chunk


def store(upload: Upload, items: list, storage, size: int) -> Upload:
    """Validate and store a request's records in chunks of `size` (DATA_CHUNK), each its own transaction.

    A storage failure stops the request (the client's retry finds the committed chunks unchanged).
    """
    received_at = utcnow()
    for start in range(0, len(items), size):
        commit(upload, check(upload, items[start:start + size], start, received_at), storage, received_at)
    return upload

"""Reference records in the store: append-only versions, one current row per id, dependency checks.

A chunk of one request is one transaction: its versions, the current rows they replace, their outbox
rows and the rows refused from it are committed together, or none of them is.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from uuid6 import uuid7

from .. import metrics
from ..reference.record_types import ITEM_RECORD_TYPES
from ..reference.record_types import STUDENT_RECORD_TYPE
from ..reference.record_types import Outcome
from ..reference.record_types import RecordType
from ..reference.record_types import Version
from .base import SQLBase
from .columns import RECORD_COLUMNS
from .columns import REJECTED_COLUMNS
from .columns import VERSION_COLUMNS
from .columns import insert_sql
from .ingest import INSERT_OUTBOX
from .ingest import INSERT_REJECTED

#: Ids per `IN (...)` list: far below both backends' parameter limits.
_IN_CHUNK = 500
_INSERT_VERSION = insert_sql("record_versions", VERSION_COLUMNS)
# The WHERE makes "last writer by updated" hold even when two transactions race for one record.
_UPSERT_CURRENT = (
    insert_sql("records", RECORD_COLUMNS)
    + " ON CONFLICT (key, type, record_id) DO UPDATE SET mode = excluded.mode, version_id = excluded.version_id, "
      "updated = excluded.updated, is_deleted = excluded.is_deleted, received_at = excluded.received_at, "
      "payload = excluded.payload "
      "WHERE records.updated IS NULL OR excluded.updated IS NULL OR excluded.updated >= records.updated")


def loaded_payload(payload) -> dict:
    """A stored payload as a dict (PostgreSQL's JSONB arrives decoded, SQLite's text does not)."""
    return json.loads(payload) if isinstance(payload, (str, bytes)) else payload


def record_payload(meta: dict, record_type: str, version: Version, version_id: str) -> str:
    """A record version as the outbox keeps it (the shape of an event's outbox payload)."""
    return json.dumps({"event_id": version_id, "mode": meta["mode"], "source": meta["source"], "type": record_type,
                       "record_id": version.record_id, "received_at": meta["received_at"], "data": version.data},
                      separators=(",", ":"))


class RecordsMixin(SQLBase):
    """write_records(): one chunk of reference records; known(): what an interaction names."""

    def write_records(self, record_type: RecordType, versions: list[Version], meta: dict, rejected: list[dict],
                      refuse: Callable[[Version, str, str], dict], progress=None) -> list[Outcome]:
        """Store one chunk of validated records of a type, with the rows refused from it, in one transaction.

        `meta` holds key, mode, source, sent_by, request_id, batch_id, received_at and (from an import)
        job_id. A record whose reference is missing is refused: `refuse(version, code, message)` makes its
        rejected row. An import job's chunk brings its `progress` (jobs.Progress), committed with it.
        """
        self.ensure_migrated()
        now = time.time()
        with self._transaction() as conn:
            current = self._current(conn, meta["key"], record_type.name, {v.record_id for v in versions})
            named = {ref.type: self._current(conn, meta["key"], ref.type,
                                             {v.data[ref.field] for v in versions if v.data.get(ref.field)})
                     for ref in record_type.references}
            outcomes, stored, refused = [], [], []
            for version in versions:
                missing = None if version.is_deleted else self._missing(record_type, version, named)
                if missing:
                    refused.append(refuse(version, "missing_reference", missing))
                    outcomes.append(Outcome("refused", missing))
                    continue
                earlier = current.get(version.record_id)
                stale = (earlier is not None and version.updated is not None and earlier["updated"] is not None
                         and version.updated < earlier["updated"])
                if stale:
                    outcomes.append(Outcome("stale", f"Older than the stored version (updated {earlier['updated']}): "
                                                     "kept in history only."))
                else:
                    outcomes.append(Outcome("deleted" if version.is_deleted else "stored"))
                # A version already kept (same fields, same updated time) is a request sent again: it
                # changes nothing and is answered as it was the first time.
                if earlier is not None and (earlier["data"] == version.data or version.updated is not None
                                            and self._in_history(conn, meta["key"], record_type.name, version)):
                    outcomes[-1] = Outcome(outcomes[-1].status, outcomes[-1].message, repeated=True)
                    continue
                # Time-ordered ids append to the version_id index instead of writing a random page of it
                # per record: a third of the pages a chunk of new records dirtied.
                stored.append((version, str(uuid7()), stale))
                if not stale:
                    current[version.record_id] = {"updated": version.updated, "is_deleted": version.is_deleted,
                                                  "data": version.data}
            self._store_versions(conn, record_type.name, stored, meta, now)
            rows = rejected + refused
            if rows:
                conn.cursor().executemany(INSERT_REJECTED, [[row[c] for c in REJECTED_COLUMNS] for row in rows])
            if progress is not None:
                self._advance(conn, progress, outcomes, len(rows))
        taken = [outcome for outcome in outcomes if outcome.status != "refused"]  # refused ones are in `rows`
        metrics.stored([{"source": meta["source"], "type": record_type.name}] * len(taken), taken, rows)
        return outcomes

    def _store_versions(self, conn, type_name: str, stored: list[tuple[Version, str, bool]], meta: dict,
                        now: float) -> None:
        """Append the versions to history, make the fresh ones current, and queue them for the targets."""
        payloads = [(version, version_id, stale, json.dumps(version.data, separators=(",", ":")))
                    for version, version_id, stale in stored]
        conn.cursor().executemany(_INSERT_VERSION, [
            (version_id, meta["key"], meta["mode"], type_name, version.record_id, version.updated,
             int(version.is_deleted), meta["source"], meta["sent_by"], meta["request_id"], meta["batch_id"],
             meta["received_at"], payload, meta.get("job_id")) for version, version_id, _, payload in payloads])
        fresh = [p for p in payloads if not p[2]]
        conn.cursor().executemany(_UPSERT_CURRENT, [
            (meta["key"], meta["mode"], type_name, version.record_id, version_id, version.updated,
             int(version.is_deleted), meta["received_at"], payload) for version, version_id, _, payload in fresh])
        _, targets = self.targets_for(conn, meta["key"])
        probe = {"source": meta["source"], "type": type_name}
        wanting = self.wanting(targets, probe)
        conn.cursor().executemany(INSERT_OUTBOX, [
            (target_id, meta["key"], version_id, meta["source"], record_payload(meta, type_name, version, version_id),
             now, now) for version, version_id, _, _ in fresh for target_id in wanting])

    def _in_history(self, conn, key: str, type_name: str, version: Version) -> bool:
        """Whether this very version of a record (same updated time, same fields) was kept before."""
        for (payload,) in conn.execute(
                "SELECT payload FROM record_versions WHERE key = ? AND type = ? AND record_id = ? AND updated = ?",
                (key, type_name, version.record_id, version.updated)).fetchall():
            if loaded_payload(payload) == version.data:
                return True
        return False

    @staticmethod
    def _rows_of(conn, columns: str, key: str, type_name: str, ids: set[str], condition: str = ""):
        """Yield `columns` of the current records of these ids of a type, a bounded IN list at a time."""
        ids = sorted(ids)
        for start in range(0, len(ids), _IN_CHUNK):
            part = ids[start:start + _IN_CHUNK]
            yield from conn.execute(
                f"SELECT {columns} FROM records WHERE key = ? AND type = ? {condition}"
                f"AND record_id IN ({', '.join('?' for _ in part)})", (key, type_name, *part)).fetchall()

    def _current(self, conn, key: str, type_name: str, ids: set[str]) -> dict[str, dict]:
        """The current rows of these ids of a type: updated, is_deleted and the record."""
        return {record_id: {"updated": updated, "is_deleted": bool(is_deleted), "data": loaded_payload(payload)}
                for record_id, updated, is_deleted, payload
                in self._rows_of(conn, "record_id, updated, is_deleted, payload", key, type_name, ids)}

    def current_records(self, key: str, type_name: str, ids: set[str]) -> dict[str, dict]:
        """The current rows (deleted ones too) of these ids of a type: updated, is_deleted, data."""
        self.ensure_migrated()
        with self._connection() as conn:
            return self._current(conn, key, type_name, ids)

    def records_where(self, key: str, type_name: str, field: str, value: str,
                      deleted: bool = False) -> dict[str, dict]:
        """The current records of a type whose `field` is `value` (a product's variants, a user by
        email), by id: those not deleted, or (`deleted`) those deleted."""
        self.ensure_migrated()
        column = self.dialect.json_field.format(column="payload", field=field)
        with self._connection() as conn:
            return {record_id: loaded_payload(payload) for record_id, payload in conn.execute(
                f"SELECT record_id, payload FROM records WHERE key = ? AND type = ? AND is_deleted = ? "
                f"AND {column} = ?", (key, type_name, int(deleted), value)).fetchall()}

    def record_ids(self, key: str, type_name: str) -> list[str]:
        """The ids of a type's current, not deleted records (DataCue's overview), in order."""
        self.ensure_migrated()
        with self._connection() as conn:
            return [record_id for (record_id,) in conn.execute(
                "SELECT record_id FROM records WHERE key = ? AND type = ? AND is_deleted = 0 ORDER BY record_id",
                (key, type_name)).fetchall()]

    @staticmethod
    def _missing(record_type: RecordType, version: Version, named: dict[str, dict[str, dict]]) -> str | None:
        """Why a record's references do not hold (a named record absent, deleted or of another shop), or None."""
        for ref in record_type.references:
            value = version.data.get(ref.field)
            if not value:
                continue
            target = named[ref.type].get(value)
            if target is None or target["is_deleted"]:
                state = "was deleted" if target else "does not exist"
                return f"{ref.field} {value} names a record of {ref.type} that {state}; send it to {ref.type} first."
            for field in ref.same:
                if target["data"].get(field) != version.data.get(field):
                    return (f"{ref.field} {value} belongs to {field} {target['data'].get(field)}, "
                            f"not {version.data.get(field)}.")
        return None

    def mark_known(self, conn, events: list[dict]) -> None:
        """Set item_known and student_known on Cobi interactions: were they known records on arrival?"""
        wanted: dict[tuple[str, str], set[str]] = {}
        for event in events:
            if event["source"] != "cobi":
                continue
            item_type = ITEM_RECORD_TYPES.get(event["item_type"], "")
            wanted.setdefault((event["key"], item_type), set()).add(event["item_id"])
            if event.get("student_id"):
                wanted.setdefault((event["key"], STUDENT_RECORD_TYPE), set()).add(event["student_id"])
        # Ids alone: an interaction's ingest need not read and decode the records it names.
        known = {(key, type_name, record_id)
                 for (key, type_name), ids in wanted.items()
                 for (record_id,) in self._rows_of(conn, "record_id", key, type_name, ids, "AND is_deleted = 0 ")}
        for event in events:
            if event["source"] == "cobi":
                event["item_known"] = int((event["key"], ITEM_RECORD_TYPES.get(event["item_type"], ""),
                                           event["item_id"]) in known)
                event["student_known"] = (int((event["key"], STUDENT_RECORD_TYPE, event["student_id"]) in known)
                                          if event.get("student_id") else None)

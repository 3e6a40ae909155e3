"""The ingest write: events, their lines, their outbox rows and rejected rows in one transaction."""

from __future__ import annotations

import json
import time

from .. import metrics
from .base import SQLBase
from .columns import EVENT_COLUMNS
from .columns import LINE_COLUMNS
from .columns import REJECTED_COLUMNS
from .columns import insert_sql
from .group import GroupCommit

#: Events per multi-row INSERT: 43 columns x 200 rows stays under both backends' parameter limits.
_CHUNK = 200
_ROW = f"({', '.join('?' for _ in EVENT_COLUMNS)})"
#: One event's insert; the multi-row form below is the same statement with more rows.
INSERT_EVENT = insert_sql("events", EVENT_COLUMNS) + " ON CONFLICT (key, event_id) DO NOTHING RETURNING id"
INSERT_LINE = insert_sql("event_lines", ("event_pk", "key", "event_id", *LINE_COLUMNS))
INSERT_REJECTED = insert_sql("rejected", REJECTED_COLUMNS)
INSERT_OUTBOX = (insert_sql("outbox", ("target_id", "key", "event_id", "source", "payload", "next_attempt_at",
                                        "created_at")) + " ON CONFLICT (target_id, key, event_id) DO NOTHING")


def outbox_payload(row: dict) -> str:
    """The event as the outbox keeps it: what every upstream body is built from."""
    meta = {k: row[k] for k in ("event_id", "mode", "source", "type", "subtype", "event_name", "received_at",
                                "event_time", "ip", "user_agent")}
    return json.dumps(meta, separators=(",", ":"))[:-1] + ',"data":' + row["payload"] + "}"


def line_values(event_pk: int, event: dict) -> list[list]:
    """The event_lines values of one stored event."""
    return [[event_pk, event["key"], event["event_id"]] + [line[c] for c in LINE_COLUMNS]
            for line in event.get("lines", ())]


class IngestMixin(SQLBase):
    """write(): what every ingest endpoint stores, with dedupe by (key, event_id) and group commit."""

    def __init__(self, *args, **kwargs):
        """Set up the group commit of concurrent writes."""
        super().__init__(*args, **kwargs)
        self._group = GroupCommit(self._write_group)

    def write(self, events: list[dict], rejected: list[dict], progress=None) -> list[dict | None]:
        """Store events, their lines, their outbox rows and rejected rows atomically; report duplicates.

        Returns, per event, None when it was stored now, or the earlier row (`payload`, `received_at`,
        `source`) when its (key, event_id) was already there. Concurrent calls share a transaction
        (group commit); each returns only once its rows are committed. An import job's chunk brings its
        `progress` (jobs.Progress), committed in the same transaction, alone.
        """
        if not events and not rejected and progress is None:
            return []  # a refusal kept nowhere (a forgotten visitor): no transaction to sync
        self.ensure_migrated()
        if progress is not None:  # one import worker writes alone: nothing to group with
            with self._transaction() as conn:
                outcomes = self._write_one(conn, events, rejected, time.time())
                self._advance(conn, progress, outcomes, len(rejected))
        else:
            outcomes = self._group.submit((events, rejected))
        metrics.stored(events, outcomes, rejected)  # committed by now
        return outcomes

    def targets_for(self, conn, key: str) -> tuple[bool, list[tuple]]:
        """Whether the key stores events locally, and its active targets (id, kind, subscribed sources,
        subscribed types; None for every one); cached like key rows."""
        return self._cached("targets", key, lambda: self._load_targets(conn, key))

    def _load_targets(self, conn, key: str) -> tuple[bool, list[tuple]]:
        """targets_for, read from the store."""
        row = conn.execute("SELECT store_events FROM keys WHERE key = ?", (key,)).fetchone()
        targets = conn.execute("SELECT id, kind, sources, types FROM forward_targets WHERE key = ? "
                               "AND removed_at IS NULL", (key,)).fetchall()
        return (row is None or bool(row[0])), [
            (target_id, kind, *(None if names is None else frozenset(names.split(",")) for names in (sources, types)))
            for target_id, kind, sources, types in targets]

    def wanting(self, targets: list[tuple], event: dict) -> list[int]:
        """The targets (ids) that take an event (or a record version: its source and type): their kind
        wants it and they subscribe to its source and type."""
        return [target_id for target_id, kind, sources, types in targets
                if (sources is None or event["source"] in sources) and (types is None or event["type"] in types)
                and self.wants(kind, event)]

    def _write_group(self, works: list[tuple[list[dict], list[dict]]]) -> list[list[dict | None]]:
        """Write several requests' (events, rejected) in one transaction, in order; their outcomes."""
        now = time.time()
        with self._transaction() as conn:
            return [self._write_one(conn, events, rejected, now) for events, rejected in works]

    def _write_one(self, conn, events: list[dict], rejected: list[dict], now: float) -> list[dict | None]:
        """One request's rows inside the group's transaction."""
        store, targets = self.targets_for(conn, events[0]["key"]) if events else (True, [])
        if store:
            self.mark_known(conn, events)
            outcomes = self._store_events(conn, events)
            new = [event for event, earlier in zip(events, outcomes, strict=True) if earlier is None]
            self._write_outbox(conn, new, targets, now)
        else:
            # Relay only: the outbox alone tells a repeated event id.
            outcomes = [None if self._write_outbox(conn, [event], targets, now) else self._relayed_before(conn, event)
                        for event in events]
        if rejected:
            conn.cursor().executemany(INSERT_REJECTED, [[row[c] for c in REJECTED_COLUMNS] for row in rejected])
        return outcomes

    def _write_outbox(self, conn, events: list[dict], targets: list[tuple], now: float) -> int:
        """Record one delivery per event and target that wants it; return how many rows were new."""
        added = 0
        for event in events:
            for target_id in self.wanting(targets, event):
                added += conn.execute(INSERT_OUTBOX, (target_id, event["key"], event["event_id"],
                                                       event["source"], outbox_payload(event), now, now)).rowcount
        return added

    def _store_events(self, conn, events: list[dict]) -> list[dict | None]:
        """Insert events (a multi-row INSERT per chunk) and their lines; an event whose (key, event_id)
        was already taken, earlier or earlier in this batch, gets the earlier row instead of None."""
        ids: dict[str, list[int]] = {}
        for start in range(0, len(events), _CHUNK):
            chunk = events[start:start + _CHUNK]
            values = ", ".join(_ROW for _ in chunk)
            returned = conn.execute(
                f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES {values} "
                "ON CONFLICT (key, event_id) DO NOTHING RETURNING id, event_id",
                [event[c] for event in chunk for c in EVENT_COLUMNS]).fetchall()
            for pk, event_id in returned:
                ids.setdefault(event_id, []).append(pk)
        outcomes, lines = [], []
        for event in events:
            pks = ids.get(event["event_id"])
            if pks:  # the first occurrence in this batch takes the new row
                lines.extend(line_values(pks.pop(), event))
                outcomes.append(None)
                continue
            earlier = conn.execute(
                "SELECT CAST(payload AS TEXT), received_at, source FROM events WHERE key = ? AND event_id = ?",
                (event["key"], event["event_id"])).fetchone()
            outcomes.append({"payload": earlier[0], "received_at": earlier[1], "source": earlier[2]})
        if lines:
            conn.cursor().executemany(INSERT_LINE, lines)
        return outcomes

    def _relayed_before(self, conn, event: dict) -> dict | None:
        """For a key that only relays: the earlier outbox copy of this event, if there is one."""
        row = conn.execute("SELECT payload FROM outbox WHERE key = ? AND event_id = ? LIMIT 1",
                           (event["key"], event["event_id"])).fetchone()
        if row is None:
            return None
        earlier = json.loads(row[0])
        return {"payload": json.dumps(earlier["data"]), "received_at": earlier["received_at"],
                "source": earlier.get("source")}

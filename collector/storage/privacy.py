"""Erasing a person (forget) and old data (prune), and the list of people whose events are refused."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime

from ..clock import iso
from .base import SQLBase

#: Rows a retention pass deletes per transaction (an event's delete touches a dozen indexes and notes
#: its visit and hour for the rollups: a few tens of microseconds each), and how long it rests after each,
#: as a multiple of the time the delete took: ingest waits for at most one batch, and rarely, and keeps
#: the cores it shares with the pass (bench/RESULTS.md: a rest of 4 left ingest p99 1.8 to 2.2 times, 8
#: 1.3 to 1.6 times).
PRUNE_BATCH = 100
PRUNE_REST = 8.0

#: How many identity links forget follows from the id it was given (user -> anonymous ids -> users ...).
_MAX_LINK_ROUNDS = 5


def id_hash(value: str) -> str:
    """The form a suppressed id is kept in: nobody can read the id back from it."""
    return hashlib.sha256(value.encode()).hexdigest()


def _linked_ids(conn, user_ids: set[str], anonymous_ids: set[str]) -> tuple[set[str], set[str]]:
    """Grow both sets along events that carry a user id and an anonymous id together (the identities view)."""
    for _ in range(_MAX_LINK_ROUNDS):
        found_users, found_anonymous = set(user_ids), set(anonymous_ids)
        for column, ids, other, into in (("user_id", user_ids, "anonymous_id", found_anonymous),
                                         ("anonymous_id", anonymous_ids, "user_id", found_users)):
            for value in ids:
                into.update(row[0] for row in conn.execute(
                    f"SELECT DISTINCT {other} FROM events WHERE {column} = ? AND {other} IS NOT NULL", (value,)))
        if (found_users, found_anonymous) == (user_ids, anonymous_ids):
            break
        user_ids, anonymous_ids = found_users, found_anonymous
    return user_ids, anonymous_ids


class PrivacyMixin(SQLBase):
    """forget, prune and the suppression list."""

    def forget(self, user_id: str | None, anonymous_id: str | None, suppress: bool, at: str) -> dict:
        """Erase a person: their events (and identity links), lines, pending and past outbox rows, and
        rejected bodies that name them; with suppress, refuse their later events. Returns counts."""
        holds_id = self.dialect.contains("raw", "?")
        self.ensure_migrated()
        with self._transaction() as conn:
            users, anonymous = _linked_ids(conn, {user_id} - {None}, {anonymous_id} - {None})
            counts = {"user_ids": len(users), "anonymous_ids": len(anonymous), "events": 0, "lines": 0,
                      "outbox": 0, "rejected": 0, "customers": 0}
            for value in users:
                counts["customers"] += self._forget_customer(conn, value)
            for column, ids in (("user_id", users), ("anonymous_id", anonymous)):
                for value in ids:
                    match = f"SELECT id FROM events WHERE {column} = ?"
                    # The recommendation tables counted them: their sites are counted again without them.
                    conn.execute(f"INSERT INTO rec_rebuilds (key, requested_at) SELECT DISTINCT key, ? FROM events "
                                 f"WHERE {column} = ? ON CONFLICT (key) DO NOTHING", (at, value))
                    counts["lines"] += conn.execute(
                        f"DELETE FROM event_lines WHERE event_pk IN ({match})", (value,)).rowcount
                    counts["outbox"] += conn.execute(
                        f"DELETE FROM outbox WHERE event_id IN (SELECT event_id FROM events WHERE {column} = ?)",
                        (value,)).rowcount
                    counts["events"] += conn.execute(f"DELETE FROM events WHERE {column} = ?", (value,)).rowcount
                    # A rejected body is kept as text: one that holds the id as a JSON string goes too.
                    counts["rejected"] += conn.execute(f"DELETE FROM rejected WHERE {holds_id}",
                                                       ('"' + value + '"',)).rowcount
                    if suppress:
                        conn.execute("INSERT INTO suppressed (id_hash, kind, created_at) VALUES (?, ?, ?) "
                                     "ON CONFLICT (id_hash) DO NOTHING", (id_hash(value), column, at))
        self._forget_cached()
        return counts

    def _forget_customer(self, conn, user_id: str) -> int:
        """Erase the Data API's customer records (every version) whose user_id is this person's; return
        how many versions went. A customer is a person: birthdate, gender, institute."""
        named = f"type = 'customers' AND {self.dialect.json_field.format(column='payload', field='user_id')} = ?"
        conn.execute(f"DELETE FROM outbox WHERE event_id IN (SELECT version_id FROM record_versions WHERE {named})",
                     (user_id,))
        conn.execute(f"DELETE FROM records WHERE {named}", (user_id,))
        return conn.execute(f"DELETE FROM record_versions WHERE {named}", (user_id,)).rowcount

    def prune(self, before: datetime | None, rejected_before: datetime | None = None, batch: int = PRUNE_BATCH,
              stopping: Callable[[], bool] = lambda: False, rest: float = PRUNE_REST) -> dict:
        """Retention: delete events (with their lines) received before `before`, import jobs that ended
        before it and outbox rows created before it that are delivered or dead; and rejected rows received
        before `rejected_before` (else `before`). None keeps that kind. Returns counts.

        A batch of ids is found by a read (which never blocks the writers), then deleted in its own short
        transaction; after each, the pass rests `rest` times as long as the delete took, so that ingest,
        which waits for the write lock meanwhile, gets it between batches. `stopping()` ends the pass
        between batches.
        """
        self.ensure_migrated()
        rejected_before = rejected_before or before
        kinds = [] if before is None else [("events", "received_at < ?", iso(before)),
                                           ("outbox", "created_at < ? AND state IN ('delivered', 'dead')",
                                            before.timestamp()),
                                           ("import_jobs", "finished_at < ?", iso(before))]
        if rejected_before is not None:
            kinds.append(("rejected", "received_at < ?", iso(rejected_before)))
        counts = dict.fromkeys(("events", "lines", "rejected", "outbox", "import_jobs"), 0)
        for table, condition, limit in kinds:
            while not stopping():
                ids = [row["id"] for row in self._read(f"SELECT id FROM {table} WHERE {condition} LIMIT ?",
                                                       (limit, batch))]
                if not ids:
                    break
                marks = ", ".join("?" for _ in ids)
                started = time.monotonic()
                with self._transaction() as conn:
                    if table == "events":
                        counts["lines"] += conn.execute(f"DELETE FROM event_lines WHERE event_pk IN ({marks})",
                                                        ids).rowcount
                    counts[table] += conn.execute(f"DELETE FROM {table} WHERE id IN ({marks})", ids).rowcount
                time.sleep(rest * (time.monotonic() - started))
        return counts

    def suppressed(self) -> frozenset[str]:
        """Hashes of the ids whose events are refused, cached like key rows."""
        return self._cached("suppressed", "", lambda: frozenset(
            row["id_hash"] for row in self._read("SELECT id_hash FROM suppressed")))

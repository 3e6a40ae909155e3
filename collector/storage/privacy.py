"""Erasing a person (forget) and old data (prune), and the list of people whose events are refused."""

from __future__ import annotations

import hashlib

from .base import SQLBase

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

    def prune(self, before: str, before_epoch: float) -> dict:
        """Delete events and rejected rows received before `before` (ISO text), import jobs that ended
        before it, and outbox rows created before `before_epoch` that are delivered or dead. Returns counts."""
        self.ensure_migrated()
        with self._transaction() as conn:
            old = "SELECT id FROM events WHERE received_at < ?"
            return {
                "lines": conn.execute(f"DELETE FROM event_lines WHERE event_pk IN ({old})", (before,)).rowcount,
                "events": conn.execute("DELETE FROM events WHERE received_at < ?", (before,)).rowcount,
                "rejected": conn.execute("DELETE FROM rejected WHERE received_at < ?", (before,)).rowcount,
                "outbox": conn.execute("DELETE FROM outbox WHERE created_at < ? AND state IN ('delivered', 'dead')",
                                       (before_epoch,)).rowcount,
                "import_jobs": conn.execute("DELETE FROM import_jobs WHERE finished_at < ?", (before,)).rowcount,
            }

    def suppressed(self) -> frozenset[str]:
        """Hashes of the ids whose events are refused, cached like key rows."""
        return self._cached("suppressed", "", lambda: frozenset(
            row["id_hash"] for row in self._read("SELECT id_hash FROM suppressed")))

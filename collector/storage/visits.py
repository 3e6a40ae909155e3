"""The `visits` table kept up to date: triggers on `events` note every visit an insert or a delete changed
(`visit_changes`); a refresh recomputes those visits from their events (collector/visits.py) and clears
the notes it read, in one transaction, one refresher at a time.

A refresh runs in the worker's loop and before the web panels read, so that they answer from every
committed event: late events, imports and forget change the visits they touch and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable

from ..visits import EVENT_FIELDS
from ..visits import VISIT_COLUMNS
from ..visits import derived_id
from ..visits import split
from ..visits import summarise
from .base import SQLBase
from .columns import insert_sql

_SELECT = f"SELECT {', '.join(EVENT_FIELDS)} FROM events"
_INSERT = insert_sql("visits", VISIT_COLUMNS)
#: An advisory lock's number on PostgreSQL ("visi"): refreshers take turns (SQLite's write lock does it there).
_LOCK = 0x76697369


class VisitsMixin(SQLBase):
    """refresh_visits and what it reads."""

    def refresh_visits(self, limit: int = 2000, stopping: Callable[[], bool] = lambda: False) -> int:
        """Recompute every visit changed since the last refresh, `limit` changes per transaction, until none
        are left or `stopping()` says so; return how many visits were recomputed."""
        self.ensure_migrated()
        total = 0
        while not stopping() and (done := self._refresh_some(limit)) is not None:
            total += done
        return total

    def pending_visit_changes(self) -> int:
        """How many changes wait for a refresh."""
        return self._read("SELECT count(*) AS n FROM visit_changes")[0]["n"]

    def _refresh_some(self, limit: int) -> int | None:
        """Recompute the visits of the oldest `limit` changes and clear them; None when there were none."""
        with self._transaction() as conn:
            if self.dialect.name == "postgres":
                conn.execute(f"SELECT pg_advisory_xact_lock({_LOCK})")
            changes = conn.execute("SELECT id, key, mode, session_id, visitor FROM visit_changes ORDER BY id LIMIT ?",
                                   (limit,)).fetchall()
            if not changes:
                return None
            sessions = {(key, mode, session) for _, key, mode, session, _ in changes if session is not None}
            visitors = {(key, mode, visitor) for _, key, mode, session, visitor in changes if session is None}
            for key, mode, session in sessions:
                self._recompute_session(conn, key, mode, session)
            for key, mode, visitor in visitors:
                self._recompute_visitor(conn, key, mode, visitor)
            # Exactly the notes read: one another writer committed meanwhile waits for the next refresh.
            ids = [row[0] for row in changes]
            conn.execute(f"DELETE FROM visit_changes WHERE id IN ({', '.join('?' for _ in ids)})", ids)
            return len(sessions) + len(visitors)

    @staticmethod
    def _events(conn, where: str, params: tuple) -> list[dict]:
        """The people's events (not bots') matching a condition, in time order, as dicts of EVENT_FIELDS."""
        rows = conn.execute(f"{_SELECT} WHERE {where} AND bot IS NULL ORDER BY event_time, id", params).fetchall()
        return [dict(zip(EVENT_FIELDS, row, strict=True)) for row in rows]

    def _recompute_session(self, conn, key: str, mode: str, session: str) -> None:
        """Rewrite one tracker session's visit from its events (none left: no visit)."""
        events = self._events(conn, "session_id = ? AND key = ? AND mode = ?", (session, key, mode))
        conn.execute("DELETE FROM visits WHERE key = ? AND mode = ? AND session_id = ?", (key, mode, session))
        if events:
            visit = summarise(key, mode, session, False, events)
            conn.execute(_INSERT, [visit[c] for c in VISIT_COLUMNS])

    def _recompute_visitor(self, conn, key: str, mode: str, visitor: str) -> None:
        """Rewrite a visitor's visits made of events without a session, cut at 30-minute gaps."""
        events = self._events(conn, "key = ? AND mode = ? AND session_id IS NULL AND (anonymous_id = ? OR "
                                    "(anonymous_id IS NULL AND user_id = ?))", (key, mode, visitor, visitor))
        conn.execute("DELETE FROM visits WHERE key = ? AND mode = ? AND visitor = ? AND derived = 1",
                     (key, mode, visitor))
        visits = [summarise(key, mode, derived_id(visitor, part), True, part) for part in split(events)]
        if visits:
            conn.cursor().executemany(_INSERT, [[visit[c] for c in VISIT_COLUMNS] for visit in visits])

"""The `visits` table and the rollups kept up to date: triggers on `events` note every visit an insert or a
delete changed, with the event's hour and order (`visit_changes`; triggers on DataCue's order records note
their orders too); a refresh recomputes those visits from their events (visits.py), then the rollups of
every hour those visits span, old and new, every hour an event changed in, and every hour the orders
changed were completed in, and of their days (rollups.py for the web panels, tallies.py for the shop
reports), and clears the notes it read, in one transaction, one refresher at a time.

A refresh runs in the worker's loop and before the web panels read, so that they answer from every
committed event: late events, imports and forget change the visits they touch and nothing else. It
writes through the operational store's connections (`shared_transaction`): the analytics tables live in
its database (store.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta

from ..access.sites import scoped
from ..clock import iso
from ..clock import parse
from ..storage.columns import insert_sql
from ..storage.records import loaded_payload
from . import rollups
from . import tallies
from .visits import EVENT_FIELDS
from .visits import VISIT_COLUMNS
from .visits import VISIT_GAP_SECONDS
from .visits import derived_id
from .visits import events_of_visits
from .visits import page_view
from .visits import split
from .visits import summarise

_SELECT = f"SELECT {', '.join(EVENT_FIELDS)} FROM events"
_INSERT = insert_sql("visits", VISIT_COLUMNS)
_INSERT_ROLLUP = insert_sql("rollups", rollups.COLUMNS)
_INSERT_TALLY = insert_sql("tallies", tallies.COLUMNS)
_SPAN = "SELECT started_at, ended_at FROM visits WHERE "
#: The pages each visit of one site's hour viewed (parameters: mode, start, end, key; three times).
_VISIT_PAGES = scoped(events_of_visits("v.session_id, e.page_path", f"{page_view('e.')} AND e.page_path IS NOT NULL"),
                      ("key",))
#: The refreshers' turn lock's number ("visi" in ASCII).
_LOCK = 0x76697369
#: About how long one transaction of rollups may hold the write lock: an hour of a large import's events
#: costs seconds, and ingest and imports wait for SQLite's one writer meanwhile.
ROLL_UP_SECONDS = 0.5


def refresh_visits(storage, limit: int = 2000, stopping: Callable[[], bool] = lambda: False) -> int:
    """Recompute every visit changed since the last refresh in a store, `limit` changes per transaction,
    until none are left or `stopping()` says so; return how many visits were recomputed."""
    return _Refresher(storage).refresh(limit, stopping)


def pending_visit_changes(storage) -> int:
    """How many changes wait for a refresh."""
    return storage.shared_read("SELECT count(*) AS n FROM visit_changes")[0]["n"]


class _Refresher:
    """One refresh of a store's visits and rollups, over the store's own connections."""

    def __init__(self, storage):
        """Refresh the analytics tables of this store."""
        self.storage = storage
        self.dialect = storage.dialect

    def refresh(self, limit: int, stopping: Callable[[], bool]) -> int:
        """Recompute the visits changed, then roll up the hours they span; return how many visits."""
        # Most calls find nothing to do (a dashboard runs many panels): say so without taking the write lock.
        if not self.storage.shared_read("SELECT 1 AS waiting FROM visit_changes UNION ALL "
                                        "SELECT 1 FROM rollup_hours LIMIT 1"):
            return 0
        total = 0
        while not stopping() and (done := self._refresh_some(limit)) is not None:
            total += done
        # Then the rollups of the hours those visits span, each hour once (a backlog of visits spread over a
        # month would otherwise rewrite the same hours after every batch).
        while not stopping() and self._roll_up_some(max(1, limit // 20)):
            pass
        return total

    def _take_turn(self, conn) -> None:
        """Wait for any other refresher's transaction to end (SQLite's write lock already makes them wait)."""
        if self.dialect.turn_lock:
            conn.execute(self.dialect.turn_lock.format(number=_LOCK))

    def _refresh_some(self, limit: int) -> int | None:
        """Recompute the visits of the oldest `limit` changes and clear them; None when there were none."""
        with self.storage.shared_transaction() as conn:
            self._take_turn(conn)
            changes = conn.execute("SELECT id, key, mode, session_id, visitor, event_time, hour, order_id "
                                   "FROM visit_changes ORDER BY id LIMIT ?", (limit,)).fetchall()
            if not changes:
                return None
            sessions = {(key, mode, session) for _, key, mode, session, *_ in changes if session is not None}
            # A visitor's events without a session: the times that changed, to rewrite only the visits around them.
            visitors: dict[tuple[str, str, str], list[str]] = {}
            for _, key, mode, session, visitor, moment, *_ in changes:
                if session is None and visitor is not None:
                    visitors.setdefault((key, mode, visitor), []).append(moment)
            # Every hour an event changed in (a bot's too: it is counted apart), and the hours each order
            # changed (a cancellation, a backend record) was completed in.
            hours = {(key, mode, hour) for _, key, mode, _, _, _, hour, _ in changes if hour is not None}
            orders: dict[tuple[str, str], set[str]] = {}
            for _, key, mode, *_, order in changes:
                if order is not None:
                    orders.setdefault((key, mode), set()).add(order)
            for (key, mode), ids in orders.items():
                hours.update(_order_hours(conn, key, mode, sorted(ids)))
            for key, mode, session in sessions:
                hours.update(self._recompute_session(conn, key, mode, session))
            for (key, mode, visitor), moments in visitors.items():
                hours.update(self._recompute_visitor(conn, key, mode, visitor, moments))
            conn.cursor().executemany("INSERT INTO rollup_hours (key, mode, hour) VALUES (?, ?, ?) "
                                      "ON CONFLICT (key, mode, hour) DO NOTHING", sorted(hours))
            # Exactly the notes read: one another writer committed meanwhile waits for the next refresh.
            ids = [row[0] for row in changes]
            conn.execute(f"DELETE FROM visit_changes WHERE id IN ({', '.join('?' for _ in ids)})", ids)
            return len(sessions) + len(visitors)

    def _roll_up_some(self, limit: int) -> bool:
        """Rewrite the rollups of up to `limit` waiting hours (fewer once ROLL_UP_SECONDS have passed) and of
        their days; False when none waited."""
        with self.storage.shared_transaction() as conn:
            self._take_turn(conn)
            waiting = conn.execute("SELECT key, mode, hour FROM rollup_hours ORDER BY key, mode, hour LIMIT ?",
                                   (limit,)).fetchall()
            started, hours = time.monotonic(), []
            for key, mode, hour in waiting:
                if hours and time.monotonic() - started > ROLL_UP_SECONDS:
                    break
                hours.append((key, mode, hour))
                self._roll_up_hour(conn, key, mode, hour)
                conn.execute("DELETE FROM rollup_hours WHERE key = ? AND mode = ? AND hour = ?", (key, mode, hour))
            for key, mode, day in sorted({(key, mode, hour[:10]) for key, mode, hour in hours}):
                self._roll_up_day(conn, key, mode, day)
            return bool(hours)

    @staticmethod
    def _events(conn, where: str, params: tuple) -> list[dict]:
        """The people's events (not bots') matching a condition, in time order, as dicts of EVENT_FIELDS."""
        rows = conn.execute(f"{_SELECT} WHERE {where} AND bot IS NULL ORDER BY event_time, id", params).fetchall()
        return [dict(zip(EVENT_FIELDS, row, strict=True)) for row in rows]

    def _recompute_session(self, conn, key: str, mode: str, session: str) -> set[tuple[str, str, str]]:
        """Rewrite one tracker session's visit from its events (none left: no visit); return the hours its
        old and new visit span."""
        where = ("key = ? AND mode = ? AND session_id = ?", (key, mode, session))
        spans = conn.execute(_SPAN + where[0], where[1]).fetchall()
        events = self._events(conn, "session_id = ? AND key = ? AND mode = ?", (session, key, mode))
        conn.execute("DELETE FROM visits WHERE " + where[0], where[1])
        if events:
            visit = summarise(key, mode, session, False, events)
            conn.execute(_INSERT, [visit[c] for c in VISIT_COLUMNS])
            spans.append((visit["started_at"], visit["ended_at"]))
        return _hours(key, mode, spans)

    def _recompute_visitor(self, conn, key: str, mode: str, visitor: str, moments: list[str]
                           ) -> set[tuple[str, str, str]]:
        """Rewrite the visits, made of a visitor's events without a session, that changes at these moments can
        touch: those within 30 minutes of a change, and of those, until no other visit is that close; return
        the hours the old and new visits span. A visitor with a year of history costs only the visits around
        what changed."""
        low, high = min(moments), max(moments)
        found: dict[str, tuple[str, str]] = {}
        while True:
            close = conn.execute(
                "SELECT session_id, started_at, ended_at FROM visits WHERE key = ? AND mode = ? AND visitor = ? "
                "AND derived = 1 AND started_at <= ? AND ended_at >= ?",
                (key, mode, visitor, shift(high, VISIT_GAP_SECONDS), shift(low, -VISIT_GAP_SECONDS))).fetchall()
            grown = {row[0]: (row[1], row[2]) for row in close if row[0] not in found}
            if not grown:
                break
            found.update(grown)
            low = min(low, *(start for start, _ in grown.values()))
            high = max(high, *(end for _, end in grown.values()))
        # Every stored event between low and high belongs to a visit found, or is one that changed. Two reads,
        # so that each uses its index (events_loose_anonymous, events_loose_user).
        window = "key = ? AND mode = ? AND session_id IS NULL AND {} AND event_time >= ? AND event_time <= ?"
        events = sorted(self._events(conn, window.format("anonymous_id = ?"), (key, mode, visitor, low, high))
                        + self._events(conn, window.format("anonymous_id IS NULL AND user_id = ?"),
                                       (key, mode, visitor, low, high)),
                        key=lambda event: (event["event_time"], event["id"]))
        if found:
            marks = ", ".join("?" for _ in found)
            conn.execute(f"DELETE FROM visits WHERE key = ? AND mode = ? AND session_id IN ({marks})",
                         (key, mode, *found))
        visits = [summarise(key, mode, derived_id(visitor, part), True, part) for part in split(events)]
        if visits:
            conn.cursor().executemany(_INSERT, [[visit[c] for c in VISIT_COLUMNS] for visit in visits])
        return _hours(key, mode, [*found.values(), *((visit["started_at"], visit["ended_at"]) for visit in visits)])

    @staticmethod
    def _roll_up_hour(conn, key: str, mode: str, hour: str) -> None:
        """Rewrite one site's hour of rollups from the visits that start in it and its page views."""
        start = hour + ":00:00.000Z"
        end = _next_hour(hour) + ":00:00.000Z"
        cursor = conn.execute("SELECT session_id, visitor, pageviews, bounce, duration, ordered, "
                              f"{', '.join(rollups.VISIT_DIMENSIONS[1:])} FROM visits WHERE mode = ? AND "
                              "started_at >= ? AND started_at < ? AND key = ?", (mode, start, end, key))
        names = [d[0] for d in cursor.description]
        visits = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        pages: dict[str, set] = {}
        for session, page in conn.execute(_VISIT_PAGES, [mode, start, end, key] * 3).fetchall():
            pages.setdefault(session, set()).add(page)
        for visit in visits:
            visit["pages"] = pages.get(visit["session_id"], set())
        pageviews = conn.execute("SELECT page_path, coalesce(anonymous_id, user_id) FROM events WHERE "
                                 f"{page_view()} AND mode = ? AND event_time >= ? AND event_time < ? AND key = ? "
                                 "AND bot IS NULL", (mode, start, end, key)).fetchall()
        _write_rollups(conn, key, mode, "hour", hour, rollups.of_hour(visits, pageviews))
        found = tallies.of_hour(lambda sql, params: conn.execute(sql, params).fetchall(), key, mode, start, end)
        conn.execute("DELETE FROM tallies WHERE key = ? AND mode = ? AND grain = 'hour' AND bucket = ?",
                     (key, mode, hour))
        conn.cursor().executemany(_INSERT_TALLY, [(key, mode, "hour", hour, measure, *row)
                                                  for measure, rows in found.items() for row in rows])

    @staticmethod
    def _roll_up_day(conn, key: str, mode: str, day: str) -> None:
        """Rewrite one site's day of rollups from its hours'."""
        rows = conn.execute("SELECT dimension, value, n, pageviews, bounces, duration, orders, visitors FROM rollups "
                            "WHERE key = ? AND mode = ? AND grain = 'hour' AND bucket >= ? AND bucket < ?",
                            (key, mode, day, day + "U")).fetchall()
        _write_rollups(conn, key, mode, "day", day, rollups.add_up(rows))
        conn.execute("DELETE FROM tallies WHERE key = ? AND mode = ? AND grain = 'day' AND bucket = ?",
                     (key, mode, day))
        conn.execute("INSERT INTO tallies (key, mode, grain, bucket, measure, value, detail, item, n, amount, "
                     "first_at, last_at) SELECT key, mode, 'day', ?, measure, value, detail, item, sum(n), "
                     "sum(amount), min(first_at), max(last_at) FROM tallies WHERE key = ? AND mode = ? AND "
                     "grain = 'hour' AND bucket >= ? AND bucket < ? GROUP BY key, mode, measure, value, detail, item",
                     (day, key, mode, day, day + "U"))


def _write_rollups(conn, key: str, mode: str, grain: str, bucket: str, tallies: dict) -> None:
    """Replace one bucket's rollup rows."""
    conn.execute("DELETE FROM rollups WHERE key = ? AND mode = ? AND grain = ? AND bucket = ?",
                 (key, mode, grain, bucket))
    conn.cursor().executemany(_INSERT_ROLLUP, [
        (key, mode, grain, bucket, dimension, value, t.n, t.pageviews, t.bounces, t.duration, t.orders, t.sketch())
        for (dimension, value), t in tallies.items()])


def _order_hours(conn, key: str, mode: str, orders: list[str]) -> set[tuple[str, str, str]]:
    """The hours some orders of a site are completed in, by the browser's events or the backend's records,
    with their site; a few hundred orders a query (an import brings thousands a transaction)."""
    hours = set()
    for start in range(0, len(orders), 500):
        part = orders[start:start + 500]
        marks = ", ".join("?" for _ in part)
        hours.update((key, mode, row[0][:13]) for row in conn.execute(
            f"SELECT DISTINCT substr(event_time, 1, 13) FROM events WHERE type = 'order' AND key = ? AND mode = ? "
            f"AND order_id IN ({marks}) AND subtype = 'completed'", (key, mode, *part)).fetchall())
        for payload, received in conn.execute(
                f"SELECT payload, received_at FROM records WHERE key = ? AND type = 'orders' "
                f"AND record_id IN ({marks}) AND mode = ?", (key, *part, mode)).fetchall():
            document = loaded_payload(payload)
            hours.add((key, mode, (document.get("timestamp") or received)[:13]))
    return hours


def shift(moment: str, seconds: float) -> str:
    """A stored time moved by some seconds, as stored text."""
    return iso(parse(moment) + timedelta(seconds=seconds))


def _next_hour(hour: str) -> str:
    """The hour after an hour bucket ('YYYY-MM-DDTHH')."""
    return (datetime.fromisoformat(hour + ":00") + timedelta(hours=1)).strftime("%Y-%m-%dT%H")


def _hours(key: str, mode: str, spans) -> set[tuple[str, str, str]]:
    """Every hour bucket the (start, end) spans touch, with their site."""
    hours = set()
    for started, ended in spans:
        hour, last = started[:13], ended[:13]
        while hour <= last:
            hours.add((key, mode, hour))
            hour = _next_hour(hour)
    return hours

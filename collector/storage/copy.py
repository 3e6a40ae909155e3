"""`collector copy`: move a store to another backend without loss, as often as needed (idempotent)."""

from __future__ import annotations

from collections.abc import Callable

from . import EVENT_COLUMNS
from . import KEY_COLUMNS
from . import LINE_COLUMNS
from . import REJECTED_COLUMNS
from .sql import _INSERT_EVENT
from .sql import _INSERT_LINE
from .sql import SQLStorage

CHUNK = 1000
_TEXT = ("payload", "errors")  # JSON columns, read as text so either backend can write them


def _select(columns, table: str) -> str:
    """A keyset-paged SELECT of these columns, JSON ones as text."""
    names = ", ".join(f"CAST({c} AS TEXT) AS {c}" if c in _TEXT else c for c in columns)
    return f"SELECT id, {names} FROM {table} WHERE id > ? ORDER BY id LIMIT {CHUNK}"


def _pages(source: SQLStorage, sql: str):
    """Yield the rows of a keyset-paged query, a page at a time."""
    last = 0
    while True:
        rows = source._read(sql, (last,))
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def count(source: SQLStorage) -> int:
    """Rows to copy, for the progress bar."""
    tables = ("keys", "forward_targets", "events", "rejected", "outbox")
    return sum(source._read(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in tables)


def copy_store(source: SQLStorage, dest: SQLStorage, advance: Callable[[int], None]) -> dict[str, int]:
    """Copy keys, targets, events with their lines, rejected rows and the outbox; return rows added.

    Rows already in the destination are skipped (keys by key, events by key and event_id, targets by
    key, kind, url and creation time, rejected rows by key, time and body, outbox rows by target and
    event), so a copy can be run again after more events arrived, or after an interruption.
    """
    dest.migrate()
    added = dict.fromkeys(("keys", "forward_targets", "events", "event_lines", "rejected", "outbox"), 0)
    with dest._transaction() as conn:
        for row in source._read(f"SELECT {', '.join(KEY_COLUMNS)}, store_events FROM keys ORDER BY key"):
            columns = (*KEY_COLUMNS, "store_events")
            added["keys"] += conn.execute(
                f"INSERT INTO keys ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)}) "
                "ON CONFLICT (key) DO NOTHING", [row[c] for c in columns]).rowcount
            advance(1)
        targets = {}
        for row in source._read("SELECT id, key, kind, url, secret, created_at, removed_at FROM forward_targets"):
            found = conn.execute("SELECT id FROM forward_targets WHERE key = ? AND kind = ? AND url = ? "
                                 "AND created_at = ?", (row["key"], row["kind"], row["url"], row["created_at"])
                                 ).fetchone()
            if found is None:
                found = conn.execute(
                    "INSERT INTO forward_targets (key, kind, url, secret, created_at, removed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                    [row[c] for c in ("key", "kind", "url", "secret", "created_at", "removed_at")]).fetchone()
                added["forward_targets"] += 1
            targets[row["id"]] = found[0]
            advance(1)
    for page in _pages(source, _select(EVENT_COLUMNS, "events")):
        with dest._transaction() as conn:
            for row in page:
                inserted = conn.execute(_INSERT_EVENT, [row[c] for c in EVENT_COLUMNS]).fetchone()
                if inserted is not None:
                    added["events"] += 1
                    lines = source._read(f"SELECT {', '.join(LINE_COLUMNS)} FROM event_lines "
                                         "WHERE event_pk = ? ORDER BY line_no", (row["id"],))
                    conn.cursor().executemany(_INSERT_LINE, [
                        [inserted[0], row["key"], row["event_id"]] + [line[c] for c in LINE_COLUMNS]
                        for line in lines])
                    added["event_lines"] += len(lines)
        advance(len(page))
    for page in _pages(source, _select(REJECTED_COLUMNS, "rejected")):
        with dest._transaction() as conn:
            for row in page:
                if conn.execute("SELECT 1 FROM rejected WHERE key = ? AND received_at = ? AND raw_bytes = ? "
                                "AND raw = ?", (row["key"], row["received_at"], row["raw_bytes"], row["raw"])
                                ).fetchone():
                    continue
                conn.execute(f"INSERT INTO rejected ({', '.join(REJECTED_COLUMNS)}) "
                             f"VALUES ({', '.join('?' for _ in REJECTED_COLUMNS)})", [row[c] for c in REJECTED_COLUMNS])
                added["rejected"] += 1
        advance(len(page))
    outbox = ("target_id", "key", "event_id", "source", "payload", "state", "attempts", "next_attempt_at",
              "created_at", "delivered_at", "last_status", "last_error")
    for page in _pages(source, f"SELECT id, {', '.join(outbox)} FROM outbox WHERE id > ? ORDER BY id LIMIT {CHUNK}"):
        with dest._transaction() as conn:
            for row in page:
                # Leases are not copied: a row held by a forwarder of the old store is simply due again.
                values = [targets[row["target_id"]]] + [row[c] for c in outbox[1:]]
                added["outbox"] += conn.execute(
                    f"INSERT INTO outbox ({', '.join(outbox)}) VALUES ({', '.join('?' for _ in outbox)}) "
                    "ON CONFLICT (target_id, key, event_id) DO NOTHING", values).rowcount
        advance(len(page))
    return added

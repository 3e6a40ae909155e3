"""SQLite backend: WAL, synchronous commits, BEGIN IMMEDIATE writes, numbered migrations."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from importlib import resources
from urllib.parse import quote

from . import EVENT_COLUMNS
from . import KEY_COLUMNS
from . import LINE_COLUMNS
from . import REJECTED_COLUMNS
from . import QueryError
from . import StorageError
from .sqlite_outbox import OutboxMixin
from .sqlite_outbox import write_outbox

_INSERT_EVENT = (
    f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' for _ in EVENT_COLUMNS)}) "
    "ON CONFLICT (key, event_id) DO NOTHING RETURNING id"
)
_INSERT_LINE = (
    f"INSERT INTO event_lines (event_pk, key, event_id, {', '.join(LINE_COLUMNS)}) "
    f"VALUES (?, ?, ?, {', '.join('?' for _ in LINE_COLUMNS)})"
)
_INSERT_REJECTED = (
    f"INSERT INTO rejected ({', '.join(REJECTED_COLUMNS)}) VALUES ({', '.join('?' for _ in REJECTED_COLUMNS)})"
)


def _statements(script: str):
    """Split a migration into statements (sqlite3 runs one per execute inside a transaction)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip():
        yield pending


@contextmanager
def _unavailable_as_storage_error():
    """Turn "cannot use the database now" errors into StorageError (503); let bugs stay bugs (500).

    OperationalError covers locked, busy, read-only, disk full and cannot open; a bare DatabaseError
    is a file that is not (or no longer) a database. Binding or integrity errors are our own mistakes.
    """
    try:
        yield
    except sqlite3.Error as exc:
        if isinstance(exc, sqlite3.OperationalError) or type(exc) is sqlite3.DatabaseError:
            raise StorageError(f"database unavailable: {exc}") from exc
        raise


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back, ignoring a connection too broken to do it: nothing was committed either way."""
    try:
        conn.rollback()
    except sqlite3.Error:
        pass


def migrations() -> list[tuple[int, str, str]]:
    """Return (version, name, sql) for each packaged SQLite migration, in order."""
    folder = resources.files("collector.storage") / "migrations" / "sqlite"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text()))
    return sorted(found)


class SQLiteStorage(OutboxMixin):
    """Events in one SQLite file, safe for several gunicorn workers writing at once."""

    def __init__(self, path: str, synchronous: str = "FULL", busy_timeout_ms: int = 5000):
        """Remember where and how to connect; nothing is opened until first use."""
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout_ms / 1000
        self._migrated = False
        self._lock = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        """Open a connection for one unit of work.

        A fresh connection per unit notices a file made read-only or a disk freed again, so the
        collector recovers without a restart.
        """
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    @contextmanager
    def _connection(self):
        """Yield a fresh connection, closed afterwards; unavailability becomes StorageError."""
        with _unavailable_as_storage_error():
            conn = self._connect()
            try:
                yield conn
            finally:
                conn.close()

    @contextmanager
    def _transaction(self):
        """Yield a connection inside BEGIN IMMEDIATE; commit, or roll back and re-raise."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    def migrate(self) -> list[str]:
        """Apply pending migrations, each with its bookkeeping row in one transaction."""
        applied = []
        with self._connection() as conn:
            # WAL can only be switched on outside a transaction; it persists in the file.
            conn.execute("PRAGMA journal_mode=WAL")
        for version, name, sql in migrations():
            with self._transaction() as conn:
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                             "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                if conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                    continue
                for statement in _statements(sql):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                             (version, name, datetime.now(UTC).isoformat()))
                applied.append(name)
        self._migrated = True
        return applied

    def ensure_migrated(self) -> None:
        """Migrate once per process, on first use."""
        if not self._migrated:
            with self._lock:
                if not self._migrated:
                    self.migrate()

    def ping(self) -> None:
        """Check the file opens, is migrated and answers a read."""
        self.ensure_migrated()
        with self._connection() as conn:
            conn.execute("SELECT count(*) FROM schema_migrations").fetchone()

    def write(self, events: list[dict], rejected: list[dict]) -> list[dict | None]:
        """Store events, their lines, their outbox rows and rejected rows atomically; report duplicates."""
        self.ensure_migrated()
        outcomes: list[dict | None] = []
        now = time.time()
        with self._transaction() as conn:
            store, targets = self.targets_for(conn, events[0]["key"]) if events else (True, [])
            for event in events:
                earlier = self._store_event(conn, event) if store else None
                if earlier is None:
                    added = write_outbox(conn, event["key"], event, targets, now)
                    if not store and not added:
                        earlier = self._relayed_before(conn, event)
                outcomes.append(earlier)
            conn.executemany(_INSERT_REJECTED, [[row[c] for c in REJECTED_COLUMNS] for row in rejected])
        return outcomes

    def _store_event(self, conn, event: dict) -> dict | None:
        """Insert an event and its lines; return the earlier row when (key, event_id) is taken."""
        inserted = conn.execute(_INSERT_EVENT, [event[c] for c in EVENT_COLUMNS]).fetchone()
        if inserted is None:
            earlier = conn.execute("SELECT payload, received_at FROM events WHERE key = ? AND event_id = ?",
                                   (event["key"], event["event_id"])).fetchone()
            return {"payload": earlier[0], "received_at": earlier[1]}
        conn.executemany(_INSERT_LINE, [
            [inserted[0], event["key"], event["event_id"]] + [line[c] for c in LINE_COLUMNS]
            for line in event.get("lines", ())
        ])
        return None

    def _relayed_before(self, conn, event: dict) -> dict | None:
        """For a key that only relays: the earlier outbox copy of this event, if there is one."""
        row = conn.execute("SELECT payload FROM outbox WHERE key = ? AND event_id = ? LIMIT 1",
                           (event["key"], event["event_id"])).fetchone()
        if row is None:
            return None
        earlier = json.loads(row[0])
        return {"payload": json.dumps(earlier["data"]), "received_at": earlier["received_at"]}

    def _read(self, sql: str, params=()) -> list[sqlite3.Row]:
        """Run a read and return its rows as sqlite3.Row."""
        self.ensure_migrated()
        with self._connection() as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, params).fetchall()

    def get_key(self, key: str) -> dict | None:
        """Return a key's row, or None."""
        rows = self._read(f"SELECT {', '.join(KEY_COLUMNS)} FROM keys WHERE key = ?", (key,))
        return dict(rows[0]) if rows else None

    def add_key(self, row: dict) -> None:
        """Insert a key row."""
        self.ensure_migrated()
        with self._transaction() as conn:
            conn.execute(f"INSERT INTO keys ({', '.join(KEY_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
                         [row[c] for c in KEY_COLUMNS])

    def list_keys(self) -> list[dict]:
        """Return every key row, oldest first."""
        return [dict(r) for r in self._read(
            f"SELECT {', '.join(KEY_COLUMNS)} FROM keys ORDER BY created_at, key")]

    def revoke_key(self, key: str, at: str) -> bool:
        """Mark a key revoked; return False when there is no such active key."""
        self.ensure_migrated()
        with self._transaction() as conn:
            cur = conn.execute("UPDATE keys SET revoked_at = ? WHERE key = ? AND revoked_at IS NULL", (at, key))
            return cur.rowcount == 1

    def recent(self, key: str, limit: int) -> list[dict]:
        """Return a key's latest events, newest first."""
        return [dict(r) for r in self._read(
            "SELECT event_id, source, type, subtype, interaction_type, item_type, product_id, banner_id, order_id, "
            "term, revenue, currency, event_time FROM events WHERE key = ? ORDER BY id DESC LIMIT ?", (key, limit))]

    def query(self, sql: str) -> tuple[list[str], list[tuple]]:
        """Run one statement on a read-only connection; writing fails with QueryError."""
        self.ensure_migrated()
        with _unavailable_as_storage_error():
            conn = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=self.busy_timeout)
        try:
            conn.execute("PRAGMA query_only=ON")
            cur = conn.execute(sql)
            columns = [d[0] for d in cur.description or ()]
            return columns, cur.fetchall()
        except sqlite3.Error as exc:
            if "readonly" in str(exc) or "read-only" in str(exc) or "query_only" in str(exc):
                raise QueryError(f"collector query is read-only; this statement writes ({exc}).") from exc
            raise QueryError(str(exc)) from exc
        finally:
            conn.close()

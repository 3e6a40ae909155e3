"""What every SQL backend shares: ingest writes with dedupe and outbox rows, keys, reads."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC
from datetime import datetime
from importlib import resources

from . import EVENT_COLUMNS
from . import KEY_COLUMNS
from . import LINE_COLUMNS
from . import REJECTED_COLUMNS
from .group import GroupCommit
from .outbox import OutboxMixin
from .outbox import write_outbox
from .privacy import PrivacyMixin
from .tokens import TokensMixin

#: Most key rows and target lists one worker keeps (see _cached).
_CACHE_MAX = 10_000
#: Events per multi-row INSERT: 35 columns x 200 rows stays under both backends' parameter limits.
_CHUNK = 200
_ROW = f"({', '.join('?' for _ in EVENT_COLUMNS)})"
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




def migrations(backend: str) -> list[tuple[int, str, str]]:
    """Return (version, name, sql) for each packaged migration of a backend, in order."""
    folder = resources.files("collector.storage") / "migrations" / backend
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text()))
    return sorted(found)


class SQLStorage(OutboxMixin, TokensMixin, PrivacyMixin):
    """The storage logic; subclasses supply connections, transactions, migrations and read-only queries.

    SQL here uses `?` placeholders; the PostgreSQL backend's connections translate them.
    """

    def __init__(self):
        """Start unmigrated; the first use migrates."""
        self._migrated = False
        self._lock = threading.Lock()
        self._group = GroupCommit(self._write_group)
        self._settings: dict[tuple[str, str], tuple[float, object]] = {}

    #: The folder of this backend's migrations.
    backend = ""

    def close(self) -> None:
        """Release what the backend holds open between units of work (nothing, by default)."""

    def _prepare(self) -> None:
        """Whatever must happen outside a transaction before migrating (nothing, by default)."""

    def _run_script(self, conn, sql: str) -> None:
        """Run one migration file inside the migration's transaction."""
        raise NotImplementedError

    def migrate(self) -> list[str]:
        """Apply pending migrations, each with its bookkeeping row in one transaction."""
        self._prepare()
        applied = []
        for version, name, sql in migrations(self.backend):
            with self._transaction() as conn:
                self._lock_migrations(conn)
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                             "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                if conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                    continue
                self._run_script(conn, sql)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                             (version, name, datetime.now(UTC).isoformat()))
                applied.append(name)
        self._migrated = True
        return applied

    def _lock_migrations(self, conn) -> None:
        """Keep other processes from migrating at the same time (SQLite's BEGIN IMMEDIATE already does)."""

    def ping(self) -> None:
        """Check the store answers and is migrated."""
        self.ensure_migrated()
        with self._connection() as conn:
            conn.execute("SELECT count(*) FROM schema_migrations").fetchone()

    def ensure_migrated(self) -> None:
        """Migrate once per process, on first use."""
        if not self._migrated:
            with self._lock:
                if not self._migrated:
                    self.migrate()

    def write(self, events: list[dict], rejected: list[dict]) -> list[dict | None]:
        """Store events, their lines, their outbox rows and rejected rows atomically; report duplicates.

        Concurrent calls share a transaction (group commit); each returns only once its rows are committed.
        """
        if not events and not rejected:  # a refusal kept nowhere (a forgotten visitor): no transaction to sync
            return []
        self.ensure_migrated()
        return self._group.submit((events, rejected))

    def _write_group(self, works: list[tuple[list[dict], list[dict]]]) -> list[list[dict | None]]:
        """Write several requests' (events, rejected) in one transaction, in order; their outcomes."""
        now = time.time()
        with self._transaction() as conn:
            return [self._write_one(conn, events, rejected, now) for events, rejected in works]

    def _write_one(self, conn, events: list[dict], rejected: list[dict], now: float) -> list[dict | None]:
        """One request's rows inside the group's transaction."""
        store, targets = self.targets_for(conn, events[0]["key"]) if events else (True, [])
        if store:
            outcomes = self._store_events(conn, events)
            new = [event for event, earlier in zip(events, outcomes, strict=True) if earlier is None]
            write_outbox(conn, new, targets, now)
        else:
            # Relay only: the outbox alone tells a repeated event id.
            outcomes = [None if write_outbox(conn, [event], targets, now) else self._relayed_before(conn, event)
                        for event in events]
        if rejected:
            conn.cursor().executemany(_INSERT_REJECTED, [[row[c] for c in REJECTED_COLUMNS] for row in rejected])
        return outcomes

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
                pk = pks.pop()
                lines.extend([pk, event["key"], event["event_id"]] + [line[c] for c in LINE_COLUMNS]
                             for line in event.get("lines", ()))
                outcomes.append(None)
                continue
            earlier = conn.execute(
                "SELECT CAST(payload AS TEXT), received_at, source FROM events WHERE key = ? AND event_id = ?",
                (event["key"], event["event_id"])).fetchone()
            outcomes.append({"payload": earlier[0], "received_at": earlier[1], "source": earlier[2]})
        if lines:
            conn.cursor().executemany(_INSERT_LINE, lines)
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

    def _read(self, sql: str, params=()) -> list[dict]:
        """Run a read and return its rows as dicts."""
        self.ensure_migrated()
        with self._connection() as conn:
            cursor = conn.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    #: How long a worker trusts key rows and forward targets it read (open_storage sets it from
    #: KEY_CACHE_SECONDS): reading them for every request cost as much as storing the event.
    key_cache_seconds = 0.0

    def _cached(self, kind: str, key: str, load):
        """load() for (kind, key), kept for key_cache_seconds; unknown keys are kept too."""
        entry = self._settings.get((kind, key))
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        value = load()
        if self.key_cache_seconds > 0:
            if len(self._settings) >= _CACHE_MAX:  # random keys from a flood must not grow it without end
                self._settings.clear()
            self._settings[(kind, key)] = (time.monotonic() + self.key_cache_seconds, value)
        return value

    def _forget(self) -> None:
        """Drop cached key rows and targets after this process changed them."""
        self._settings.clear()

    def get_key(self, key: str) -> dict | None:
        """Return a key's row, or None."""
        def load():
            rows = self._read(f"SELECT {', '.join(KEY_COLUMNS)} FROM keys WHERE key = ?", (key,))
            return rows[0] if rows else None
        return self._cached("key", key, load)

    def add_key(self, row: dict) -> None:
        """Insert a key row."""
        self.ensure_migrated()
        with self._transaction() as conn:
            conn.execute(f"INSERT INTO keys ({', '.join(KEY_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
                         [row[c] for c in KEY_COLUMNS])
        self._forget()

    def list_keys(self) -> list[dict]:
        """Return every key row, oldest first."""
        return self._read(f"SELECT {', '.join(KEY_COLUMNS)} FROM keys ORDER BY created_at, key")

    def revoke_key(self, key: str, at: str) -> bool:
        """Mark a key revoked; return False when there is no such active key."""
        self.ensure_migrated()
        with self._transaction() as conn:
            revoked = conn.execute("UPDATE keys SET revoked_at = ? WHERE key = ? AND revoked_at IS NULL",
                                   (at, key)).rowcount == 1
        self._forget()
        return revoked

    def recent(self, key: str, limit: int) -> list[dict]:
        """Return a key's latest events, newest first."""
        return self._read(
            "SELECT event_id, source, type, subtype, interaction_type, item_type, product_id, banner_id, order_id, "
            "term, revenue, currency, event_time FROM events WHERE key = ? ORDER BY id DESC LIMIT ?", (key, limit))


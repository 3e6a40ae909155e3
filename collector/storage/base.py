"""The core every SQL backend shares: migrations, reads, and the per-worker cache of key rows.

The concern mixins (ingest, keys, outbox, tokens, privacy, transfer) build on this class; a backend
(sqlite.py, postgres.py) supplies connections, transactions, read-only queries and its dialect.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextlib import contextmanager
from datetime import UTC
from datetime import datetime
from importlib import resources

from ..errors import ConfigError
from .dialect import Dialect

#: Most key rows and target lists one worker keeps (see _cached).
_CACHE_MAX = 10_000

#: Whether a forward target of this kind takes this event (the forward target registry says; the
#: app factory hands it to storage, so that storage does not depend on forwarding).
Wants = Callable[[str, dict], bool]


def wants_everything(kind: str, event: dict) -> bool:
    """The filter of a store opened without the forward target registry: every target takes every event."""
    return True


def migrations(backend: str) -> list[tuple[int, str, str]]:
    """Return (version, name, sql) for each packaged migration of a backend, in order."""
    folder = resources.files("collector.storage") / "migrations" / backend
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text()))
    return sorted(found)


class SQLBase:
    """Migrations, reads and caching over a backend's connections."""

    #: How this backend spells what differs (set by each backend).
    dialect: Dialect

    #: How long a worker trusts key rows and forward targets it read (open_storage sets it from
    #: KEY_CACHE_SECONDS): reading them for every request cost as much as storing the event.
    key_cache_seconds = 0.0

    #: Whether the first use may create and migrate the store, as the server does. The CLI leaves that to
    #: `collector migrate`: a command run in the wrong directory must not leave an empty store there.
    creates_store = True

    def __init__(self, wants: Wants = wants_everything):
        """Start unmigrated; the first use migrates."""
        self.wants = wants
        self._migrated = False
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], tuple[float, object]] = {}

    # What a backend provides.

    def _connection(self) -> AbstractContextManager:
        """Yield a connection in autocommit; unavailability becomes StorageError."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager:
        """Yield a connection inside a write transaction: committed on success, rolled back on error."""
        raise NotImplementedError

    def _migration(self, sql: str) -> AbstractContextManager:
        """The transaction one migration runs in (a backend may need more around it)."""
        return self._transaction()

    def _run_script(self, conn, sql: str) -> None:
        """Run one migration file inside the migration's transaction."""
        raise NotImplementedError

    def _prepare(self) -> None:
        """Whatever must happen outside a transaction before migrating (nothing, by default)."""

    def _after_migrations(self) -> None:
        """Whatever must follow every migrate (nothing, by default; PostgreSQL grants the reader role)."""

    def close(self) -> None:
        """Release what the backend holds open between units of work (nothing, by default)."""

    def is_set_up(self) -> bool:
        """Whether the store exists and `migrate` has run on it, found without creating anything."""
        raise NotImplementedError

    def location(self) -> str:
        """Where the store is, as a person would look for it (never with a password)."""
        raise NotImplementedError

    # Migrations and health.

    def migrate(self) -> list[str]:
        """Apply pending migrations, each with its bookkeeping row in one transaction; return their names."""
        self._prepare()
        applied = []
        for version, name, sql in migrations(self.dialect.name):
            with self._migration(sql) as conn:
                if self.dialect.migration_lock:
                    conn.execute(self.dialect.migration_lock)
                conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                             "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
                if conn.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)).fetchone():
                    continue
                self._run_script(conn, sql)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                             (version, name, datetime.now(UTC).isoformat()))
                applied.append(name)
        self._after_migrations()
        self._migrated = True
        return applied

    def ensure_migrated(self) -> None:
        """Migrate once per process, on first use; where the store may not be created here
        (`creates_store`), a store that was never set up is a ConfigError naming where it was looked for."""
        if not self._migrated:
            with self._lock:
                if not self._migrated:
                    if not self.creates_store and not self.is_set_up():
                        raise ConfigError(f"There is no store at {self.location()}: `collector migrate` creates "
                                          "one, or set COLLECTOR_DATABASE_URL to the store you meant.")
                    self.migrate()

    def ping(self) -> None:
        """Raise StorageError unless the store answers and is migrated."""
        self.ensure_migrated()
        with self._connection() as conn:
            conn.execute("SELECT count(*) FROM schema_migrations").fetchone()

    # Helpers for the concern mixins.

    def shared_transaction(self) -> AbstractContextManager:
        """A write transaction on this database for the analytics tables kept in it (visits, rollups,
        tallies: collector/analytics/refresh.py), which share its connections."""
        self.ensure_migrated()
        return self._transaction()

    def shared_read(self, sql: str, params=()) -> list[dict]:
        """A read of this database for the analytics tables kept in it, rows as dicts."""
        return self._read(sql, params)

    @contextmanager
    def shared_connection(self):
        """A connection outside any transaction for the reads of a pass over the analytics or
        recommendation tables (each statement sees what is committed)."""
        self.ensure_migrated()
        with self._connection() as conn:
            yield conn

    @contextmanager
    def shared_reads(self) -> Iterator[Callable[..., list[dict]]]:
        """A `read(sql, params)` for several reads over one connection (an answer's dozen small reads
        would otherwise each take one), rows as dicts."""
        self.ensure_migrated()
        with self._connection() as conn:
            yield lambda sql, params=(): _rows(conn.execute(sql, params))

    def _read(self, sql: str, params=()) -> list[dict]:
        """Run a read and return its rows as dicts."""
        self.ensure_migrated()
        with self._connection() as conn:
            return _rows(conn.execute(sql, params))

    def _change(self, sql: str, params=()) -> int:
        """Run one write in its own transaction; return the rows it touched."""
        self.ensure_migrated()
        with self._transaction() as conn:
            return conn.execute(sql, params).rowcount

    def _cached(self, kind: str, key: str, load):
        """load() for (kind, key), kept for key_cache_seconds; unknown keys are kept too."""
        entry = self._cache.get((kind, key))
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        value = load()
        if self.key_cache_seconds > 0:
            if len(self._cache) >= _CACHE_MAX:  # random keys from a flood must not grow it without end
                self._cache.clear()
            self._cache[(kind, key)] = (time.monotonic() + self.key_cache_seconds, value)
        return value

    def _forget_cached(self) -> None:
        """Drop cached key rows and targets after this process changed them."""
        self._cache.clear()


def _rows(cursor) -> list[dict]:
    """A cursor's rows as dicts by column name."""
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

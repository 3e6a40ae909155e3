"""SQLite backend: WAL, synchronous commits, BEGIN IMMEDIATE writes, numbered migrations."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from urllib.parse import quote

from . import QueryError
from . import StorageError
from .sql import SQLStorage


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


class SQLiteStorage(SQLStorage):
    """Events in one SQLite file, safe for several gunicorn workers writing at once."""

    backend = "sqlite"

    def __init__(self, path: str, synchronous: str = "FULL", busy_timeout_ms: int = 5000):
        """Remember where and how to connect; nothing is opened until first use."""
        super().__init__()
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout_ms / 1000

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

    def _prepare(self) -> None:
        """Switch on WAL: it can only be done outside a transaction, and it persists in the file."""
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")

    def _run_script(self, conn, sql: str) -> None:
        """Run a migration statement by statement (sqlite3 takes one per execute in a transaction)."""
        for statement in _statements(sql):
            conn.execute(statement)

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one statement (`?` placeholders) on a read-only connection; writing fails with QueryError."""
        self.ensure_migrated()
        with _unavailable_as_storage_error():
            conn = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=self.busy_timeout)
        try:
            conn.execute("PRAGMA query_only=ON")
            # Sorting and DISTINCT in memory rather than a temporary file: the funnel report runs a
            # third faster over a million events, for a few tens of MB held only during the query.
            conn.execute("PRAGMA temp_store=MEMORY")
            cur = conn.execute(sql, params or ())
            columns = [d[0] for d in cur.description or ()]
            return columns, cur.fetchall()
        except sqlite3.Error as exc:
            if "readonly" in str(exc) or "read-only" in str(exc) or "query_only" in str(exc):
                raise QueryError(f"collector query is read-only; this statement writes ({exc}).") from exc
            raise QueryError(str(exc)) from exc
        finally:
            conn.close()

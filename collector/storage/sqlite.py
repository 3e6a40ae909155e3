"""SQLite backend: WAL, synchronous commits, BEGIN IMMEDIATE writes, numbered migrations."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from urllib.parse import quote

from ..errors import QueryError
from ..errors import StorageError
from .checkpoints import BACKSTOP_PAGES
from .checkpoints import JOURNAL_SIZE_LIMIT
from .checkpoints import Checkpointer
from .dialect import SQLITE
from .private import REFUSED
from .private import sqlite_authorizer
from .sql import SQLStorage
from .uploads import FileUploads

#: The first line of a migration that rebuilds a table (SQLite cannot drop a constraint or a column
#: in place): it runs with foreign keys off, and is checked for broken references before it commits.
REBUILD_MARK = "-- collector: rebuilds tables"


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


class SQLiteStorage(FileUploads, SQLStorage):
    """Events in one SQLite file, safe for several gunicorn workers writing at once; uploads beside it."""

    dialect = SQLITE

    def __init__(self, path: str, synchronous: str = "FULL", busy_timeout_ms: int = 5000, **kwargs):
        """Remember where and how to connect; nothing is opened until first use."""
        super().__init__(**kwargs)
        self.path = path
        self.synchronous = synchronous
        self.busy_timeout = busy_timeout_ms / 1000
        self._local = threading.local()
        self._open: set[sqlite3.Connection] = set()
        self._open_lock = threading.Lock()
        self.checkpointer = Checkpointer(self._checkpoint_connection)

    def _checkpoint_connection(self) -> sqlite3.Connection:
        """A connection for the checkpoint thread, syncing as the collector's do; the caller closes it."""
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        conn.execute(f"PRAGMA synchronous={self.synchronous}")
        return conn

    def _connect(self) -> sqlite3.Connection:
        """Open a connection with the collector's pragmas (checkpoints are the checkpoint thread's)."""
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            # The log restarts from its beginning after a full checkpoint, but its file keeps the size a
            # burst of writes gave it unless told to shrink back.
            conn.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
        except BaseException:
            conn.close()
            raise
        with self._open_lock:
            self._open.add(conn)
        return conn

    def _file_id(self) -> tuple[int, int] | None:
        """The database file's identity (device, inode), or None when it is not there."""
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _discard(self, conn: sqlite3.Connection) -> None:
        """Close a connection and forget it, so this thread's next unit of work opens a new one."""
        with self._open_lock:
            self._open.discard(conn)
        conn.close()
        if getattr(self._local, "conn", None) is conn:
            self._local.conn = None

    @contextmanager
    def _connection(self):
        """Yield this thread's connection, opened on first use and kept: opening one per unit of work
        cost more than the work itself. Unavailability becomes StorageError.

        A unit of work that fails closes the connection, and a database file replaced since it was
        opened is reopened, so the collector still notices a file made read-only, a disk freed again
        or a restored backup without a restart.
        """
        with _unavailable_as_storage_error():
            conn, file_id = getattr(self._local, "conn", None), self._file_id()
            if conn is not None and (self._local.pid != os.getpid() or self._local.file_id != file_id):
                self._discard(conn)
                conn = None
            if conn is None:
                conn = self._connect()
                self._local.conn, self._local.pid, self._local.file_id = conn, os.getpid(), self._file_id()
            try:
                yield conn
            except BaseException:
                self._discard(conn)
                raise

    def backup(self, path: str) -> int:
        """Copy the database, consistent as of one moment, to a new file at `path` (SQLite's online backup
        API, in one step: a read transaction, which in WAL mode never blocks the writers), synced, with the
        uploads of unfinished import jobs beside it (`path-uploads`); return the database's bytes.

        Written to `path.part` and renamed, so `path` is either absent or whole.
        """
        self.ensure_migrated()
        part = f"{path}.part"
        with _unavailable_as_storage_error():
            source = sqlite3.connect(self.path, timeout=self.busy_timeout)
            target = sqlite3.connect(part)
            try:
                source.backup(target)  # pages=-1: the whole file within one read transaction
                target.execute("PRAGMA journal_mode=DELETE")  # a single file, whatever the source's mode
            finally:
                target.close()
                source.close()
        with open(part, "rb") as copied:
            os.fsync(copied.fileno())
        os.replace(part, path)
        if self.uploads_folder.is_dir():
            shutil.copytree(self.uploads_folder, f"{path}-uploads", dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.part"))
        return os.path.getsize(path)

    def is_set_up(self) -> bool:
        """Whether the file exists and holds the migrations' table (read-only: nothing is created)."""
        if not os.path.isfile(self.path):
            return False
        with _unavailable_as_storage_error():
            conn = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=self.busy_timeout)
            try:
                return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                    "AND name = 'schema_migrations'").fetchone() is not None
            finally:
                conn.close()

    def location(self) -> str:
        """The database file's absolute path."""
        return os.path.abspath(self.path)

    def close(self) -> None:
        """Close every connection this storage opened, in any thread, and end its checkpoint thread."""
        self.checkpointer.stop()
        with self._open_lock:
            conns, self._open = self._open, set()
        for conn in conns:
            conn.close()
        self._local = threading.local()

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
        self.checkpointer.committed()

    @contextmanager
    def _migration(self, sql: str):
        """A migration's transaction; one that rebuilds tables runs with foreign keys off, as SQLite's
        ALTER TABLE documentation prescribes, and must leave no reference broken."""
        if not sql.startswith(REBUILD_MARK):
            with self._transaction() as conn:
                yield conn
            return
        with self._connection() as conn:
            conn.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction: set before BEGIN
            try:
                with self._transaction() as conn:
                    yield conn
                    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise StorageError(f"migration left {len(broken)} broken references: {broken[:3]}")
            finally:
                with suppress(sqlite3.Error):  # a connection the failure closed is not reused anyway
                    conn.execute("PRAGMA foreign_keys=ON")

    def _prepare(self) -> None:
        """Switch on WAL: it can only be done outside a transaction, and it persists in the file."""
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")

    def _run_script(self, conn, sql: str) -> None:
        """Run a migration statement by statement (sqlite3 takes one per execute in a transaction)."""
        for statement in _statements(sql):
            if " ".join(statement.split()).rstrip(";").upper() == "PRAGMA WRITABLE_SCHEMA = OFF":
                # A table's text edited in sqlite_master is reread only by connections that see the schema
                # version move (SQLite's ALTER TABLE documentation, "other kinds of table schema changes").
                version = conn.execute("PRAGMA schema_version").fetchone()[0]
                conn.execute(f"PRAGMA schema_version = {int(version) + 1}")
            conn.execute(statement)

    @contextmanager
    def _reading(self, sql: str, params):
        """A cursor over one statement (`?` placeholders) on a read-only connection, closed afterwards;
        writing or reading a secret fails with QueryError."""
        self.ensure_migrated()
        with _unavailable_as_storage_error():
            conn = sqlite3.connect(f"file:{quote(self.path)}?mode=ro", uri=True, timeout=self.busy_timeout)
        try:
            conn.execute("PRAGMA query_only=ON")
            # Sorting and DISTINCT in memory rather than a temporary file: the funnel report runs a
            # third faster over a million events, for a few tens of MB held only during the query.
            conn.execute("PRAGMA temp_store=MEMORY")
            conn.set_authorizer(sqlite_authorizer)
            try:
                yield conn.execute(sql, params or ())
            except sqlite3.Error as exc:
                if "not authorized" in str(exc) or "prohibited" in str(exc):
                    raise QueryError(f"{exc}: {REFUSED}.") from exc
                if "readonly" in str(exc) or "read-only" in str(exc) or "query_only" in str(exc):
                    raise QueryError(f"collector query is read-only; this statement writes ({exc}).") from exc
                raise QueryError(str(exc)) from exc
        finally:
            conn.close()

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one statement (`?` placeholders) on a read-only connection; writing fails with QueryError."""
        with self._reading(sql, params) as cursor:
            return [d[0] for d in cursor.description or ()], cursor.fetchall()

    def query_stream(self, sql: str, params=None, size: int = 10_000) -> Iterator[tuple]:
        """The rows of one read-only statement, read `size` at a time (a funnel's millions of events)."""
        with self._reading(sql, params) as cursor:
            while rows := cursor.fetchmany(size):
                yield from rows

"""PostgreSQL backend (psycopg 3 with its connection pool): for several collector nodes over one database."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import psycopg
import psycopg_pool

from ..errors import QueryError
from ..errors import StorageError
from .dialect import POSTGRES
from .private import READER_ROLE
from .private import REFUSED
from .private import postgres_grants
from .sql import SQLStorage
from .uploads import DatabaseUploads

#: Errors that mean "the database cannot be used just now": answered 503, never 500.
_UNAVAILABLE = (psycopg.OperationalError, psycopg.InterfaceError, psycopg_pool.PoolTimeout,
                psycopg.errors.ReadOnlySqlTransaction)


class _Translated:
    """A psycopg connection that takes the `?` placeholders the shared SQL is written with (the dialect
    translates them)."""

    def __init__(self, conn: psycopg.Connection):
        """Wrap a connection."""
        self.conn = conn

    def execute(self, sql: str, params=()):
        """Run one statement with `?` placeholders."""
        return self.conn.execute(POSTGRES.sql(sql), params)

    def cursor(self):
        """A cursor whose executemany takes `?` placeholders."""
        return _TranslatedCursor(self.conn.cursor())


class _TranslatedCursor:
    """The executemany half of _Translated."""

    def __init__(self, cursor):
        """Wrap a cursor."""
        self.cursor = cursor

    def executemany(self, sql: str, rows):
        """Run one statement for each row (psycopg pipelines them)."""
        rows = list(rows)
        if rows:
            self.cursor.executemany(POSTGRES.sql(sql), rows)


@contextmanager
def _unavailable_as_storage_error():
    """Turn unavailability into StorageError (503); other database errors stay bugs (500)."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise StorageError(f"database unavailable: {exc}") from exc


def url_without_password(url: str) -> str:
    """A database URL with its password left out (it is never printed)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}@{host}").geturl()


class PostgresStorage(DatabaseUploads, SQLStorage):
    """Events in PostgreSQL; every collector node and worker can share one database, uploads included."""

    dialect = POSTGRES

    def __init__(self, url: str, timeout_ms: int = 5000, pool_size: int = 4, **kwargs):
        """Remember where to connect; the pool opens on first use, after gunicorn has forked."""
        super().__init__(**kwargs)
        self.url = url
        self.timeout = timeout_ms / 1000
        self.pool_size = pool_size
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._pool_pid = None
        self._pool_lock = threading.Lock()

    def _get_pool(self) -> psycopg_pool.ConnectionPool:
        """This process's pool (a forked worker must not use its parent's connections)."""
        if self._pool is None or self._pool_pid != os.getpid():
            with self._pool_lock:
                if self._pool is None or self._pool_pid != os.getpid():
                    # check_connection drops connections a restarted server closed, so recovery needs no restart.
                    self._pool = psycopg_pool.ConnectionPool(
                        self.url, min_size=1, max_size=self.pool_size, open=False, timeout=self.timeout,
                        check=psycopg_pool.ConnectionPool.check_connection,
                        kwargs={"autocommit": True, "connect_timeout": max(1, int(self.timeout))})
                    self._pool.open(wait=False)
                    self._pool_pid = os.getpid()
        return self._pool

    def is_set_up(self) -> bool:
        """Whether the database holds the migrations' table."""
        with self._connection() as conn:
            return conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]

    def location(self) -> str:
        """The database's URL, its password left out."""
        return url_without_password(self.url)

    @contextmanager
    def _connection(self):
        """Yield a pooled connection (autocommit) that takes `?` placeholders."""
        with _unavailable_as_storage_error(), self._get_pool().connection() as conn:
            yield _Translated(conn)

    @contextmanager
    def _transaction(self):
        """Yield a connection inside a transaction: committed on success, rolled back on error."""
        with _unavailable_as_storage_error(), self._get_pool().connection() as conn, conn.transaction():
            yield _Translated(conn)

    def _run_script(self, conn, sql: str) -> None:
        """Run a whole migration file: psycopg runs several statements when given no parameters."""
        conn.conn.execute(sql)

    def _after_migrations(self) -> None:
        """Let the reader role read every table and view but the secrets; make the role when allowed.

        Run after every migrate, so that tables a migration adds are readable and a role an operator
        made later (when the database user may not create roles) gets its grants at the next start.
        """
        with self._transaction() as conn:
            conn.execute(self.dialect.migration_lock)
            conn.execute(f"""DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
                    CREATE ROLE {READER_ROLE} NOLOGIN;
                END IF;
                GRANT {READER_ROLE} TO CURRENT_USER;
            EXCEPTION WHEN insufficient_privilege OR duplicate_object OR unique_violation THEN NULL;
            END $$""")
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = ?", (READER_ROLE,)).fetchone():
                return
            schema = conn.execute("SELECT current_schema()").fetchone()[0]
            columns: dict[str, list[str]] = {}
            for table, column in conn.execute(
                    "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = ? "
                    "ORDER BY table_name, ordinal_position", (schema,)).fetchall():
                columns.setdefault(table, []).append(column)
            for statement in postgres_grants(schema, sorted(columns.items())):
                conn.execute(statement)

    @contextmanager
    def _reading(self, sql: str, params, server_side: bool = False):
        """A cursor over one statement in a READ ONLY transaction, as the reader role, closed afterwards;
        writing or reading a secret fails with QueryError. A server-side cursor streams a large result.

        With params the statement uses `?` placeholders; without, it is passed as written (so `%` in an
        analyst's LIKE pattern stays a `%`).
        """
        self.ensure_migrated()
        with _unavailable_as_storage_error():
            conn = psycopg.connect(self.url, connect_timeout=max(1, int(self.timeout)))
        try:
            conn.read_only = True
            try:
                conn.execute(f"SET ROLE {READER_ROLE}")
            except psycopg.Error as exc:
                raise QueryError(
                    f"collector query reads as the PostgreSQL role {READER_ROLE}, which this database user "
                    f"cannot use ({str(exc).strip()}). As a superuser, run once: CREATE ROLE {READER_ROLE} "
                    f"NOLOGIN; GRANT {READER_ROLE} TO <the collector's user>; then start the collector again "
                    "(it grants the role read access to everything but the secrets).") from exc
            try:
                with conn.cursor(name="collector_read") if server_side else conn.cursor() as cursor:
                    cursor.execute(POSTGRES.sql(sql), params) if params else cursor.execute(sql)
                    yield cursor
            except psycopg.errors.ReadOnlySqlTransaction as exc:
                raise QueryError(f"collector query is read-only; this statement writes ({exc}).") from exc
            except psycopg.errors.InsufficientPrivilege as exc:
                raise QueryError(f"{str(exc).strip()}: {REFUSED}.") from exc
            except psycopg.Error as exc:
                raise QueryError(str(exc).strip()) from exc
        finally:
            conn.close()

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one statement in a READ ONLY transaction; writing fails with QueryError."""
        with self._reading(sql, params) as cursor:
            columns = [d.name for d in cursor.description or ()]
            return columns, cursor.fetchall() if cursor.description else []

    def query_stream(self, sql: str, params=None, size: int = 10_000) -> Iterator[tuple]:
        """The rows of one read-only statement, from a server-side cursor, `size` at a time."""
        with self._reading(sql, params, server_side=True) as cursor:
            while rows := cursor.fetchmany(size):
                yield from rows

    def close(self) -> None:
        """Close the pool (tests and CLI commands that are done)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

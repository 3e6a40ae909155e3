"""The storage interface and the choice of backend from DATABASE_URL."""

from __future__ import annotations

from typing import Protocol

from ..config import ConfigError

#: Columns of `events` written on ingest (the primary key `id` is assigned by the database).
EVENT_COLUMNS = (
    "event_id", "key", "mode", "source", "type", "subtype", "user_id", "anonymous_id", "session_id",
    "product_id", "variant_id", "category_id", "category_name", "banner_id", "order_id", "term",
    "payment_method", "item_type", "item_id", "interaction_type", "student_id", "platform", "city",
    "country", "revenue", "currency", "page_url", "referrer", "ip", "user_agent", "client_ts", "sent_at",
    "received_at", "event_time", "payload",
)
LINE_COLUMNS = ("line_no", "product_id", "variant_id", "quantity", "unit_price", "currency")
REJECTED_COLUMNS = ("key", "mode", "source", "event_id", "reason", "message", "errors", "raw", "raw_bytes",
                    "ip", "user_agent", "received_at")
KEY_COLUMNS = ("key", "name", "mode", "origins", "created_at", "revoked_at")


class StorageError(Exception):
    """The store cannot be read or written just now (locked, read-only, full, unreachable)."""


class QueryError(Exception):
    """An analyst's statement failed: a syntax error, an unknown table, or an attempt to write."""


class Storage(Protocol):
    """What the collector needs from a database."""

    def migrate(self) -> list[str]:
        """Apply pending migrations; return their names."""

    def ping(self) -> None:
        """Raise StorageError unless the store answers and is migrated."""

    def write(self, events: list[dict], rejected: list[dict]) -> list[dict | None]:
        """Store events (with their `lines`) and rejected rows in one transaction.

        Returns, per event, None when it was stored now, or the earlier row (`payload`, `received_at`)
        when its (key, event_id) was already there.
        """

    def get_key(self, key: str) -> dict | None:
        """Return a key's row, or None."""

    def add_key(self, row: dict) -> None:
        """Insert a key row."""

    def list_keys(self) -> list[dict]:
        """Return every key row, oldest first."""

    def revoke_key(self, key: str, at: str) -> bool:
        """Mark a key revoked; return False when there is no such active key."""

    def recent(self, key: str, limit: int) -> list[dict]:
        """Return a key's latest events, newest first."""

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one read-only statement (`?` placeholders when params are given); return columns and rows."""

    def forget(self, user_id: str | None, anonymous_id: str | None, suppress: bool, at: str) -> dict:
        """Erase a person's events and what names them; optionally refuse their later events."""

    def prune(self, before: str, before_epoch: float) -> dict:
        """Delete what was received before a moment; return counts."""

    def suppressed(self) -> frozenset[str]:
        """Hashes of the ids whose events are refused."""


def current_storage() -> Storage:
    """The storage of the app handling the current request or command."""
    from flask import current_app

    return current_app.extensions["collector.storage"]


def open_storage(config: dict) -> Storage:
    """Build the backend DATABASE_URL names."""
    url = str(config["DATABASE_URL"])
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStorage

        storage = SQLiteStorage(
            path=url[len("sqlite:///"):],
            synchronous=config["SQLITE_SYNCHRONOUS"],
            busy_timeout_ms=config["SQLITE_BUSY_TIMEOUT_MS"],
        )
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStorage
        except ImportError:
            raise ConfigError("DATABASE_URL is PostgreSQL but psycopg is not installed: "
                              "pip install -e '.[postgres]'") from None
        storage = PostgresStorage(url, timeout_ms=config["SQLITE_BUSY_TIMEOUT_MS"])
    else:
        raise ConfigError(f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}")
    storage.key_cache_seconds = float(config["KEY_CACHE_SECONDS"])
    return storage

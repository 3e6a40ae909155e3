"""The storage interface, grouped by concern, and the choice of backend from DATABASE_URL.

A new backend implements `Storage`; one over SQL subclasses `sql.SQLStorage` and gives it a dialect
(`dialect.py`), connections, transactions and a read-only `query`, as sqlite.py and postgres.py do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ..errors import ConfigError
from .base import Wants
from .base import wants_everything


class Storage(Protocol):
    """Everything the collector asks of a store."""

    #: Whether a forward target of a kind takes an event (the forward target registry's rule).
    wants: Wants
    #: How long key rows, targets and the suppression list are trusted once read (KEY_CACHE_SECONDS).
    key_cache_seconds: float

    # Lifecycle and health.

    def migrate(self) -> list[str]:
        """Apply pending migrations; return their names."""

    def ensure_migrated(self) -> None:
        """Migrate once per process, on first use."""

    def ping(self) -> None:
        """Raise StorageError unless the store answers and is migrated."""

    def close(self) -> None:
        """Release connections (tests and CLI commands that are done)."""

    # Ingest.

    def write(self, events: list[dict], rejected: list[dict], progress=None) -> list[dict | None]:
        """Store events (with their `lines`), their outbox rows and rejected rows in one transaction (with
        an import chunk's `progress`, jobs.Progress).

        Returns, per event, None when it was stored now, or the earlier row (`payload`, `received_at`,
        `source`) when its (key, event_id) was already there.
        """

    def suppressed(self) -> frozenset[str]:
        """Hashes of the ids whose events are refused."""

    # Keys.

    def get_key(self, key: str) -> dict | None:
        """Return a key's row (cached for KEY_CACHE_SECONDS), or None."""

    def add_key(self, row: dict) -> None:
        """Insert a key row."""

    def list_keys(self) -> list[dict]:
        """Return every key row, oldest first."""

    def revoke_key(self, key: str, at: str) -> bool:
        """Mark a key revoked; return False when there is no such active key."""

    def set_store(self, key: str, store: bool) -> bool:
        """Choose whether a key's events are kept in `events` as well as forwarded."""

    # Secret server keys.

    def add_server_key(self, row: dict) -> int:
        """Store a server key (its secret, hash and prefix); return its id."""

    def find_server_key(self, secret_hash: str) -> dict | None:
        """The server key row with this hash (cached like key rows), or None."""

    def server_keys_of(self, key: str) -> list[dict]:
        """A site's active server keys, to check a body signed with one of them."""

    def list_server_keys(self, key: str | None = None) -> list[dict]:
        """Every server key (of one site, or all) by prefix; never the secret."""

    def revoke_server_key(self, server_key_id: int, at: str) -> bool:
        """Revoke a server key; False when there is no such active one."""

    # Reference records.

    def write_records(self, record_type, versions: list, meta: dict, rejected: list[dict], refuse,
                      progress=None) -> list:
        """Store one chunk of validated records of a type and the rows refused from it, in one transaction
        (with an import chunk's `progress`); return each record's Outcome (stored, deleted, stale, refused)."""

    def current_records(self, key: str, type_name: str, ids: set[str]) -> dict[str, dict]:
        """The current rows (deleted ones too) of these ids of a type: updated, is_deleted, data."""

    def records_where(self, key: str, type_name: str, field: str, value: str,
                      deleted: bool = False) -> dict[str, dict]:
        """The current records of a type whose `field` is `value`, not deleted (or, `deleted`, deleted)."""

    def record_ids(self, key: str, type_name: str) -> list[str]:
        """The ids of a type's current, not deleted records, in order."""

    # Import jobs and their files.

    def create_job(self, row: dict, upload) -> int:
        """Keep an uploaded file and its job durably, both or neither; return the job's id."""

    def open_upload(self, job: dict):
        """A job's file, for reading (binary); StorageError when it is gone."""

    def sweep_uploads(self, older_than: float) -> int:
        """Remove kept files no job names, last written before `older_than` (epoch seconds)."""

    def get_job(self, job_id: int) -> dict | None:
        """One job, or None."""

    def list_jobs(self, key: str | None, limit: int, before: int | None = None,
                  series_id: str | None = None) -> list[dict]:
        """A site's jobs (or every site's), newest first, older than `before`, of one coupon series."""

    def claim_job(self, owner: str, lease: float, now: float, job_id: int | None = None) -> dict | None:
        """Lease the oldest job due (or that one) to `owner`, exclusively; None when there is none."""

    def renew_job(self, job_id: int, owner: str, lease_until: float, **changes) -> bool:
        """Extend `owner`'s lease and set `changes` (format, total_rows); False when it lost the job."""

    def finish_job(self, job_id: int, owner: str, status: str, reason: str | None = None) -> bool:
        """End `owner`'s job and drop its file; False when another worker holds it now."""

    def release_job(self, job_id: int, owner: str) -> bool:
        """Give a job back so that another worker may take it at once."""

    def job_errors(self, job_id: int, after: tuple[int, int], limit: int) -> list[dict]:
        """The rows a job refused, in the file's order, `limit` after (row_no, rejected id) `after`."""

    def job_versions(self, job_id: int, after: int, limit: int) -> list[dict]:
        """The record versions a job stored, in the order stored, `limit` after id `after`."""

    def worker_seen(self, owner: str, takes_jobs: bool, started_at: str, now: float) -> None:
        """Note that a worker is alive now."""

    def worker_last_seen(self, takes_jobs: bool = False) -> float | None:
        """When a worker (one that takes import jobs, with `takes_jobs`) was last seen, in epoch seconds."""

    # Forward targets and the outbox.

    def add_target(self, key: str, kind: str, url: str, secret: str, created_at: str) -> int:
        """Add a forward target to a key; return its id (UnknownKey when there is no such key)."""

    def list_targets(self) -> list[dict]:
        """Every active target with its key's name and whether the key stores events."""

    def remove_target(self, target_id: int, at: str) -> bool:
        """Stop forwarding to a target; False when there is no such active target."""

    def claim(self, owner: str, limit: int, lease: float, now: float, max_age: float) -> list[dict]:
        """Lease up to `limit` due outbox rows to `owner`, exclusively; rows older than max_age die."""

    def finish(self, owner: str, results: list[tuple[int, object]], now: float) -> None:
        """Record attempts' outcomes on rows this owner still holds."""

    def release(self, owner: str) -> int:
        """Give back every row this owner leased and did not finish."""

    def outbox_status(self, now: float) -> list[dict]:
        """Counts by target and state, with the age in seconds of the oldest pending row."""

    def retry_dead(self, now: float, target_id: int | None = None) -> int:
        """Put dead rows back in the queue; return how many."""

    # Analyst tokens.

    def add_token(self, name: str, token_hash: str, created_at: str) -> int:
        """Store a token's hash; return its id."""

    def find_token(self, token_hash: str) -> dict | None:
        """The token row with this hash, or None."""

    def list_tokens(self) -> list[dict]:
        """Every token's id, name and dates."""

    def revoke_token(self, token_id: int, at: str) -> bool:
        """Revoke a token; False when there is no such active token."""

    # Privacy.

    def forget(self, user_id: str | None, anonymous_id: str | None, suppress: bool, at: str) -> dict:
        """Erase a person's events and what names them; optionally refuse their later events."""

    def prune(self, before: str, before_epoch: float) -> dict:
        """Delete what was received before a moment; return counts."""

    # The analytics tables kept in the same database (collector/analytics/refresh.py).

    def shared_transaction(self):
        """A write transaction on this database for the analytics tables it keeps."""

    def shared_read(self, sql: str, params=()) -> list[dict]:
        """A read of this database for the analytics tables it keeps, rows as dicts."""

    def shared_connection(self):
        """A connection outside any transaction, for a pass's reads."""

    def shared_reads(self):
        """A `read(sql, params)` for several reads over one connection, rows as dicts."""

    # Reads.

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one read-only statement (`?` placeholders when params are given); return columns and rows."""

    def query_stream(self, sql: str, params=None, size: int = 10_000) -> Iterator[tuple]:
        """The rows of one read-only statement, read `size` at a time (results too large to hold)."""

    def recent(self, key: str, limit: int) -> list[dict]:
        """Return a key's latest events by their time, newest first."""

    # Copy between stores.

    def count_rows(self) -> int:
        """How many rows a copy of this store reads."""

    def export_pages(self, table: str) -> Iterator[list[dict]]:
        """Yield a table's rows, a page at a time."""

    def import_rows(self, table: str, rows: list[dict], target_ids: dict[int, int]) -> dict[str, int]:
        """Write a page exported from another store, skipping rows already here; rows added per table."""


def open_storage(config: dict, wants: Wants = wants_everything) -> Storage:
    """Build the backend DATABASE_URL names; `wants` is the forward targets' rule for the outbox."""
    url = str(config["DATABASE_URL"])
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStorage

        storage = SQLiteStorage(path=url[len("sqlite:///"):], synchronous=config["SQLITE_SYNCHRONOUS"],
                                busy_timeout_ms=config["SQLITE_BUSY_TIMEOUT_MS"], wants=wants)
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStorage
        except ImportError:
            raise ConfigError("DATABASE_URL is PostgreSQL but psycopg is not installed; the extra `postgres` "
                              "installs it: pip install 'storefront-collector[postgres]' (from a checkout: "
                              "pip install -e '.[postgres]')") from None
        storage = PostgresStorage(url, timeout_ms=config["SQLITE_BUSY_TIMEOUT_MS"], wants=wants)
    else:
        raise ConfigError(f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url!r}")
    storage.key_cache_seconds = float(config["KEY_CACHE_SECONDS"])
    return storage

"""The columns the collector writes, per table, and the INSERT statements built from them."""

from __future__ import annotations

#: Columns of `events` written on ingest (the primary key `id` is assigned by the database).
EVENT_COLUMNS = (
    "event_id", "key", "mode", "source", "type", "subtype", "user_id", "anonymous_id", "session_id",
    "product_id", "variant_id", "category_id", "category_name", "banner_id", "order_id", "term",
    "payment_method", "item_type", "item_id", "interaction_type", "student_id", "platform", "city",
    "country", "revenue", "currency", "page_url", "referrer", "ip", "user_agent", "client_ts", "sent_at",
    "received_at", "event_time", "payload", "item_known", "student_known", "browser", "browser_version", "os",
    "os_version", "device", "bot", "page_path", "referrer_domain", "utm_source", "utm_medium", "utm_campaign",
    "event_name", "page_load",
)
LINE_COLUMNS = ("line_no", "product_id", "variant_id", "quantity", "unit_price", "currency")
REJECTED_COLUMNS = ("key", "mode", "source", "event_id", "reason", "message", "errors", "raw", "raw_bytes",
                    "ip", "user_agent", "received_at", "job_id", "row_no")
KEY_COLUMNS = ("key", "name", "mode", "origins", "created_at", "revoked_at", "site", "expires_at")
TARGET_COLUMNS = ("key", "kind", "url", "secret", "created_at", "removed_at")
SERVER_KEY_COLUMNS = ("key", "prefix", "secret_hash", "secret", "created_at", "revoked_at", "expires_at")
#: Every accepted version of a reference record, and the current one per id.
VERSION_COLUMNS = ("version_id", "key", "mode", "type", "record_id", "updated", "is_deleted", "source", "sent_by",
                   "request_id", "batch_id", "received_at", "payload", "job_id")
RECORD_COLUMNS = ("key", "mode", "type", "record_id", "version_id", "updated", "is_deleted", "received_at", "payload")
TOKEN_COLUMNS = ("name", "token_hash", "created_at", "revoked_at", "sites")
SUPPRESSED_COLUMNS = ("id_hash", "kind", "created_at")
#: Columns of `import_jobs` written when a job is created (its counts and lease move as it runs).
JOB_COLUMNS = ("key", "mode", "kind", "format", "file_name", "file_ref", "file_bytes", "options", "series_id",
               "sent_by", "status", "lease_owner", "lease_until", "created_at", "updated_at")
#: What `collector copy` moves of an outbox row (leases stay behind: a held row is simply due again).
OUTBOX_COLUMNS = ("target_id", "key", "event_id", "source", "payload", "state", "attempts", "next_attempt_at",
                  "created_at", "delivered_at", "last_status", "last_error")


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    """`INSERT INTO table (columns) VALUES (?, ...)`."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"

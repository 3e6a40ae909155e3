"""SQLStorage: every concern of the store, written once in SQL both backends run."""

from __future__ import annotations

from .ingest import IngestMixin
from .jobs import JobsMixin
from .keys import KeysMixin
from .outbox import OutboxMixin
from .privacy import PrivacyMixin
from .records import RecordsMixin
from .server_keys import ServerKeysMixin
from .tokens import TokensMixin
from .transfer import TransferMixin


class SQLStorage(IngestMixin, RecordsMixin, KeysMixin, ServerKeysMixin, OutboxMixin, TokensMixin, PrivacyMixin,
                 TransferMixin, JobsMixin):
    """The storage logic; a backend subclass supplies connections, transactions, `query` and its dialect."""

    def recent(self, key: str, limit: int) -> list[dict]:
        """Return a key's latest events by their time, newest first (an event sent late, from the tracker's
        queue, takes its place by when it happened, not when it arrived)."""
        return self._read(
            "SELECT event_id, source, type, subtype, interaction_type, item_type, product_id, banner_id, order_id, "
            "term, revenue, currency, event_time FROM events WHERE key = ? ORDER BY event_time DESC, id DESC "
            "LIMIT ?", (key, limit))

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one read-only statement (`?` placeholders when params are given); return columns and rows."""
        raise NotImplementedError

    def query_stream(self, sql: str, params=None, size: int = 10_000):
        """The rows of one read-only statement, read `size` at a time."""
        raise NotImplementedError

"""The analytics store: what the reports, the dashboard, exports and the worker's refresh ask of the analytics
side, and its one implementation today, in the operational store's own database.

An analytics backend on another engine (ClickHouse, as Plausible, PostHog and Umami use once one database
is not enough) implements `Analytics` over its own tables, fed from the events the operational store
commits; `open_analytics` is where it would be chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from typing import Protocol

from ..storage.dialect import Dialect
from . import refresh


class Analytics(Protocol):
    """Everything the analysts' side asks of the analytics store."""

    #: How its SQL spells what differs between backends (storage/dialect.py).
    dialect: Dialect

    def refresh_visits(self, limit: int = 2000, stopping: Callable[[], bool] = lambda: False) -> int:
        """Bring the visits, rollups and tallies up to date with every committed event; how many visits."""

    def pending_visit_changes(self) -> int:
        """How many changes wait for a refresh."""

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one read-only statement (`?` placeholders); its columns and rows."""

    def query_stream(self, sql: str, params=None, size: int = 10_000) -> Iterator[tuple]:
        """The rows of one read-only statement, read `size` at a time."""


class SharedAnalytics:
    """The analytics tables in the operational store's database: kept by refresh.py over the store's
    connections, read through its read-only path (which no secret can be read through)."""

    def __init__(self, storage):
        """The analytics side of this store."""
        self.storage = storage

    @property
    def dialect(self):
        """How the store spells what differs between backends (reports read JSON fields through it)."""
        return self.storage.dialect

    def refresh_visits(self, limit: int = 2000, stopping: Callable[[], bool] = lambda: False) -> int:
        """Bring the visits, rollups and tallies up to date with every committed event; how many visits."""
        return refresh.refresh_visits(self.storage, limit, stopping)

    def pending_visit_changes(self) -> int:
        """How many changes wait for a refresh."""
        return refresh.pending_visit_changes(self.storage)

    def query(self, sql: str, params=None) -> tuple[list[str], list[tuple]]:
        """Run one read-only statement (`?` placeholders); its columns and rows."""
        return self.storage.query(sql, params)

    def query_stream(self, sql: str, params=None, size: int = 10_000) -> Iterator[tuple]:
        """The rows of one read-only statement, read `size` at a time."""
        return self.storage.query_stream(sql, params, size)


def open_analytics(storage) -> Analytics:
    """The analytics store of an operational store: today, its own database."""
    return SharedAnalytics(storage)

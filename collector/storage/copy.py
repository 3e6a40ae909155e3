"""`collector copy`: move a store to another backend without loss, as often as needed (idempotent)."""

from __future__ import annotations

from collections.abc import Callable

from .sql import SQLStorage
from .transfer import TABLES


def copy_store(source: SQLStorage, dest: SQLStorage, advance: Callable[[int], None]) -> dict[str, int]:
    """Copy keys, targets, tokens, the suppression list, events with their lines, rejected rows and the
    outbox; return rows added per table. Rows already in the destination are skipped, so a copy can be
    run again after more events arrived, or after an interruption."""
    dest.migrate()
    added = dict.fromkeys((*TABLES, "event_lines"), 0)
    target_ids: dict[int, int] = {}
    for table in TABLES:
        for page in source.export_pages(table):
            for name, count in dest.import_rows(table, page, target_ids).items():
                added[name] += count
            advance(len(page))
    return added

"""Retention: what is older than the configured days goes, a few thousand rows a transaction, by
`collector prune` or by the worker once an hour (COLLECTOR_RETENTION_DAYS, COLLECTOR_REJECTED_RETENTION_DAYS)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from ..clock import iso
from ..clock import utcnow

log = logging.getLogger("collector")

#: How often the worker applies retention.
EVERY_SECONDS = 3600.0


def apply(storage, days: int | None, rejected_days: int | None = None,
          stopping: Callable[[], bool] = lambda: False) -> dict:
    """Delete events (and what goes with them) older than `days`, rejected rows older than `rejected_days`
    (else `days`); None or 0 keeps them. Logs and returns the counts, never what was deleted."""
    now = utcnow()
    before = now - timedelta(days=days) if days else None
    rejected_before = now - timedelta(days=rejected_days) if rejected_days else None
    if before is None and rejected_before is None:
        return {}
    started = time.monotonic()
    counts = storage.prune(before, rejected_before, stopping=stopping)
    log.info("retention: deleted %s (events received before %s, rejected rows before %s) in %.1f s",
             ", ".join(f"{n} {name}" for name, n in counts.items()), iso(before) if before else "never",
             iso(rejected_before or before) if (rejected_before or before) else "never", time.monotonic() - started)
    return counts

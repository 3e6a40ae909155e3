"""Draining the outbox in a test: a forwarder run in the test's process, and the rows by state."""

from __future__ import annotations

import time
from collections import Counter

from collector.forward.runner import Forwarder

SETTINGS = {"FORWARD_BATCH": 100, "FORWARD_CONCURRENCY": 4, "FORWARD_LEASE_SECONDS": 60,
            "FORWARD_TIMEOUT_SECONDS": 5, "FORWARD_MAX_AGE_HOURS": 72}


def drain(storage, settings=None, until=None, timeout: float = 30.0) -> Forwarder:
    """Run a forwarder in this process until `until()` holds (or nothing is pending) or the timeout passes."""
    forwarder = Forwarder(storage, {**SETTINGS, **(settings or {})})
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        forwarder.step()
        if until() if until else not _pending(storage):
            break
        time.sleep(0.05)
    forwarder.storage.release(forwarder.owner)
    forwarder.close()
    return forwarder


def _pending(storage) -> int:
    """Rows not yet delivered or dead."""
    return sum(r["count"] for r in storage.outbox_status(time.time()) if r["state"] == "pending")


def states(db) -> Counter:
    """Outbox rows by state."""
    return Counter(r["state"] for r in db("SELECT state FROM outbox"))

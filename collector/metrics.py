"""Prometheus metrics (prometheus_client): what each process counts, and what the store holds, read when
scraped.

Counters live in the process that counts them: gunicorn's workers (requests, events, refusals, rate limits,
storage failures) and `collector worker` (forward attempts). With PROMETHEUS_MULTIPROC_DIR set, every
process writes its counters to files there and /metrics adds them all up (prometheus_client's multiprocess
mode); without it, /metrics shows the serving process alone. The outbox, paused targets and import jobs are
read from the store at each scrape, so every process sees the same figures.
"""

from __future__ import annotations

import collections
import os
import re
import sys
import time
from importlib import metadata
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram
from prometheus_client import disable_created_metrics
from prometheus_client import generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

# Counters' `_created` samples would double every series for little use.
disable_created_metrics()

#: The variable prometheus_client's multiprocess mode reads.
DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter("collector_requests", "HTTP requests answered, by endpoint family (the blueprint) and status "
                   "class.", ["family", "status"])
LATENCY = Histogram("collector_request_duration_seconds", "Seconds from a request's arrival to its answer, by "
                    "endpoint family.", ["family"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
EVENTS = Counter("collector_events", "Events and reference records taken, by source, type and outcome (accepted: "
                 "stored now; duplicate: stored before).", ["source", "type", "outcome"])
REJECTED = Counter("collector_rejected", "Bodies, events, records and import rows refused and kept in `rejected`, "
                   "by source and reason.", ["source", "reason"])
RATE_LIMITED = Counter("collector_rate_limited", "Requests answered 429, by the limit they hit (key, address).",
                       ["scope"])
STORAGE_UNAVAILABLE = Counter("collector_storage_unavailable", "Requests answered 503 because the store could not "
                              "be read or written.")
RECOMMENDATIONS = Counter("collector_recommendations", "Page views answered with recommendations, by outcome "
                          "(answered; late: the time budget ran out, later lists empty; failed: every list "
                          "empty, the event stored all the same).", ["outcome"])
FORWARD_ATTEMPTS = Counter("collector_forward_attempts", "Outbox rows sent upstream (or held back), by target, kind "
                           "and result (delivered, retry, dead, held).", ["target", "kind", "result"])


def family(blueprint: str | None) -> str:
    """A request's endpoint family: its blueprint's name (`none` for a path no route matched)."""
    return blueprint or "none"


def answered(blueprint: str | None, status: int, seconds: float) -> None:
    """Count one answered request."""
    name = family(blueprint)
    REQUESTS.labels(name, f"{status // 100}xx").inc()
    LATENCY.labels(name).observe(seconds)


def stored(items: list[dict], outcomes: list, rejected: list[dict]) -> None:
    """Count a committed write: each item (its `source` and `type`) accepted when its outcome is None (or
    a record's, not repeated), else a duplicate; and the rejected rows by source and reason."""
    counts = collections.Counter((item["source"], item["type"], _outcome(outcome))
                   for item, outcome in zip(items, outcomes, strict=True))
    for labels, n in counts.items():
        EVENTS.labels(*labels).inc(n)
    refused(rejected)


def refused(rejected: list[dict]) -> None:
    """Count rejected rows (committed) by source and reason."""
    for (source, reason), n in collections.Counter((row["source"], row["reason"]) for row in rejected).items():
        REJECTED.labels(source, reason).inc(n)


def _outcome(outcome) -> str:
    """accepted or duplicate, for an event's write outcome (None: new) or a record's (repeated: sent before)."""
    if outcome is None:
        return "accepted"
    return "duplicate" if getattr(outcome, "repeated", True) else "accepted"


def forwarded(target: dict, outcomes: list) -> None:
    """Count a round's outcomes for one target."""
    counts = collections.Counter(("held" if not o.sent else "retry" if o.state == "pending" else o.state)
                                 for o in outcomes)
    for result, n in counts.items():
        FORWARD_ATTEMPTS.labels(str(target["target_id"]), target["kind"], result).inc(n)


class StoreCollector:
    """Gauges read from the store at scrape time: the outbox by target, paused targets, import jobs."""

    def __init__(self, storage):
        """Read from this store."""
        self.storage = storage

    def collect(self):
        """Yield the store's gauges and the build's info."""
        now = time.time()
        rows = GaugeMetricFamily("collector_outbox_rows", "Outbox rows waiting (pending) or given up (dead), by "
                                 "target.", labels=["target", "kind", "state"])
        oldest = GaugeMetricFamily("collector_outbox_oldest_pending_seconds", "Age of the oldest pending outbox row, "
                                   "by target (0: none pending).", labels=["target", "kind"])
        paused = GaugeMetricFamily("collector_forward_paused_seconds", "Seconds a forward target stays paused after "
                                   "a 429/503 or a run of failures (0: not paused).", labels=["target", "kind"])
        ages: dict[tuple[str, str], float] = {}
        for target in self.storage.list_targets():
            ages[(str(target["id"]), target["kind"])] = 0.0
        for row in self.storage.outbox_counts(now):
            labels = (str(row["target_id"]), row["kind"])
            rows.add_metric([*labels, row["state"]], row["count"])
            if row["state"] == "pending":
                ages[labels] = max(0.0, row["oldest_seconds"] or 0.0)
        paused_until = {str(t["target_id"]): t["paused_until"] - now for t in self.storage.paused_targets(now)}
        for labels, age in sorted(ages.items()):
            oldest.add_metric(list(labels), age)
            paused.add_metric(list(labels), paused_until.get(labels[0], 0.0))
        jobs = GaugeMetricFamily("collector_import_jobs", "Import jobs by status.", labels=["status"])
        processed = GaugeMetricFamily("collector_import_rows", "Rows of import jobs processed, by outcome (stored, "
                                      "duplicates, refused).", labels=["outcome"])
        totals = self.storage.job_totals()
        for status, count in totals["jobs"].items():
            jobs.add_metric([status], count)
        for outcome, count in totals["rows"].items():
            processed.add_metric([outcome], count)
        info = GaugeMetricFamily("collector_build_info", "The running collector's version (always 1).",
                                 labels=["version", "python"])
        info.add_metric([_version(), ".".join(map(str, sys.version_info[:3]))], 1)
        yield from (rows, oldest, paused, jobs, processed, info)


def _version() -> str:
    """The installed collector's version."""
    try:
        return metadata.version("storefront-collector")
    except metadata.PackageNotFoundError:
        return "unknown"


def exposition(storage) -> bytes:
    """Every metric in Prometheus' text format: the processes' counters (all of them in multiprocess mode)
    and the store's gauges."""
    registry = CollectorRegistry()
    if os.environ.get(DIRECTORY):
        multiprocess.MultiProcessCollector(registry)
    else:
        for collector in (REQUESTS, LATENCY, EVENTS, REJECTED, RATE_LIMITED, STORAGE_UNAVAILABLE, FORWARD_ATTEMPTS):
            registry.register(collector)
    registry.register(StoreCollector(storage))
    return generate_latest(registry)


_FILE = re.compile(r"_(\d+)\.db$")


def clean(directory: str | None = None) -> int:
    """Remove the metric files of processes that are gone (a restart's leftovers) from the multiprocess
    directory, creating it if needed; the live processes' files stay. Returns how many were removed."""
    directory = directory or os.environ.get(DIRECTORY)
    if not directory:
        return 0
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    removed = 0
    for path in folder.glob("*.db"):
        match = _FILE.search(path.name)
        if match and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    """Whether a process with this id runs."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The default registry is unused: /metrics builds its own per scrape (see exposition).
for _collector in (REQUESTS, LATENCY, EVENTS, REJECTED, RATE_LIMITED, STORAGE_UNAVAILABLE, FORWARD_ATTEMPTS):
    REGISTRY.unregister(_collector)

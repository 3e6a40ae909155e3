"""`collector worker`: a node's background work in one process until SIGTERM: the forwarder draining the
outbox (in a thread) and the import jobs (in the main thread), both leased, so that workers on several
nodes share the work and none does a piece of it twice; the web panels' visits and the recommendation
tables kept up to date (a thread each; processes take turns); and retention applied once an hour when it
is configured (in a thread)."""

from __future__ import annotations

import logging
import signal
import threading
import time

from .. import metrics
from ..analytics.store import open_analytics
from ..clock import now_iso
from ..forward.runner import Forwarder
from ..imports.runner import JobRunner
from ..recommendations.upkeep import keep_up
from ..storage.leases import new_owner
from . import retention

log = logging.getLogger("collector")
#: Uploads no job names are removed once this old (a crash between keeping the file and its job).
_ORPHAN_SECONDS = 3600
#: How often the visits the web panels read are brought up to date (a report also does it before reading).
VISITS_SECONDS = 5.0
#: How often the recommendation tables take in what was stored since (bought together changes this soon).
RECOMMENDATIONS_SECONDS = 2.0
#: How often a worker says it is alive (the `workers` table: a job nobody takes says whether one runs).
HEARTBEAT_SECONDS = 10.0


class Worker:
    """The forwarder and the import runner of one process, stopped together."""

    def __init__(self, storage, config: dict, forward: bool = True, jobs: bool = True):
        """Make the parts asked for; nothing runs until run()."""
        self.storage = storage
        self.forwarder = Forwarder(storage, config) if forward else None
        self.jobs = JobRunner(storage, config) if jobs else None
        self.retention = (config.get("RETENTION_DAYS", 0), config.get("REJECTED_RETENTION_DAYS", 0))
        self.stopping = threading.Event()
        self.owner = self.jobs.owner if self.jobs else new_owner()

    def stop(self) -> None:
        """Ask every part to stop after the piece of work in hand (a delivery round, an import chunk)."""
        self.stopping.set()
        if self.forwarder:
            self.forwarder.stopping.set()
        if self.jobs:
            self.jobs.stopping.set()

    def run(self, once: bool = False) -> None:
        """Run until SIGTERM or SIGINT (with once: until nothing is due)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop())
        metrics.clean()  # the files of a worker that was killed, if it shares gunicorn's metrics directory
        swept = self.storage.sweep_uploads(time.time() - _ORPHAN_SECONDS)
        if swept:
            log.info("worker removed %d uploads no import job names", swept)
        failed: list[BaseException] = []

        def forward() -> None:
            """Drain the outbox; a failure stops the whole worker (its supervisor restarts it)."""
            try:
                self.forwarder.run(once=once, signals=False)
            except BaseException as exc:
                failed.append(exc)
                self.stop()

        # An import's chunks and leases need the store's one writer (SQLite) more than the rollups and the
        # recommendation tables do: they catch up when the job is done (every report brings the rollups up
        # to date first). Small transactions, given up as soon as a job starts.
        def busy() -> bool:
            """Whether to stop keeping tables up to date: the worker stops, or an import job is worked on."""
            return self.stopping.is_set() or (bool(self.jobs) and self.jobs.busy.is_set())

        def visits() -> None:
            """Bring the visits up to date now and then; a failure is logged and tried again (a report
            refreshes them too, so the panels stay exact meanwhile)."""
            while True:
                try:
                    if not busy():
                        open_analytics(self.storage).refresh_visits(limit=200, stopping=busy)
                except Exception:
                    log.exception("visits refresh failed; trying again in %.0f s", VISITS_SECONDS)
                if once or self.stopping.wait(VISITS_SECONDS):
                    return

        def recommendations() -> None:
            """Keep the recommendation tables up to date; a failure is logged and tried again (the answers
            read the tables as they are meanwhile)."""
            while True:
                try:
                    if not busy():
                        keep_up(self.storage, stopping=busy)
                except Exception:
                    log.exception("recommendation tables' upkeep failed; trying again in %.0f s",
                                  RECOMMENDATIONS_SECONDS)
                if once or self.stopping.wait(RECOMMENDATIONS_SECONDS):
                    return

        started_at = now_iso()

        def heartbeat() -> None:
            """Say this worker is alive, now and every HEARTBEAT_SECONDS; a failure is logged and tried again."""
            while True:
                try:
                    self.storage.worker_seen(self.owner, bool(self.jobs), started_at, time.time())
                except Exception:
                    log.exception("worker heartbeat failed; trying again in %.0f s", HEARTBEAT_SECONDS)
                if once or self.stopping.wait(HEARTBEAT_SECONDS):
                    return

        def retain() -> None:
            """Apply retention now and once an hour; a failure is logged and tried again at the next hour."""
            while True:
                try:
                    retention.apply(self.storage, *self.retention, stopping=self.stopping.is_set)
                except Exception:
                    log.exception("retention failed; trying again in %.0f s", retention.EVERY_SECONDS)
                if once or self.stopping.wait(retention.EVERY_SECONDS):
                    return

        threads = [threading.Thread(target=heartbeat, name="heartbeat", daemon=True),
                   threading.Thread(target=visits, name="visits", daemon=True),
                   threading.Thread(target=recommendations, name="recommendations", daemon=True)]
        if any(self.retention):
            threads.append(threading.Thread(target=retain, name="retention", daemon=True))
        if self.forwarder:
            threads.append(threading.Thread(target=forward, name="forwarder", daemon=True))
        for thread in threads:
            thread.start()
        try:
            if self.jobs:
                log.info("import worker %s started", self.jobs.owner)
                self.jobs.run(once=once)
            for thread in threads:
                thread.join()  # each ends by itself with once, else at a signal
        finally:
            self.stop()
            for thread in threads:
                thread.join()
        if failed:
            raise failed[0]

"""`collector worker`: a node's background work in one process until SIGTERM: the forwarder draining the
outbox (in a thread) and the import jobs (in the main thread), both leased, so that workers on several
nodes share the work and none does a piece of it twice."""

from __future__ import annotations

import logging
import signal
import threading
import time

from .forward.runner import Forwarder
from .imports.runner import JobRunner

log = logging.getLogger("collector")
#: Uploads no job names are removed once this old (a crash between keeping the file and its job).
_ORPHAN_SECONDS = 3600


class Worker:
    """The forwarder and the import runner of one process, stopped together."""

    def __init__(self, storage, config: dict, forward: bool = True, jobs: bool = True):
        """Make the parts asked for; nothing runs until run()."""
        self.storage = storage
        self.forwarder = Forwarder(storage, config) if forward else None
        self.jobs = JobRunner(storage, config) if jobs else None

    def stop(self) -> None:
        """Ask every part to stop after the piece of work in hand (a delivery round, an import chunk)."""
        if self.forwarder:
            self.forwarder.stopping.set()
        if self.jobs:
            self.jobs.stopping.set()

    def run(self, once: bool = False) -> None:
        """Run until SIGTERM or SIGINT (with once: until nothing is due)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self.stop())
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

        thread = threading.Thread(target=forward, name="forwarder", daemon=True) if self.forwarder else None
        if thread is not None:
            thread.start()
        try:
            if self.jobs:
                log.info("import worker %s started", self.jobs.owner)
                self.jobs.run(once=once)
            if thread is not None:
                thread.join()  # the forwarder ends by itself with once, else at a signal
        finally:
            self.stop()
            if thread is not None:
                thread.join()
        if failed:
            raise failed[0]

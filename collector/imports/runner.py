"""An import worker: take a job due (leased, so that no other worker runs it), read its file through
once to count its rows and to fail at once on a file that cannot be read, then store it chunk by chunk,
each chunk committed with the job's progress; end it COMPLETED, COMPLETED_WITH_ERRORS or FAILED.

A worker that dies holds its job until the lease runs out; the next worker to take it starts after the
last committed chunk, so no row is stored or counted twice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from itertools import islice

from ..errors import JobLeaseLost
from ..errors import StorageError
from ..storage.jobs import Progress
from ..storage.leases import new_owner
from . import kinds
from .files import FileProblem
from .files import Row
from .files import Source
from .pool import Preparer
from .pool import processes_for

log = logging.getLogger("collector")
#: Rows of the first pass between two renewals of the lease.
_RENEW_EVERY = 50_000


class JobRunner:
    """Runs import jobs one at a time; several runners, on any nodes, share the jobs of one store."""

    def __init__(self, storage, config: dict, owner: str | None = None,
                 on_progress: Callable[[dict], None] | None = None):
        """Take the import settings; `on_progress(job)` is told of each committed chunk."""
        self.storage = storage
        self.chunk = config["IMPORT_CHUNK"]
        self.lease = float(config["IMPORT_LEASE_SECONDS"])
        self.max_rows = config["IMPORT_MAX_ROWS"]
        self.owner = owner or new_owner()
        self.on_progress = on_progress
        self.stopping = threading.Event()
        #: Set while a job is worked on (the worker's visits refresh waits meanwhile: see worker.py).
        self.busy = threading.Event()
        self.preparer = Preparer(storage, config, processes_for(config["IMPORT_PROCESSES"]))

    def run(self, once: bool = False, idle: float = 1.0) -> None:
        """Work on jobs until `stopping` is set (or, with once, until none is due); then stop the pool."""
        try:
            while not self.stopping.is_set():
                try:
                    worked = self.step()
                except StorageError as exc:  # the store is away: try again later, the jobs wait in it
                    log.warning("import worker %s: %s", self.owner, exc)
                    worked = False
                if not worked and (once or self.stopping.wait(idle)):
                    return
        finally:
            self.close()

    def close(self) -> None:
        """Stop the processes that prepared chunks, if any were started."""
        self.preparer.close()

    def step(self, job_id: int | None = None) -> bool:
        """Take one job due (or job `job_id`) and work on it; False when there was none."""
        job = self.storage.claim_job(self.owner, self.lease, time.time(), job_id)
        if job is None:
            return False
        if job["status"] == "PROCESSING":
            self.busy.set()
            try:
                self.work(job)
            finally:
                self.busy.clear()
        return True

    def work(self, job: dict) -> None:
        """Work on a job this runner holds until it ends, the runner stops, or another worker takes it."""
        started = time.monotonic()
        try:
            ended = self._work(job)
        except JobLeaseLost as exc:
            log.warning("import job=%d: %s", job["id"], exc)
            return
        except StorageError:
            self.storage.release_job(job["id"], self.owner)
            raise
        except BrokenProcessPool as exc:  # a pool process died (killed, out of memory): the job goes on later
            log.error("import job=%d: a process preparing its rows died (%s); the job is given back", job["id"], exc)
            self.preparer.close()
            self.storage.release_job(job["id"], self.owner)
            return
        except Exception:  # a bug, not the file: the rows committed so far stay; say so in the job
            log.exception("import job=%d failed unexpectedly", job["id"])
            found = self.storage.get_job(job["id"])
            self._finish(job, "FAILED", f"The collector failed unexpectedly after row {found['position']}; the rows "
                                        "before it are stored. The collector's log has the cause.")
            return
        if ended:
            found = self.storage.get_job(job["id"])
            log.info("import job=%d kind=%s status=%s rows=%s stored=%d duplicates=%d refused=%d %.1fs", job["id"],
                     job["kind"], found["status"], found["total_rows"], found["stored"], found["duplicates"],
                     found["refused"], time.monotonic() - started)
        else:
            self.storage.release_job(job["id"], self.owner)

    def _finish(self, job: dict, status: str, reason: str | None = None) -> bool:
        """End a job; tell the progress callback."""
        ended = self.storage.finish_job(job["id"], self.owner, status, reason)
        if ended and self.on_progress:
            self.on_progress(self.storage.get_job(job["id"]))
        return ended

    def _work(self, job: dict) -> bool:
        """A job's two passes; True once it has ended, False when the runner stopped first."""
        kind = kinds.get(job["kind"])
        key_row = self.storage.get_key(job["key"])
        if kind is None:
            return self._finish(job, "FAILED", f"This collector does not import {job['kind']!r}.")
        if key_row is None or key_row["revoked_at"]:
            return self._finish(job, "FAILED", "The key this job imports for was revoked; nothing more is stored.")
        layout = kind.layout(job["options"])
        try:
            if job["total_rows"] is None:
                if not self._first_pass(job, layout):
                    return False
            position = job["position"]
            with self.storage.open_upload(job) as binary, Source(binary, job["format"], job["file_name"]) as source:
                chunks = (kinds.Chunk(job, key_row, rows) for rows in _chunks(source.rows(layout, skip=position),
                                                                               self.chunk))
                # A pool pays for itself only over several chunks.
                spread = job["total_rows"] - position > self.chunk
                for chunk, prepared in self.preparer.prepared(kind, chunks, spread):
                    if self.stopping.is_set():
                        return False
                    end = chunk.rows[-1].number
                    progress = Progress(job["id"], self.owner, position, end, time.time() + self.lease)
                    kind.commit(chunk, prepared, progress, self.storage)
                    position = end
                    if self.on_progress:
                        self.on_progress(self.storage.get_job(job["id"]))
        except FileProblem as exc:
            return self._finish(job, "FAILED", str(exc))
        found = self.storage.get_job(job["id"])
        return self._finish(job, "COMPLETED_WITH_ERRORS" if found["refused"] else "COMPLETED")

    def _first_pass(self, job: dict, layout) -> bool:
        """Read the file through before storing anything: its format and its number of rows (set on the
        job), or FileProblem saying why it cannot be read. False when this runner lost the job or stopped."""
        with self.storage.open_upload(job) as binary, Source(binary, job["format"], job["file_name"]) as source:
            total = 0
            for row in source.rows(layout, items=False):
                total = row.number
                if total > self.max_rows:
                    raise FileProblem(f"The file holds more than {self.max_rows:,} rows, the most one job takes "
                                      "(COLLECTOR_IMPORT_MAX_ROWS): split it into several files.")
                if total % _RENEW_EVERY == 0 and (self.stopping.is_set() or not self.storage.renew_job(
                        job["id"], self.owner, time.time() + self.lease)):
                    return False
        if total == 0:
            raise FileProblem("The file holds no rows" + (", only a header." if source.format == "csv" else "."))
        job.update(format=source.format, total_rows=total)
        return self.storage.renew_job(job["id"], self.owner, time.time() + self.lease, format=source.format,
                                      total_rows=total)


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    """The rows in lists of `size` (the last may be shorter)."""
    while chunk := list(islice(rows, size)):
        yield chunk

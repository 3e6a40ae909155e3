"""Where an import's chunks are prepared (validated, mapped to rows: `ImportKind.prepare`): in the worker
itself, or in a pool of processes, each with its own connection to the store, so that an import uses more than one
core. The worker still commits every chunk itself, in order, with the job's progress; a prepared chunk
that is never committed (the worker stopped, died or lost the job) changed nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from ..config import DEFAULTS
from ..storage import open_storage
from . import kinds

#: The app of a pool process (set by _start).
_child: dict = {}


def processes_for(setting: int) -> int:
    """How many processes prepare chunks: the setting, or with 0 half the machine's cores (at least 1)."""
    return setting or max(1, (os.cpu_count() or 1) // 2)


def _start(settings: dict) -> None:
    """A pool process: the same store, opened with the worker's settings (it writes nothing). Signals are
    the worker's to act on (it stops the pool): a SIGTERM sent to the whole service must not kill a
    process in the middle of a chunk the worker waits for."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _child["storage"] = open_storage(settings)
    _child["settings"] = settings


def _prepare(kind_name: str, chunk: kinds.Chunk) -> kinds.Prepared:
    """Prepare a chunk in a pool process."""
    return kinds.get(kind_name).prepare(chunk, _child["storage"], _child["settings"])


class Preparer:
    """Prepares a job's chunks in the order they come, `processes` at once (1: here, one at a time)."""

    def __init__(self, storage, config: dict, processes: int):
        """Remember the settings a pool process needs; no process starts before a job needs one."""
        self.storage = storage
        self.processes = processes
        self.settings = {name: config[name] for name in DEFAULTS}
        self._pool: ProcessPoolExecutor | None = None

    def prepared(self, kind: kinds.ImportKind, chunks: Iterator[kinds.Chunk],
                 spread: bool = True) -> Iterator[tuple[kinds.Chunk, kinds.Prepared]]:
        """Each chunk with what it prepared into, in order; with `spread` and more than one process, in
        the pool, each process busy and at most one chunk more read ahead."""
        if self.processes == 1 or not spread:
            for chunk in chunks:
                yield chunk, kind.prepare(chunk, self.storage, self.settings)
            return
        if self._pool is None:
            # spawn, not fork: the worker runs the forwarder in a thread, and a fork copies held locks.
            self._pool = ProcessPoolExecutor(self.processes, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start, initargs=(self.settings,))
        pending = deque()
        for chunk in chunks:
            pending.append((chunk, self._pool.submit(_prepare, kind.name, chunk)))
            if len(pending) > self.processes:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()

    def close(self) -> None:
        """Stop the pool's processes (a new one starts when a job needs it)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

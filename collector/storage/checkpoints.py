"""Checkpoints of SQLite's write-ahead log on a thread of their own, so that no request waits for one.

SQLite copies the log back into the database file ("checkpoints") inside whichever COMMIT takes the log
past `wal_autocheckpoint` pages. A request of thousands of reference records dirties a page of each
index per record, so that request paid for copying and syncing the whole log: about a tenth of the Data
API's time, and more as the tables grow. Here a thread of each process checkpoints (PASSIVE: it never
waits for a reader or a writer) shortly after commits; the request connections keep SQLite's own
checkpoint only as a backstop, at BACKSTOP_PAGES, so the log stays bounded if this thread falls behind.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

#: Where a request connection checkpoints by itself: ten times SQLite's default of 1,000 pages.
BACKSTOP_PAGES = 10_000
#: How long the thread waits before trying again a checkpoint a reader kept from copying the whole log.
RETRY_SECONDS = 0.5
#: The bytes a log's file is cut back to when it restarts: about the backstop's 10,000 pages.
JOURNAL_SIZE_LIMIT = 48 * 2**20


class Checkpointer:
    """Checkpoints one database's log after commits, on a thread started by the first commit in a process
    and ended after `idle` seconds without one (or by stop())."""

    def __init__(self, connect: Callable[[], sqlite3.Connection], pause: float = 0.05, idle: float = 5.0):
        """Remember how to open a connection, how long to gather commits before a checkpoint, and how
        long the thread waits for another commit before it ends."""
        self._connect = connect
        self._pause = pause
        self._idle = idle
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stopping = False
        #: Checkpoints done by this process's thread (tests read it).
        self.done = 0

    def committed(self) -> None:
        """Say a transaction was committed: a checkpoint follows shortly, on the thread."""
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            # A thread does not survive a fork (gunicorn's workers): each process starts its own.
            if self._stopping or (self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()):
                return
            self._pid = os.getpid()
            thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
            try:
                thread.start()
            except RuntimeError as exc:
                # The commit is done and must be answered as such: without the thread, the request
                # connections' own checkpoint (the backstop) keeps the log bounded.
                log.warning("checkpoint thread not started (%s); SQLite's own checkpoint takes over", exc)
                return
            self._thread = thread

    def stop(self) -> None:
        """End the thread after its current checkpoint; the next commit starts another."""
        with self._lock:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=10)
        with self._lock:
            self._stopping = False
            self._wake.clear()

    def _run(self) -> None:
        """Checkpoint after each burst of commits; end when none came for `idle` seconds."""
        while self._wake.wait(self._idle) and not self._stopping:
            self._wake.clear()
            time.sleep(self._pause)  # the commits of the next moment share this checkpoint
            if not self._stopping and not self._checkpoint():
                # A reader's older snapshot kept part of the log in place: try again shortly, not only
                # at the next commit (which may not come).
                time.sleep(RETRY_SECONDS)
                self._wake.set()
        with self._lock:
            if self._thread is threading.current_thread():
                self._thread = None
        if self._wake.is_set():  # a commit that came as the thread was ending found it still alive
            self.committed()

    def _checkpoint(self) -> bool:
        """One PASSIVE checkpoint on a connection of its own: whether it copied the whole log back. A
        failure waits for the next commit (the request connections' backstop still bounds the log)."""
        try:
            conn = self._connect()
        except (sqlite3.Error, OSError) as exc:
            log.debug("checkpoint: cannot open the database: %s", exc)
            return True
        try:
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            self.done += 1
            return not busy and copied >= frames
        except sqlite3.Error as exc:
            log.debug("checkpoint failed: %s", exc)
            return True
        finally:
            conn.close()

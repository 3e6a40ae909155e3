"""Group commit: the writes of concurrent requests share one transaction, so one disk sync serves them all.

A request thread queues its write and asks for the leader's lock. Whoever holds the lock commits
everything queued so far in one transaction and hands each waiting thread its own result; a thread
whose write went out with an earlier group returns at once. Nobody waits on a timer: a lone request
commits alone, immediately, and groups form only while a commit is already in flight.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..errors import StorageError

log = logging.getLogger("collector")


class _Ticket:
    """One queued write and, once its group has committed, its result or its error."""

    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work):
        """Queue-ready, not yet done."""
        self.work = work
        self.done = False
        self.result = None
        self.error: BaseException | None = None


class GroupCommit:
    """Runs `commit(works) -> results` (one transaction) for whatever writes are waiting together."""

    def __init__(self, commit: Callable[[list], list], max_group: int = 64):
        """`max_group` bounds one transaction, so a burst cannot hold the write lock for long."""
        self._commit = commit
        self._max_group = max_group
        self._queue: list[_Ticket] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def submit(self, work):
        """Write `work` with whatever else is waiting; return its own result or raise its own error."""
        ticket = _Ticket(work)
        with self._queue_lock:
            self._queue.append(ticket)
        while not ticket.done:
            with self._leader:
                if ticket.done:  # committed by the group before ours
                    break
                with self._queue_lock:
                    group, self._queue = self._queue[:self._max_group], self._queue[self._max_group:]
                self._run(group)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    def _run(self, group: list[_Ticket]) -> None:
        """Commit a group; on a failure that is not the store's, retry each write alone to find its owner."""
        try:
            results = self._commit([ticket.work for ticket in group])
        except StorageError as exc:  # the store is unavailable: the same answer for everyone
            for ticket in group:
                ticket.error, ticket.done = exc, True
            return
        except Exception as exc:
            if len(group) == 1:
                group[0].error, group[0].done = exc, True
                return
            for ticket in group:  # one bad write must not fail the requests that shared its transaction
                self._run([ticket])
            return
        log.debug("group commit: %d writes in one transaction", len(group))
        for ticket, result in zip(group, results, strict=True):
            ticket.result, ticket.done = result, True

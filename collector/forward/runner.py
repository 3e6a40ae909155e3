"""`collector forward run`: lease due outbox rows, send them upstream, record what happened."""

from __future__ import annotations

import http.client
import logging
import signal
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from urllib.parse import urlsplit

from .. import metrics
from ..storage.leases import new_owner
from . import targets
from .policy import Health
from .policy import Outcome
from .policy import health
from .policy import held
from .policy import judge
from .targets import Delivery
from .targets import TargetKind

log = logging.getLogger("collector")


class Forwarder:
    """One forwarder process; several may drain the same store."""

    def __init__(self, storage, config: dict):
        """Take the forwarding settings; nothing is sent until run() or step()."""
        self.storage = storage
        self.batch = config["FORWARD_BATCH"]
        self.lease = float(config["FORWARD_LEASE_SECONDS"])
        self.max_age = config["FORWARD_MAX_AGE_HOURS"] * 3600.0
        self.timeout = float(config["FORWARD_TIMEOUT_SECONDS"])
        self.owner = new_owner()
        self.stopping = threading.Event()
        self.concurrency = config["FORWARD_CONCURRENCY"]
        self.pool = ThreadPoolExecutor(max_workers=self.concurrency)
        # Requests in flight per target: one after a start or a failure, doubling with each round of
        # successes up to the concurrency, so a failing upstream sees one request, not a burst.
        self._windows: dict[int, int] = {}
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []  # every connection, to close them all at the end

    def run(self, once: bool = False, idle: float = 0.5, signals: bool = True) -> None:
        """Drain until SIGTERM or SIGINT (or, with once, until nothing is due); then release what is held.

        Without `signals` the caller (the worker, running this in a thread) sets `stopping` itself.
        """
        if signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stopping.set())
        log.info("forwarder %s started", self.owner)
        try:
            while not self.stopping.is_set():
                if not self.step() and (once or self.stopping.wait(idle)):
                    break
        finally:
            released = self.storage.release(self.owner)
            self.close()
            log.info("forwarder %s stopped; released %d rows", self.owner, released)

    def close(self) -> None:
        """Stop the threads and close every upstream connection."""
        self.pool.shutdown(wait=True)
        for connection in self._opened:
            connection.close()

    def step(self) -> int:
        """Claim one batch of due rows, deliver it, record the outcomes and the targets' health; return how
        many rows it held."""
        rows = self.storage.claim(self.owner, self.batch, self.lease, time.time(), self.max_age)
        if rows:
            results, healths = [], {}
            # Rows come in outbox order, targets interleaved; one delivery round per target.
            for target_id, group in groupby(sorted(rows, key=lambda r: r["target_id"]), key=lambda r: r["target_id"]):
                group = list(group)
                outcomes = self._deliver(group)
                results.extend(outcomes)
                metrics.forwarded(group[0], [outcome for _, outcome in outcomes])
                after = health(group[0]["failures"], [outcome for _, outcome in outcomes])
                if after != Health() or group[0]["failures"] or group[0]["paused_until"] is not None:
                    healths[target_id] = after
                    if after.pause is not None:
                        log.warning("forward target=%s paused %.1fs: %s", target_id, after.pause, after.reason)
            self.storage.finish(self.owner, results, time.time(), healths)
        return len(rows)

    def _deliver(self, rows: list[dict]) -> list[tuple[int, Outcome]]:
        """Send one target's rows in requests of its kind's batch size, a window of them at once; after a
        failure the rest are held back for the next round."""
        started = time.monotonic()
        target = rows[0]
        kind = targets.get(target["kind"])
        if kind is None:  # a kind this version does not know (its module was removed): nothing can send it
            dead = Outcome("dead", error=f"unknown target kind {target['kind']!r}")
            return [(row["id"], dead) for row in rows]
        chunks, outcomes, halt = kind.requests(rows), [], threading.Event()

        def send(chunk: list[dict]) -> Outcome:
            """Send one request unless the round has failed already."""
            if halt.is_set():
                return held("held back: the target failed in this round")
            outcome = self._send(kind, chunk)
            if outcome.failed:
                halt.set()
            return outcome

        while len(outcomes) < len(chunks) and not halt.is_set():
            window = self._windows.get(target["target_id"], 1)
            # Waves while the window grows; at full width the rest streams through the pool.
            end = len(chunks) if window >= self.concurrency else len(outcomes) + window
            outcomes.extend(self.pool.map(send, chunks[len(outcomes):end]))
            self._windows[target["target_id"]] = 1 if halt.is_set() else min(2 * window, self.concurrency)
        outcomes.extend(held("held back: the target failed in this round") for _ in chunks[len(outcomes):])
        results = [(row["id"], outcome) for chunk, outcome in zip(chunks, outcomes, strict=True) for row in chunk]
        statuses = Counter(str(outcome.status or ("error" if outcome.sent else "held")) for _, outcome in results)
        log.info("forward target=%s kind=%s count=%d status=%s %.0fms", target["target_id"], target["kind"],
                 len(rows), ",".join(f"{s}x{n}" for s, n in sorted(statuses.items())),
                 (time.monotonic() - started) * 1000)
        return results

    def _send(self, kind: TargetKind, rows: list[dict]) -> Outcome:
        """Build and send one request of this kind; a row's failures so far set its back-off."""
        return self._request(min(row["attempts"] for row in rows), kind.build(rows))

    def _connection(self, origin: tuple[str, str], fresh: bool = False) -> http.client.HTTPConnection:
        """This thread's keep-alive connection to an upstream (http.client: measurably lighter than a pool)."""
        connections = self._local.__dict__.setdefault("connections", {})
        if fresh and origin in connections:
            connections.pop(origin).close()
        if origin not in connections:
            scheme, netloc = origin
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            connections[origin] = cls(netloc, timeout=self.timeout)
            self._opened.append(connections[origin])
        return connections[origin]

    def _request(self, attempts: int, delivery: Delivery) -> Outcome:
        """Send (POST, or the delivery's method) and judge the answer; connection errors and timeouts are
        retried later."""
        parts = urlsplit(delivery.url)
        origin, path = (parts.scheme, parts.netloc), parts.path + (f"?{parts.query}" if parts.query else "")
        for fresh in (False, True):
            # A kept-alive connection the upstream closed while idle fails at once: try once on a new one.
            connection = self._connection(origin, fresh)
            reused = connection.sock is not None
            try:
                connection.request(delivery.method, path, body=delivery.body, headers=delivery.headers)
                response = connection.getresponse()
                text = response.read()[:4096].decode("utf-8", "replace")
                return judge(attempts, response.status, text, response.getheader("Retry-After"))
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if fresh or not reused or isinstance(exc, TimeoutError):
                    return judge(attempts, None, error=f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

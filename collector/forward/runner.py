"""`collector forward run`: lease due outbox rows, send them upstream, record what happened."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import groupby
from urllib.parse import urlsplit

from ..clock import now_iso
from . import bodies
from .policy import Outcome
from .policy import judge
from .signing import sign

log = logging.getLogger("collector")

#: Most events in one webhook delivery.
WEBHOOK_BATCH = 100


class Forwarder:
    """One forwarder process; several may drain the same store."""

    def __init__(self, storage, config: dict):
        """Take the forwarding settings; nothing is sent until run() or step()."""
        self.storage = storage
        self.batch = config["FORWARD_BATCH"]
        self.lease = float(config["FORWARD_LEASE_SECONDS"])
        self.max_age = config["FORWARD_MAX_AGE_HOURS"] * 3600.0
        self.timeout = float(config["FORWARD_TIMEOUT_SECONDS"])
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.stopping = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=config["FORWARD_CONCURRENCY"])
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []  # every connection, to close them all at the end

    def run(self, once: bool = False, idle: float = 0.5) -> None:
        """Drain until SIGTERM or SIGINT (or, with once, until nothing is due); then release what is held."""
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
        """Claim one batch of due rows, deliver it, record the outcomes; return how many rows it held."""
        rows = self.storage.claim(self.owner, self.batch, self.lease, time.time(), self.max_age)
        if rows:
            results = []
            # Rows come in outbox order, targets interleaved; one delivery round per target.
            for _, group in groupby(sorted(rows, key=lambda r: r["target_id"]), key=lambda r: r["target_id"]):
                results.extend(self._deliver(list(group)))
            self.storage.finish(self.owner, results, time.time())
        return len(rows)

    def _deliver(self, rows: list[dict]) -> list[tuple[int, Outcome]]:
        """Send one target's rows: webhooks in signed batches, DataCue and Cobi one event per request."""
        started = time.monotonic()
        target = rows[0]
        if target["kind"] == "webhook":
            results = []
            for i in range(0, len(rows), WEBHOOK_BATCH):
                chunk = rows[i:i + WEBHOOK_BATCH]
                outcome = self._webhook(chunk)
                results.extend((row["id"], outcome) for row in chunk)
        else:
            outcomes = self.pool.map(self._single, rows)
            results = [(row["id"], outcome) for row, outcome in zip(rows, outcomes, strict=True)]
        statuses = Counter(str(outcome.status or "error") for _, outcome in results)
        log.info("forward target=%s kind=%s count=%d status=%s %.0fms", target["target_id"], target["kind"],
                 len(rows), ",".join(f"{s}x{n}" for s, n in sorted(statuses.items())),
                 (time.monotonic() - started) * 1000)
        return results

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

    def _post(self, attempts: int, url: str, body: bytes, headers: dict) -> Outcome:
        """POST and judge the answer; connection errors and timeouts are retried later."""
        parts = urlsplit(url)
        origin, path = (parts.scheme, parts.netloc), parts.path + (f"?{parts.query}" if parts.query else "")
        for fresh in (False, True):
            # A kept-alive connection the upstream closed while idle fails at once: try once on a new one.
            connection = self._connection(origin, fresh)
            reused = connection.sock is not None
            try:
                connection.request("POST", path, body=body, headers=headers)
                response = connection.getresponse()
                text = response.read()[:4096].decode("utf-8", "replace")
                return judge(attempts, response.status, text, response.getheader("Retry-After"))
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if fresh or not reused or isinstance(exc, TimeoutError):
                    return judge(attempts, None, error=f"{type(exc).__name__}: {exc}")
        raise AssertionError("unreachable")

    def _single(self, row: dict) -> Outcome:
        """Deliver one event to DataCue or Cobi as their docs define it."""
        event = json.loads(row["payload"])
        if row["kind"] == "datacue":
            url = row["url"].rstrip("/") + "/v1/events"
            body, auth = bodies.datacue(event), bodies.basic_auth(row["secret"])
        else:
            url = row["url"].rstrip("/") + "/user-interactions"
            body, auth = bodies.cobi(event), f"Bearer {row['secret']}"
        # Idempotency-Key is not in the DataCue or Cobi docs; it lets an upstream that knows it dedupe retries.
        headers = {"Content-Type": "application/json", "Authorization": auth, "Idempotency-Key": row["event_id"]}
        return self._post(row["attempts"], url, json.dumps(body).encode(), headers)

    def _webhook(self, rows: list[dict]) -> Outcome:
        """Deliver events as one Standard Webhooks message; its id is stable for the same events."""
        items = [bodies.webhook_item(json.loads(row["payload"])) for row in rows]
        body = json.dumps({"type": "events", "timestamp": now_iso(), "data": {"events": items}}).encode()
        ids = ",".join(sorted(item["event_id"] for item in items))
        message_id = "msg_" + hashlib.sha256(ids.encode()).hexdigest()[:32]
        timestamp = int(time.time())
        headers = {"Content-Type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(rows[0]["secret"], message_id, timestamp, body)}
        return self._post(min(row["attempts"] for row in rows), rows[0]["url"], body, headers)

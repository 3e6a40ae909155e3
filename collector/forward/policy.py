"""What to do after an attempt: delivered, retry later (and when), or dead."""

from __future__ import annotations

import random
from dataclasses import dataclass

BASE_SECONDS = 1.0
CAP_SECONDS = 600.0
#: How much of an upstream's error answer is kept on a dead row.
BODY_LIMIT = 2048


@dataclass(frozen=True)
class Outcome:
    """The verdict on one attempt."""

    state: str                 # delivered, pending (retry) or dead
    delay: float = 0.0         # seconds until the next attempt, for pending
    status: int | None = None  # the upstream's HTTP status, None when no answer came
    error: str | None = None   # why it failed: a bounded response body or the connection error


def backoff(attempts: int) -> float:
    """Full jitter: a random wait up to min(cap, base * 2^attempts)."""
    return random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2 ** min(attempts, 30)))


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are rare from APIs and ignored)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def judge(attempts: int, status: int | None, body: str = "", retry_after_header: str | None = None,
          error: str | None = None) -> Outcome:
    """Classify an attempt; `attempts` counts earlier failures of the row."""
    if status is None:
        return Outcome("pending", backoff(attempts), None, (error or "no answer")[:BODY_LIMIT])
    if 200 <= status < 300:
        return Outcome("delivered", status=status)
    if status in (429, 503):
        wait = retry_after(retry_after_header)
        return Outcome("pending", wait if wait is not None else backoff(attempts), status, body[:BODY_LIMIT])
    if status == 408 or status >= 500:
        return Outcome("pending", backoff(attempts), status, body[:BODY_LIMIT])
    return Outcome("dead", status=status, error=body[:BODY_LIMIT])

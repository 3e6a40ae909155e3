"""What to do after an attempt: delivered, retry later (and when), or dead."""

from __future__ import annotations

import random
from dataclasses import dataclass

BASE_SECONDS = 1.0
CAP_SECONDS = 600.0
#: A target's pauses: the first about a second, doubling, at most five minutes.
PAUSE_BASE_SECONDS = 0.5
PAUSE_CAP_SECONDS = 300.0
#: Consecutive failed rounds (no answer, 5xx, 408) that pause a target; a 429 or 503 pauses it at once.
FAILURE_RUN = 3
#: How much of an upstream's error answer is kept on a dead row.
BODY_LIMIT = 2048


@dataclass(frozen=True)
class Outcome:
    """The verdict on one attempt."""

    state: str                 # delivered, pending (retry) or dead
    delay: float = 0.0         # seconds until the next attempt, for pending
    status: int | None = None  # the upstream's HTTP status, None when no answer came
    error: str | None = None   # why it failed: a bounded response body or the connection error
    sent: bool = True          # False: held back because its target paused; no attempt is counted
    retry_after: float | None = None  # the seconds a 429 or 503 asked for

    @property
    def failed(self) -> bool:
        """Whether the upstream failed (and the row will be retried), rather than answered or refused it."""
        return self.sent and self.state == "pending"

    @property
    def throttled(self) -> bool:
        """Whether the upstream asked to be left alone for a while (429, 503)."""
        return self.status in (429, 503)


@dataclass(frozen=True)
class Health:
    """A target's health after a round: consecutive failed rounds, and the pause (seconds) with its reason."""

    failures: int = 0
    pause: float | None = None
    reason: str | None = None


def backoff(attempts: int) -> float:
    """Full jitter: a random wait up to min(cap, base * 2^attempts)."""
    return random.uniform(0, min(CAP_SECONDS, BASE_SECONDS * 2 ** min(attempts, 30)))


def pause(failures: int) -> float:
    """A target's pause after its n-th failed round: exponential, capped, half of it jittered (so that
    targets paused together do not come back together, yet never almost at once)."""
    ceiling = min(PAUSE_CAP_SECONDS, PAUSE_BASE_SECONDS * 2 ** min(failures, 30))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def health(failures: int, outcomes: list[Outcome]) -> Health:
    """A target's health after a round of outcomes, from its consecutive failed rounds before it: a round
    with a failure counts one more, a 429 or 503 pauses the target for what it asked (or the back-off),
    a run of FAILURE_RUN failed rounds pauses it for the back-off; a round without a failure clears it."""
    failed = [outcome for outcome in outcomes if outcome.failed]
    if not failed:
        return Health()
    failures += 1
    throttled = [outcome for outcome in failed if outcome.throttled]
    if throttled:
        asked = [outcome.retry_after for outcome in throttled if outcome.retry_after is not None]
        wait = max(asked) if asked else pause(failures)
        return Health(failures, wait, f"{throttled[0].status}, " + (
            f"Retry-After {max(asked):g} s" if asked else f"back-off {wait:.1f} s"))
    if failures >= FAILURE_RUN:
        last = failed[-1]
        why = f"status {last.status}" if last.status else (last.error or "no answer")[:200]
        return Health(failures, pause(failures), f"{failures} failed rounds, last: {why}")
    return Health(failures)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are rare from APIs and ignored)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def held(reason: str) -> Outcome:
    """The outcome of a row not sent because its target paused in this round: due again, no attempt counted."""
    return Outcome("pending", status=None, error=reason, sent=False)


def judge(attempts: int, status: int | None, body: str = "", retry_after_header: str | None = None,
          error: str | None = None) -> Outcome:
    """Classify an attempt; `attempts` counts earlier failures of the row."""
    if status is None:
        return Outcome("pending", backoff(attempts), None, (error or "no answer")[:BODY_LIMIT])
    if 200 <= status < 300:
        return Outcome("delivered", status=status)
    if status in (429, 503):
        wait = retry_after(retry_after_header)
        return Outcome("pending", wait if wait is not None else backoff(attempts), status, body[:BODY_LIMIT],
                       retry_after=wait)
    if status == 408 or status >= 500:
        return Outcome("pending", backoff(attempts), status, body[:BODY_LIMIT])
    return Outcome("dead", status=status, error=body[:BODY_LIMIT])

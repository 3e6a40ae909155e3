"""What a forward target kind says about itself: what it takes, how it sends, what credential it needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Delivery:
    """One request to an upstream: where, what, with which headers and method (a POST unless said)."""

    url: str
    body: bytes
    headers: dict[str, str]
    method: str = "POST"


@dataclass(frozen=True)
class Credential:
    """The secret a kind sends with (an upstream key, a token, a signing secret) and its CLI option."""

    #: The option of `collector forward add` that takes it, e.g. `--upstream-key`.
    option: str
    help: str
    #: Makes one when the option is omitted (webhooks sign with a secret the collector makes), else required.
    generate: Callable[[], str] | None = None
    #: Printed on stderr with a credential that was made, so it can be given to the receiver.
    announce: str = ""


def one_event(rows: list[dict], path: str, body: Callable[[dict], dict], authorization: str) -> Delivery:
    """The request of an API that takes one event per call: JSON `body(event)` posted to the target's URL + path."""
    [row] = rows
    # Idempotency-Key is not in the DataCue or Cobi docs; it lets an upstream that knows it dedupe retries.
    return Delivery(url=row["url"].rstrip("/") + path, body=json.dumps(body(json.loads(row["payload"]))).encode(),
                    headers={"Content-Type": "application/json", "Authorization": authorization,
                             "Idempotency-Key": row["event_id"]})


def events_only(event: dict) -> bool:
    """The filter of a kind that takes every event (browser and interaction events), not reference records."""
    return event["source"] in EVENT_SOURCES


#: The outbox sources that are events; the others (`cobi-data`) are versions of reference records.
EVENT_SOURCES = ("datacue", "cobi", "segment")


@dataclass(frozen=True)
class TargetKind:
    """A kind of forward target. Each module under forward/targets/ defines one; the registry holds them.

    `build` gets outbox rows of one target (`event_id`, `source`, `payload` as the outbox keeps it,
    `attempts`, `url`, `secret`), one request's worth (`requests`), and returns the request that delivers them.
    """

    name: str
    #: Help for the option `--NAME URL` of `collector forward add`.
    url_help: str
    credential: Credential
    build: Callable[[list[dict]], Delivery]
    #: Whether a target of this kind takes an event (the event's outbox row is written only if so).
    wants: Callable[[dict], bool] = events_only
    #: Most events in one request: 1 for APIs that take one event per call, sent concurrently.
    batch: int = 1
    #: Which rows may share a request and how many: (lane, most rows) for an outbox row; None: all
    #: rows share one lane of `batch` (a kind taking events one at a time and records by the thousand).
    lane: Callable[[dict], tuple[str, int]] | None = None

    def requests(self, rows: list[dict]) -> list[list[dict]]:
        """Split one target's claimed rows into the groups each request carries, in outbox order."""
        lanes: dict[str, tuple[int, list[dict]]] = {}
        for row in rows:
            name, size = self.lane(row) if self.lane else ("", self.batch)
            lanes.setdefault(name, (size, []))[1].append(row)
        return [members[i:i + size] for size, members in lanes.values() for i in range(0, len(members), size)]

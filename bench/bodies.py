"""The bodies the benchmark sends, the same shapes as bench/wrk/post.lua builds, with unique event ids."""

from __future__ import annotations

import itertools
import json

SIZES = {"single": 1, "batch10": 10, "batch100": 100, "cobi": 1}
_counter = itertools.count(1)


def _uuid(run: int) -> str:
    """A UUID v4 from (run, counter): unique within and across runs, cheap to make."""
    n = next(_counter)
    return f"{run:08x}-ffff-4000-8000-{n:012x}"


def _event(run: int) -> dict:
    """A small DataCue search event."""
    n = next(_counter)
    return {"event_id": _uuid(run), "user": {"anonymous_id": f"a{n}"},
            "event": {"type": "search", "term": f"t{n % 97}"},
            "context": {"session_id": f"s{n % 1000}", "page_url": "https://shop.example/search?q=t"}}


def body(kind: str, run: int) -> tuple[str, bytes, list[str]]:
    """The path, JSON body and event ids of one request of this kind."""
    if kind == "cobi":
        record = {"event_id": _uuid(run), "interaction_type": "PAGE_VIEW", "item_type": "SHOP",
                  "item_id": "550e8400-e29b-41d4-a716-446655440000", "event_timestamp": "2026-11-20T10:00:00Z"}
        return "/user-interactions", json.dumps(record).encode(), [record["event_id"]]
    events = [_event(run) for _ in range(SIZES[kind])]
    document = events[0] if kind == "single" else {"events": events}
    return "/v1/events", json.dumps(document).encode(), [event["event_id"] for event in events]

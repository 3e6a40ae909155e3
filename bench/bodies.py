"""The bodies the benchmark sends, the same shapes as bench/wrk/post.lua builds, with unique event ids."""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import random

#: Events (or records) per request of each load.
SIZES = {"single": 1, "batch10": 10, "batch100": 100, "cobi": 1, "segment": 1, "segment100": 100, "data5000": 5000,
         "home": 1, "product": 1, "click": 1}
#: The loads of `./dev bench` (bench/ingest.py), in the order of its table.
BENCH_LOADS = ("single", "batch10", "batch100", "cobi", "segment100", "data5000", "product")
#: The Data API load's transaction, all but its id: bench/ingest.py sets it (a transaction of the shop it loads).
TRANSACTION: dict = {}
#: The generated shop the page loads name (bench/recommendations_bench.py): products p0.., visitors v0...
SHOP = {"products": 100_000, "visitors": 100_000}
_counter = itertools.count(1)
_draws = random.Random(11)


@functools.lru_cache(maxsize=4)
def popularity(products: int) -> list[float]:
    """Cumulative weights of products p0.. (the n-th most popular is viewed 1/n^0.9 as often as the first,
    as a shop's long tail), for random.choices: the generated history and the page loads share them."""
    return list(itertools.accumulate(1.0 / (n + 1) ** 0.9 for n in range(products)))


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


def _segment_message(run: int) -> dict:
    """The same search as a Segment message, as analytics.js sends it."""
    n = next(_counter)
    return {"type": "track", "event": "Products Searched", "messageId": _uuid(run), "anonymousId": f"a{n}",
            "properties": {"query": f"t{n % 97}"}, "timestamp": "2026-11-20T10:00:00.000Z",
            "sentAt": "2026-11-20T10:00:00.100Z",
            "context": {"library": {"name": "analytics.js", "version": "next-1.84.3"},
                        "page": {"url": "https://shop.example/search?q=t", "path": "/search"}}}


def _page(kind: str, run: int) -> dict:
    """A home or product page view of the generated shop by one of its visitors, or a product click (an
    event that loads no page, answered 204: the plain event the page views compare with)."""
    n = next(_counter)
    user = {"anonymous_id": f"v{(n * 7919) % SHOP['visitors']}"}
    weights = popularity(SHOP["products"])
    product = f"p{bisect.bisect(weights, _draws.random() * weights[-1])}"  # as popular as in the history
    event = {"home": {"type": "pageview", "subtype": "home"},
             "product": {"type": "pageview", "subtype": "product", "product_id": product},
             "click": {"type": "click", "subtype": "product", "product_id": product}}[kind]
    return {"event_id": _uuid(run), "user": user, "event": event,
            "context": {"session_id": f"s{n % 1000}", "page_url": "https://shop.example/"}}


def body(kind: str, run: int) -> tuple[str, bytes, list[str]]:
    """The path, JSON body and event ids of one request of this kind."""
    if kind in ("home", "product", "click"):
        event = _page(kind, run)
        return "/v1/events", json.dumps(event).encode(), [event["event_id"]]
    if kind in ("segment", "segment100"):
        messages = [_segment_message(run) for _ in range(SIZES[kind])]
        document, path = (messages[0], "/segment/v1/t") if kind == "segment" else ({"batch": messages},
                                                                                  "/segment/v1/batch")
        return path, json.dumps(document).encode(), [m["messageId"] for m in messages]
    if kind == "data5000":
        records = [{**TRANSACTION, "transaction_id": _uuid(run)} for _ in range(SIZES[kind])]
        return "/v1/data/transactions", json.dumps({"records": records}).encode(), [
            r["transaction_id"] for r in records]
    if kind == "cobi":
        record = {"event_id": _uuid(run), "interaction_type": "PAGE_VIEW", "item_type": "SHOP",
                  "item_id": "550e8400-e29b-41d4-a716-446655440000", "event_timestamp": "2026-11-20T10:00:00Z"}
        return "/user-interactions", json.dumps(record).encode(), [record["event_id"]]
    events = [_event(run) for _ in range(SIZES[kind])]
    document = events[0] if kind == "single" else {"events": events}
    return "/v1/events", json.dumps(document).encode(), [event["event_id"] for event in events]

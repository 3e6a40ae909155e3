"""The analysts' fixture dataset: a few visitors' sessions on a live and a test key, with known answers."""

from __future__ import annotations

from collections.abc import Iterator

from .factories import basic
from .factories import bearer
from .factories import make_interaction
from .factories import new_id
from .factories import stored_status

LINES_O1 = [{"product_id": "p1", "quantity": 2, "unit_price": 10, "currency": "USD"},
            {"product_id": "p2", "quantity": 1, "unit_price": 5, "currency": "USD"}]
LINES_O2 = [{"product_id": "p3", "quantity": 1, "unit_price": 7, "currency": "EUR"}]

#: (key name, time, visitor, session id or None, user id or None, event)
DATASET = [
    ("live", "2026-11-20T10:00:00", "a1", "s1", None, {"type": "pageview", "subtype": "home"}),
    ("live", "2026-11-20T10:01:00", "a1", "s1", None, {"type": "pageview", "subtype": "product", "product_id": "p1"}),
    ("live", "2026-11-20T10:02:00", "a1", "s1", None, {"type": "viewcart", "cart": LINES_O1}),
    ("live", "2026-11-20T10:03:00", "a1", "s1", None, {"type": "order", "subtype": "started", "order_id": "o1",
                                                       "cart": LINES_O1}),
    ("live", "2026-11-20T10:04:00", "a1", "s1", "u1", {"type": "order", "subtype": "completed", "order_id": "o1",
                                                       "cart": LINES_O1}),
    ("live", "2026-11-20T10:05:00", "a1", "s1", "u1", {"type": "search", "term": "lamp"}),
    ("live", "2026-11-20T10:05:30", "a1", "s1", "u1", {"type": "wishlist", "subtype": "add", "product_id": "p1"}),
    ("live", "2026-11-20T10:05:40", "a1", "s1", "u1", {"type": "wishlist", "subtype": "add", "product_id": "p2"}),
    ("live", "2026-11-20T10:05:50", "a1", "s1", "u1", {"type": "wishlist", "subtype": "remove", "product_id": "p1"}),
    ("live", "2026-11-20T11:00:00", "a1", "s1", "u1", {"type": "search", "term": "sofa"}),
    ("live", "2026-11-20T11:01:00", "a1", "s1", "u1", {"type": "pageview", "subtype": "product", "product_id": "p2"}),
    ("live", "2026-11-20T12:00:30", "b1", None, None, {"type": "click", "subtype": "banner", "banner_id": "b1"}),
    ("live", "2026-11-20T12:09:00", "b1", None, None, {"type": "click", "subtype": "product", "product_id": "p2"}),
    ("live", "2026-11-20T12:00:00", "b1", None, None, {"type": "pageview", "subtype": "home"}),
    ("live", "2026-11-20T12:10:00", "b1", None, None, {"type": "pageview", "subtype": "product", "product_id": "p2"}),
    ("live", "2026-11-20T13:00:00", "b1", None, None, {"type": "pageview", "subtype": "home"}),  # 50 min later
    ("live", "2026-11-20T13:05:00", "b1", None, None, {"type": "order", "subtype": "started", "order_id": "o2",
                                                       "cart": LINES_O2}),
    ("live", "2026-11-20T13:06:00", "b1", None, None, {"type": "order", "subtype": "completed", "order_id": "o2",
                                                       "cart": LINES_O2}),
    ("live", "2026-11-20T13:20:00", "b1", None, None, {"type": "order", "subtype": "cancelled", "order_id": "o2"}),
    ("live", "2026-11-21T09:00:00", "c1", "s3", None, {"type": "pageview", "subtype": "home"}),
    ("live", "2026-11-21T09:02:00", "c1", "s3", None, {"type": "order", "subtype": "started", "order_id": "o3",
                                                       "cart": LINES_O2}),
    ("test", "2026-11-20T10:00:00", "t1", "st", None, {"type": "pageview", "subtype": "home"}),
    ("test", "2026-11-20T10:01:00", "t1", "st", None, {"type": "order", "subtype": "completed", "order_id": "o1",
                                                       "cart": [{"product_id": "p9", "quantity": 1,
                                                                 "unit_price": 99, "currency": "USD"}]}),
]
#: A desktop Chrome's user agent: the dataset's visitors are people.
BROWSER = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
           "Safari/537.36")
INTERACTIONS = [("2026-11-20T10:06:00", "FILTER_CLICK", "TAG"), ("2026-11-20T10:07:00", "PAGE_VIEW", "SHOP")]


def dataset_requests(live: str, test: str | None = None) -> Iterator[tuple[str, dict, dict, int]]:
    """Every request that sends the dataset, as (path, body, headers, expected status); the test key's
    events only when a test key is given."""
    for key_name, moment, visitor, session, user, event in DATASET:
        key = live if key_name == "live" else test
        if key is None:
            continue
        # The visitor's browser, whatever client posts it (a test's HTTP library would be taken for a bot).
        context = {"user_agent": BROWSER, **({"session_id": session} if session else {})}
        body = {"event_id": new_id(), "user": {"anonymous_id": visitor, "user_id": user}, "event": event,
                "timestamp": moment + "Z", "context": context}
        yield "/v1/events", body, basic(key), stored_status(body)
    for moment, interaction, item in INTERACTIONS:
        record = make_interaction(interaction_type=interaction, item_type=item, event_timestamp=moment + "Z",
                                  anonymous_id="a1", context={"session_id": "s1", "user_agent": BROWSER})
        yield "/user-interactions", record, bearer(live), 201

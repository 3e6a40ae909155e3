"""The analyst views, against a fixture dataset whose answers this test computes on its own."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from collector import keys

from conftest import basic
from conftest import bearer
from conftest import make_interaction
from conftest import new_id

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
INTERACTIONS = [("2026-11-20T10:06:00", "FILTER_CLICK", "TAG"), ("2026-11-20T10:07:00", "PAGE_VIEW", "SHOP")]


@pytest.fixture
def dataset(client, storage):
    """Send the dataset through the public API; return the live and test keys."""
    live = keys.create_key(storage, "shop", [])
    test = keys.create_key(storage, "staging", [], test=True)
    for key_name, moment, visitor, session, user, event in DATASET:
        body = {"event_id": new_id(), "user": {"anonymous_id": visitor, "user_id": user}, "event": event,
                "timestamp": moment + "Z", "context": {"session_id": session} if session else {}}
        key = live if key_name == "live" else test
        assert client.post("/v1/events", json=body, headers=basic(key)).status_code == 204
    for moment, interaction, item in INTERACTIONS:
        record = make_interaction(interaction_type=interaction, item_type=item, event_timestamp=moment + "Z",
                                  anonymous_id="a1", context={"session_id": "s1"})
        assert client.post("/user-interactions", json=record, headers=bearer(live)).status_code == 201
    return {"live": live, "test": test}


def _expected_sessions():
    """Sessions computed here: the session id, or a new one after 30 minutes without an event."""
    sessions, last = defaultdict(list), {}
    counter = defaultdict(int)
    for key_name, moment, visitor, session, _user, event in DATASET:
        if session is None:
            now = datetime.fromisoformat(moment)
            if visitor not in last or (now - last[visitor]).total_seconds() > 1800:
                counter[visitor] += 1
            last[visitor] = now
            session = f"{visitor}#{counter[visitor]}"
        sessions[(key_name, session)].append(event)
    for _ in INTERACTIONS:  # the interactions were sent in session s1
        sessions[("live", "s1")].append({"type": "interaction"})
    return sessions


def test_orders_show_status_after_cancellation_and_never_mix_modes(db, dataset):
    rows = db("SELECT key, mode, order_id, status, revenue, currency FROM orders ORDER BY mode, order_id")
    revenue = {"o1": sum(line["quantity"] * line["unit_price"] for line in LINES_O1),
               "o2": sum(line["quantity"] * line["unit_price"] for line in LINES_O2)}
    assert [(r["mode"], r["order_id"], r["status"], r["revenue"], r["currency"]) for r in rows] == [
        ("live", "o1", "completed", revenue["o1"], "USD"),
        ("live", "o2", "cancelled", revenue["o2"], "EUR"),
        ("live", "o3", "started", None, None),
        ("test", "o1", "completed", 99.0, "USD"),
    ]


def test_order_lines(db, dataset):
    rows = db("SELECT order_id, product_id, quantity, unit_price FROM order_lines WHERE mode = 'live' "
              "ORDER BY order_id, line_no")
    expected = [("o1", line["product_id"], line["quantity"], line["unit_price"]) for line in LINES_O1] + [
        ("o2", line["product_id"], line["quantity"], line["unit_price"]) for line in LINES_O2]
    assert [(r["order_id"], r["product_id"], r["quantity"], r["unit_price"]) for r in rows] == expected


def test_simple_views(db, dataset):
    live = [row for row in DATASET if row[0] == "live"]
    assert db("SELECT count(*) AS n FROM pageviews WHERE mode = 'live'")[0]["n"] == sum(
        row[5]["type"] == "pageview" for row in live)
    assert [r["product_id"] for r in db("SELECT product_id FROM product_views ORDER BY event_time")] == [
        row[5]["product_id"] for row in live if (row[5]["type"], row[5].get("subtype")) == ("pageview", "product")]
    assert [r["term"] for r in db("SELECT term FROM searches ORDER BY event_time")] == [
        row[5]["term"] for row in live if row[5]["type"] == "search"]
    [cart] = db("SELECT lines, items FROM carts")
    assert (cart["lines"], cart["items"]) == (len(LINES_O1), sum(line["quantity"] for line in LINES_O1))
    assert sorted((r["interaction_type"], r["item_type"]) for r in db("SELECT * FROM interactions")) == sorted(
        (interaction, item) for _, interaction, item in INTERACTIONS)
    assert db("SELECT anonymous_id, user_id, events FROM identities") == [
        {"anonymous_id": "a1", "user_id": "u1", "events": sum(row[4] == "u1" for row in DATASET)}]


def test_sessions(db, dataset):
    expected = _expected_sessions()
    rows = db("SELECT mode, session_id, events, pageviews, ordered FROM sessions ORDER BY mode, session_id")
    got = {(r["mode"], r["session_id"]): (r["events"], r["pageviews"], r["ordered"]) for r in rows}
    assert got == {
        key: (len(events), sum(e["type"] == "pageview" for e in events),
              int(any(e["type"] == "order" and e.get("subtype") == "completed" for e in events)))
        for key, events in expected.items()
    }
    assert ("live", "b1#2") in got  # b1 came back after 50 minutes: a second session


def test_daily_funnel(db, dataset):
    expected = defaultdict(lambda: defaultdict(set))
    steps = {("pageview", "home"): "home", ("pageview", "product"): "product", ("viewcart", None): "cart",
             ("order", "started"): "checkout", ("order", "completed"): "purchase"}
    for key_name, moment, visitor, session, _user, event in DATASET:
        step = steps.get((event["type"], event.get("subtype")))
        if step:
            expected[(key_name, moment[:10])][step].add(session or visitor)
    rows = db("SELECT mode, day, home, product, cart, checkout, purchase FROM daily_funnel ORDER BY mode, day")
    assert {(r["mode"], r["day"]): tuple(r[s] for s in ("home", "product", "cart", "checkout", "purchase"))
            for r in rows} == {
        key: tuple(len(visits[s]) for s in ("home", "product", "cart", "checkout", "purchase"))
        for key, visits in expected.items()}


def test_the_schema_docs_examples_run(storage, dataset):
    text = (Path(__file__).resolve().parent.parent / "docs" / "schema.md").read_text()
    examples = text.split("```sql", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in examples.split(";") if s.strip()]
    assert len(statements) == 2
    revenue = storage.query(statements[0])[1]
    assert [(day, currency, float(total)) for day, currency, total in revenue] == [("2026-11-20", "USD", 25.0)]
    unanswered = storage.query(statements[1])[1]
    assert [(term, int(n)) for term, n in unanswered] == [("lamp", 1)]

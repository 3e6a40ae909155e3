"""The analyst views, against a fixture dataset whose answers this test computes on its own."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from pathlib import Path

from collector.access import server_keys
from collector.analytics.store import open_analytics

from support.datacue_backend import PRODUCT
from support.datacue_backend import USER
from support.datacue_backend import send
from support.dataset import DATASET
from support.dataset import INTERACTIONS
from support.dataset import LINES_O1
from support.dataset import LINES_O2


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


def test_the_schema_docs_examples_run(client, storage, dataset, key, secret):
    from support.factories import bearer
    from support.factories import make_interaction
    from support.records import EXAMPLES
    from support.records import OFFER
    from support.records import upload

    text = (Path(__file__).resolve().parent.parent / "docs" / "schema.md").read_text()
    examples = text.split("```sql", 1)[1].split("```", 1)[0]
    statements = [s.strip() for s in examples.split(";") if s.strip()]
    assert len(statements) == 7
    for type_name in ("shops", "offers"):
        assert upload(client, secret, type_name, [EXAMPLES[type_name]]).status_code == 200
    interaction = make_interaction(item_type="OFFER", item_id=OFFER, interaction_type="DISCOUNT_CODE")
    assert client.post("/user-interactions", json=interaction, headers=bearer(key)).status_code == 201
    assert storage.query(statements[0])[1] == [("DISCOUNT_CODE", "10% off textbooks", "Campus Bookstore", 1)]
    assert len(storage.query(statements[1])[1]) == 1
    revenue = storage.query(statements[2])[1]
    assert [(day, currency, float(total)) for day, currency, total in revenue] == [("2026-11-20", "USD", 25.0)]
    unanswered = storage.query(statements[5])[1]
    assert [(term, int(n)) for term, n in unanswered] == [("lamp", 1)]
    # The live visits: session s1, b1's two (an hour apart, no session) and s3, from a desktop, no referrer.
    open_analytics(storage).refresh_visits()
    assert [(source, device, int(n), float(rate)) for source, device, n, rate in storage.query(statements[6])[1]] \
        == [("Direct / None", "Desktop", 4, 0.0)]
    shop, shop_secret = dataset["live"], server_keys.create_server_key(storage, dataset["live"])
    for variant in ("v1", "v2"):  # two variants: the product still counts its views once
        assert send(client, shop, shop_secret, "POST", "/v1/products", {**PRODUCT, "variant_id": variant}) \
            .status_code == 201
    assert send(client, shop, shop_secret, "POST", "/v1/users", USER).status_code == 201
    views = dict(storage.query("SELECT product_id, count(*) FROM product_views WHERE mode = 'live' "
                               "GROUP BY product_id")[1])
    named = {row[0]: row[1:] for row in storage.query(statements[3])[1]}
    assert set(named) == set(views) and {p: int(row[-1]) for p, row in named.items()} == views
    assert named["p1"][:3] == ("cool jeans", "zara", 25000.0) and named["p2"][0] is None
    completed = storage.query("SELECT count(*) FROM orders WHERE mode = 'live' AND user_id = 'u1' "
                              "AND status = 'completed'")[1][0][0]
    assert [tuple(r) for r in storage.query(statements[4])[1]] == [("u1", "xyz@abc.com", "santiago", completed)]

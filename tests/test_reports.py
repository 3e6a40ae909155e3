"""Every report, against the views' fixture dataset, with the answers computed here on their own."""

from __future__ import annotations

import json
from collections import Counter
from collections import defaultdict
from datetime import UTC
from datetime import datetime

import pytest

from collector.analytics.store import open_analytics
from collector.reports import registry

from support.dataset import DATASET
from support.dataset import INTERACTIONS
from support.dataset import LINES_O1
from support.factories import make_event
from support.factories import post_event

SINCE, UNTIL = "2026-11-19T00:00:00.000Z", "2026-11-22T00:00:00.000Z"
LIVE = [row for row in DATASET if row[0] == "live"]


def run(storage, name, since=SINCE, until=UNTIL, mode="live"):
    """The report's rows as dicts."""
    columns, rows = registry.run(open_analytics(storage), name, since, until, mode)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_funnel(storage, dataset):
    # Sessions doing product view, cart, order started and order completed in order: a1's s1 does all four;
    # b1 (no session id) views p2 at 12:10 and orders from 13:05, 55 minutes later, in another visit, without
    # viewing a product there; c1 starts an order without a product view.
    rows = run(storage, "funnel")
    assert [(r["step"], r["count"]) for r in rows] == [
        ("product view", 2), ("cart", 1), ("order started", 1), ("order completed", 1)]
    assert [r["from_previous"] for r in rows] == [1.0, 0.5, 1.0, 1.0]
    assert [r["from_start"] for r in rows] == [1.0, 0.5, 0.5, 0.5]
    assert [r["dropped"] for r in rows] == [0, 1, 0, 0]
    assert [r["median_seconds"] for r in rows] == [None, 60.0, 60.0, 60.0]


def test_revenue_counts_only_orders_not_cancelled(storage, dataset):
    revenue = sum(line["quantity"] * line["unit_price"] for line in LINES_O1)
    assert [(r["day"], r["currency"], int(r["orders"]), float(r["revenue"])) for r in run(storage, "revenue")] == [
        ("2026-11-20", "USD", 1, revenue)]  # o2 was cancelled, o3 never completed
    assert [float(r["revenue"]) for r in run(storage, "revenue", mode="test")] == [99.0]


def test_products(storage, dataset):
    views = Counter(row[5]["product_id"] for row in LIVE if row[5].get("subtype") == "product"
                    and row[5]["type"] == "pageview")
    carted = Counter()
    for row in LIVE:
        if row[5]["type"] == "viewcart":
            for line in row[5]["cart"]:
                carted[line["product_id"]] += line.get("quantity", 1)
    bought = Counter({line["product_id"]: line["quantity"] for line in LINES_O1})  # only o1 stands
    got = {r["product_id"]: (int(r["views"]), int(r["carted"]), int(r["bought"])) for r in run(storage, "products")}
    products = set(views) | set(carted) | set(bought)
    assert got == {p: (views[p], carted[p], bought[p]) for p in products}
    rates = {r["product_id"]: r["cart_to_purchase"] for r in run(storage, "products")}
    assert rates == {p: round(100 * bought[p] / carted[p], 1) if carted[p] else None for p in products}


def test_searches_and_those_without_a_product_view(storage, dataset):
    rows = {r["term"]: (int(r["searches"]), int(r["no_product_view"])) for r in run(storage, "searches")}
    # In s1: "lamp", then "sofa", then a product view: only "sofa" led to a product.
    assert rows == {"lamp": (1, 1), "sofa": (1, 0)}


def test_wishlist(storage, dataset):
    expected = defaultdict(lambda: [0, 0])
    for row in LIVE:
        if row[5]["type"] == "wishlist":
            expected[row[5]["product_id"]][row[5]["subtype"] == "remove"] += 1
    assert {r["product_id"]: [int(r["adds"]), int(r["removes"])] for r in run(storage, "wishlist")} == expected


def test_clicks(storage, dataset):
    pageviews = sum(row[5]["type"] == "pageview" for row in LIVE)
    rows = run(storage, "clicks")
    assert [(r["kind"], r["id"], int(r["clicks"])) for r in rows] == [("banner", "b1", 1), ("product", "p2", 1)]
    assert float(rows[0]["per_100_pageviews"]) == round(100 / pageviews, 2)


def test_interactions_and_items(storage, dataset):
    rows = run(storage, "interactions")
    assert sorted((r["item_type"], r["interaction_type"], int(r["interactions"])) for r in rows) == sorted(
        (item, interaction, 1) for _, interaction, item in INTERACTIONS)
    items = run(storage, "items")
    assert sum(int(r["interactions"]) for r in items) == len(INTERACTIONS)


def test_events_per_day(storage, dataset):
    expected = Counter((row[1][:10], row[5]["type"]) for row in LIVE)
    expected.update(("2026-11-20", "interaction") for _ in INTERACTIONS)
    assert {(r["day"], r["type"]): int(r["events"]) for r in run(storage, "events")} == expected


def test_rejected_by_reason(client, storage, dataset):
    client.post(f"/v1/events?key={dataset['live']}", json={"user": {}, "event": {"type": "login"}})
    client.post(f"/v1/events?key={dataset['live']}", data=b"{not json", content_type="application/json")
    now = registry.parse_moment("1m")
    rows = run(storage, "rejected", since=registry.parse_moment("1d"), until="2100-01-01T00:00:00.000Z")
    assert sorted((r["reason"], int(r["rejected"])) for r in rows) == [("invalid_event", 1), ("malformed_json", 1)]
    assert all(r["last_seen"] >= now for r in rows)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-11-20", "2026-11-20T00:00:00.000Z"),
    ("2026-11-20T10:30:00Z", "2026-11-20T10:30:00.000Z"),
])
def test_period_bounds(text, expected):
    assert registry.parse_moment(text) == expected


def test_relative_period_bounds():
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert registry.parse_moment("7d", now) == "2026-11-17T12:00:00.000Z"
    assert registry.parse_moment("12h", now) == "2026-11-24T00:00:00.000Z"
    with pytest.raises(ValueError, match="not a period bound"):
        registry.parse_moment("last week", now)


def test_report_command(cli, dataset):
    out = cli("report", "revenue", "--since", "2026-11-19", "--until", "2026-11-22", "--format", "json")
    assert json.loads(out.stdout)[0]["currency"] == "USD"
    assert "Completed orders" in out.stderr
    bad = cli("report", "revenue", "--since", "last week", check=False)
    assert bad.returncode == 2 and "not a period bound" in bad.stderr


def test_items_are_named_once_the_data_api_sent_them(client, storage, key, secret):
    from support.factories import bearer
    from support.factories import make_interaction
    from support.records import EXAMPLES
    from support.records import SHOP
    from support.records import TAG
    from support.records import upload

    for item_type, item_id in (("SHOP", SHOP), ("TAG", TAG), ("SHOP", SHOP)):
        interaction = make_interaction(item_type=item_type, item_id=item_id, event_timestamp="2026-11-20T10:00:00Z")
        assert client.post("/user-interactions", json=interaction, headers=bearer(key)).status_code == 201
    assert [r["name"] for r in run(storage, "items")] == [None, None]
    upload(client, secret, "shops", [EXAMPLES["shops"]])
    upload(client, secret, "tags", [EXAMPLES["tags"]])
    assert [(r["item_type"], r["name"], int(r["interactions"])) for r in run(storage, "items")] == [
        ("SHOP", "Campus Bookstore", 2), ("TAG", "Student Discount", 1)]


def test_revenue_of_a_day_with_an_order_of_mixed_currencies(client, key, storage):
    """An order whose lines mix currencies has no currency: its day's rows still sort (it comes first)."""
    usd = [{"product_id": "a", "unit_price": 2, "quantity": 1, "currency": "USD"}]
    mixed = [{"product_id": "a", "unit_price": 1, "quantity": 1, "currency": "USD"},
             {"product_id": "b", "unit_price": 1, "quantity": 1, "currency": "EUR"}]
    post_event(client, key, make_event("order", "completed", order_id="o-usd", cart=usd))
    post_event(client, key, make_event("order", "completed", order_id="o-mixed", cart=mixed))
    columns, rows = registry.run(open_analytics(storage), "revenue", registry.parse_moment("1d"),
                                 "2100-01-01T00:00:00.000Z")
    assert [(row[columns.index("currency")], int(row[columns.index("orders")])) for row in rows] == [
        (None, 1), ("USD", 1)]

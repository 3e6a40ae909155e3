"""What recommendations earn, on both backends: the holdout group drawn and answered plainly, and the
recommendations and holdout reports against figures computed here by hand."""

from __future__ import annotations

import math
import random
import statistics
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from collector.analytics.store import open_analytics
from collector.recommendations.sites import SiteSettings
from collector.recommendations.sites import held_out
from collector.recommendations.sites import set_site_settings
from collector.recommendations.upkeep import keep_up
from collector.reports import registry

from support.datacue_backend import send
from support.factories import basic
from support.factories import make_event
from support.factories import new_id
from support.factories import post_event

NOW = datetime.now(UTC).replace(microsecond=0)


def _at(minutes_ago: float) -> str:
    """An event time this many minutes ago."""
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def _report(storage, name: str) -> list[dict]:
    """A report over the last day, rows as dicts."""
    since = (NOW - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    until = (NOW + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    columns, rows = registry.run(open_analytics(storage), name, since, until, "live")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _send(client, key: str, events: list[dict]) -> None:
    """Events as one batch, each stored."""
    for start in range(0, len(events), 100):
        response = client.post("/v1/events", json={"events": events[start:start + 100]}, headers=basic(key))
        assert response.status_code == 200, response.get_data(as_text=True)


def _event(kind: str, subtype: str | None, visitor: str, session: str, minutes_ago: float, **fields) -> dict:
    """A browser event of a visitor's session at a time."""
    return make_event(kind, subtype, user={"anonymous_id": visitor}, env_event_id=new_id(),
                      env_timestamp=_at(minutes_ago), env_context={"session_id": session}, **fields)


def test_the_holdout_is_the_share_set_and_a_visitor_keeps_their_group():
    for share in (0.05, 0.2, 0.5):
        visitors = [f"anon-{n}" for n in range(100_000)]
        drawn = sum(held_out("live_shop", v, None, share) for v in visitors) / len(visitors)
        assert abs(drawn - share) < 0.01, (share, drawn)
    rng = random.Random(3)
    for visitor in (f"v{rng.random()}" for _ in range(1000)):
        group = held_out("live_shop", visitor, None, 0.3)
        # Signing in, coming back, or a larger holdout later: a personalized visitor may join the holdout as
        # it grows, but nobody held out is ever personalized again, and signing in changes nothing.
        assert held_out("live_shop", visitor, "user-9", 0.3) == group
        assert held_out("live_shop", visitor, None, 0.3) == group
        assert not group or held_out("live_shop", visitor, None, 0.4)
    assert not held_out("live_shop", "anon-1", None, 0.0)


def test_a_held_out_visitor_gets_best_sellers_and_everyone_else_what_goes_together(client, storage, key, secret):
    products = [{"product_id": p, "variant_id": "v1", "name": p, "price": 10, "category_1": "misc",
                 "photo_url": f"/{p}.jpg", "link": f"/{p}"} for p in ("p1", "p2", "p3", "p4")]
    assert send(client, key, secret, "POST", "/v1/batch", {"type": "products", "batch": products}).status_code == 207
    # p1 goes with p2, bought together every time; p3 and p4 sell most, alone.
    carts = [["p1", "p2"]] * 12 + [["p3"]] * 40 + [["p4"]] * 30
    _send(client, key, [make_event("order", "completed", order_id=f"o{n}", user={"anonymous_id": f"b{n}"},
                                   env_event_id=new_id(), cart=[{"product_id": p, "quantity": 1, "unit_price": 5}
                                                                for p in cart]) for n, cart in enumerate(carts)])
    keep_up(storage, settle=0)
    set_site_settings(storage, key, SiteSettings({}, 0.5))
    from collector.recommendations import kept
    kept._kept.clear()
    plain = next(f"v{n}" for n in range(100) if held_out(key, f"v{n}", None, 0.5))
    chosen = next(f"v{n}" for n in range(100) if not held_out(key, f"v{n}", None, 0.5))
    answers = {}
    for visitor in (plain, chosen):
        event = make_event("pageview", "product", product_id="p1", user={"anonymous_id": visitor})
        answers[visitor] = post_event(client, key, event, status=200).get_json()
    assert [p["product_id"] for p in answers[chosen]["related_product_skus"]][0] == "p2"
    assert [p["product_id"] for p in answers[plain]["related_product_skus"]][:3] == ["p3", "p4", "p2"]
    assert "p1" not in [p["product_id"] for p in answers[plain]["related_product_skus"]
                        + answers[plain]["similar_product_skus"]]


def test_the_recommendations_report_counts_each_list_s_clicks_and_the_orders_they_led_to(client, storage, key):
    def order(visitor, session, minutes, products, currency="USD"):
        """A completed order of these products at 10 each."""
        return _event("order", "completed", visitor, session, minutes, order_id=new_id(),
                      cart=[{"product_id": p, "quantity": 1, "unit_price": 10, "currency": currency}
                            for p in products])

    events = [
        # a1 sees related and recent, clicks p2 in related, then orders p2 and p5 in the same visit: related's.
        _event("impression", "products", "a1", "s1", 50, list="related", ids=["p2", "p3"]),
        _event("impression", "products", "a1", "s1", 50, list="recent", ids=["p4"]),
        _event("click", "product", "a1", "s1", 49, product_id="p2", list="related"),
        order("a1", "s1", 40, ["p2", "p5"]),
        # b1 clicks p3 in related, then orders p4 only: not related's; then p3 in another visit: not either.
        _event("impression", "products", "b1", "s2", 30, list="related", ids=["p3"]),
        _event("click", "product", "b1", "s2", 29, product_id="p3", list="related"),
        order("b1", "s2", 25, ["p4"]),
        order("b1", "s3", 5, ["p3"]),
        # c1 orders p6 before clicking it in similar: the click came after, it earned nothing.
        _event("impression", "products", "c1", "s4", 20, list="similar", ids=["p6"]),
        order("c1", "s4", 19, ["p6"]),
        _event("click", "product", "c1", "s4", 18, product_id="p6", list="similar"),
        # d1 clicks a main banner; a click with no list (the shop's own link) is no widget's.
        _event("impression", "banners", "d1", "s5", 10, list="banners", ids=["b1"]),
        _event("click", "banner", "d1", "s5", 9, banner_id="b1", list="banners"),
        _event("click", "product", "d1", "s5", 9, product_id="p9"),
    ]
    _send(client, key, events)
    rows = {row["list"]: row for row in _report(storage, "recommendations")}
    assert set(rows) == {"related", "recent", "similar", "banners"}
    related = rows["related"]
    assert (related["impressions"], related["clicks"], related["click_through"]) == (2, 2, 100.0)
    assert (related["orders"], related["revenue"], related["currency"]) == (1, 20.0, "USD")
    assert (rows["recent"]["impressions"], rows["recent"]["clicks"], rows["recent"]["orders"]) == (1, 0, 0)
    assert (rows["similar"]["clicks"], rows["similar"]["orders"], rows["similar"]["revenue"]) == (1, 0, None)
    banners = rows["banners"]
    assert (banners["impressions"], banners["clicks"], banners["click_through"]) == (1, 1, 100.0)
    assert related["previous_impressions"] == 0 and related["revenue_change"] is None


def test_the_holdout_report_matches_a_hand_computation(client, storage, key):
    set_site_settings(storage, key, SiteSettings({}, 0.4))
    rng = random.Random(11)
    events, figures = [], {True: [], False: []}
    for n in range(120):
        visitor, session = f"h{n}", f"s{n}"
        impressions, clicks = rng.randint(1, 4), rng.randint(0, 2)
        bought = rng.random() < 0.3
        events.append(_event("pageview", "home", visitor, session, 60))
        events += [_event("impression", "products", visitor, session, 59, list="related", ids=["p1"])
                   for _ in range(impressions)]
        events += [_event("click", "product", visitor, session, 58, product_id="p1", list="related")
                   for _ in range(clicks)]
        revenue = 0.0
        if bought:
            revenue = 10.0 * rng.randint(1, 5)
            events.append(_event("order", "completed", visitor, session, 50, order_id=new_id(), cart=[
                {"product_id": "p1", "quantity": 1, "unit_price": revenue, "currency": "EUR"}]))
        figures[held_out(key, visitor, None, 0.4)].append((impressions, clicks, revenue))
    # Someone who loaded no page is no one recommendations could reach.
    events.append(_event("click", "product", "ghost", "sg", 30, product_id="p1", list="related"))
    _send(client, key, events)
    rows = {row["group"]: row for row in _report(storage, "holdout")}
    for group, plain in (("personalized", False), ("holdout", True)):
        members = figures[plain]
        assert rows[group]["visitors"] == len(members)
        assert rows[group]["impressions"] == sum(m[0] for m in members)
        assert rows[group]["clicks"] == sum(m[1] for m in members)
        assert rows[group]["revenue"] == pytest.approx(sum(m[2] for m in members))
        # Rounded to the cent: half a cent off at most (a hair more in binary, as 11.88 against 11.875).
        assert rows[group]["revenue_per_visitor"] == pytest.approx(sum(m[2] for m in members) / len(members),
                                                                   abs=0.0051)
    mine, theirs = [m[2] for m in figures[False]], [m[2] for m in figures[True]]
    difference = statistics.mean(mine) - statistics.mean(theirs)
    spread = 1.96 * math.sqrt(statistics.variance(mine) / len(mine) + statistics.variance(theirs) / len(theirs))
    row = rows["difference"]
    assert row["revenue_per_visitor"] == pytest.approx(difference, abs=0.005)
    low, high = (float(x) for x in row["revenue_per_visitor_95"].split(" to "))
    assert (low, high) == (pytest.approx(difference - spread, abs=0.005), pytest.approx(difference + spread, abs=0.005))
    p = sum(m[1] for m in figures[False]) / sum(m[0] for m in figures[False])
    q = sum(m[1] for m in figures[True]) / sum(m[0] for m in figures[True])
    assert row["click_through"] == pytest.approx(100 * (p - q), abs=0.05)
    assert rows["personalized"]["currency"] == "EUR"

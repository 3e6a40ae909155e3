"""The shop reports' rollups (tallies) hold exactly what their definitions give over the events, as events
arrive late, orders are cancelled by the browser or the backend, bots come, and `forget` deletes a person."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from collector.access import keys
from collector.access import server_keys
from collector.analytics import readers
from collector.analytics import tallies
from collector.analytics.store import open_analytics
from collector.ingest import agents
from collector.reports import registry
from collector.reports import shop

from support.datacue_backend import send as send_backend
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import new_id
from support.factories import post_event

START = datetime(2026, 11, 20, 8, 0)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")
ITEM = "550e8400-e29b-41d4-a716-446655440000"
CART = [{"product_id": "lamp", "quantity": 2, "unit_price": 3.1, "currency": "USD"}]


def _order(subtype: str, number: int) -> tuple:
    """An order event of one of two orders."""
    return ("order", subtype, {"order_id": f"o{number}", "cart": CART})


#: What a generated event is: (type, subtype, fields); None stands for a Cobi interaction.
KINDS = [("pageview", "home", {}), ("pageview", "product", {"product_id": "lamp"}),
         ("pageview", "product", {"product_id": "rug"}), ("viewcart", None, {"cart": CART}),
         _order("started", 1), _order("completed", 1), _order("completed", 2), _order("cancelled", 1),
         ("search", None, {"term": "lamp"}), ("search", None, {"term": "rug"}),
         ("wishlist", "add", {"product_id": "rug"}), ("wishlist", "remove", {"product_id": "rug"}),
         ("click", "banner", {"banner_id": "b1"}),
         ("click", "product", {"product_id": "lamp"}), None]
#: Periods the tallies must answer as the definitions do: whole days, hours around a day, hours alone.
PERIODS = [("2026-11-20T00:00:00.000Z", "2026-11-21T00:00:00.000Z"),
           ("2026-11-19T22:00:00.000Z", "2026-11-21T03:00:00.000Z"),
           ("2026-11-20T09:00:00.000Z", "2026-11-20T11:00:00.000Z")]
MEASURES = (*tallies.MEASURES, tallies.FUNNEL, tallies.FUNNEL_GAPS)


def send(client, site: str, tag: str, visitor: str, session: str | None, minute: int, kind: int, bot: bool) -> None:
    """One event of a visitor (a curl's when `bot`), `minute` minutes after the start; orders are the tag's."""
    moment = (START + timedelta(minutes=minute)).isoformat() + "Z"
    agent = "curl/8.4.0" if bot else CHROME
    if KINDS[kind] is None:
        interaction = make_interaction(item_id=ITEM, event_timestamp=moment, anonymous_id=visitor,
                                       context={"session_id": session} if session else None)
        response = client.post("/user-interactions", json=interaction,
                               headers={**bearer(site), "User-Agent": agent})
        assert response.status_code == 201, response.json
        return
    type_, subtype, fields = KINDS[kind]
    if "order_id" in fields:
        fields = {**fields, "order_id": f"{tag}-{fields['order_id']}"}
    context = {"user_agent": agent, "page_url": "https://shop.example/", **({"session_id": session} if session else {})}
    event = make_event(type_, subtype, user={"anonymous_id": visitor}, env_event_id=new_id(), env_timestamp=moment,
                       env_context=context, **fields)
    post_event(client, site, event)


def figures(rows: list[tuple]) -> list[tuple]:
    """A measure's rows in one order, amounts rounded (sums of hours and of a period may differ in the last
    bits of a float)."""
    return sorted((*row[:4], None if row[4] is None else round(row[4], 6), *row[5:]) for row in rows)


def same(storage, site: str) -> None:
    """Every measure over every period: the tallies' answer is the definition's."""
    for since, until in PERIODS:
        read = readers.tallied(open_analytics(storage), MEASURES, since, until, "live", (site,))
        raw = readers.from_events(open_analytics(storage), MEASURES, since, until, "live", (site,))
        for name in MEASURES:
            assert figures(read[name]) == figures(raw[name]), (name, since, until)


EVENT = st.tuples(st.sampled_from(["v1", "v2"]), st.sampled_from([None, "s1", "s2"]), st.integers(0, 240),
                  st.integers(0, len(KINDS) - 1), st.booleans(), st.booleans())


@pytest.mark.slow
@given(data=st.data())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_tallies_equal_their_definitions_over_the_events(client, storage, data):
    site = keys.create_key(storage, "tallies", [])
    tag = site[-8:]  # people and orders of one example only: forget erases a person on every site
    events = data.draw(st.lists(EVENT, min_size=1, max_size=25), label="events (sent in this order: some late)")
    for visitor, session, minute, kind, bot, refresh in events:
        send(client, site, tag, f"{tag}-{visitor}", f"{tag}-{visitor}-{session}" if session else None, minute, kind,
             bot and kind % 3 == 0)
        if refresh:  # the worker or a report caught up here
            open_analytics(storage).refresh_visits()
    same(storage, site)
    if data.draw(st.booleans(), label="the backend cancels order 2"):
        secret = server_keys.create_server_key(storage, site)
        order = {"order_id": f"{tag}-o2", "user_id": "u1", "cart": [{**CART[0], "variant_id": "v1"}],
                 "timestamp": "2026-11-20T09:30:00Z"}
        assert send_backend(client, site, secret, "POST", "/v1/orders", order).status_code == 201
        same(storage, site)
        assert send_backend(client, site, secret, "PUT", f"/v1/orders/{tag}-o2",
                            {"order_status": "cancelled"}).status_code == 204
        same(storage, site)
    forgotten = data.draw(st.sampled_from(["v1", "v2"]), label="forgotten")
    storage.forget(None, f"{tag}-{forgotten}", False, "2026-11-21T00:00:00.000Z")
    same(storage, site)


def test_a_cancellation_hours_later_takes_the_order_out_of_the_hour_it_was_completed_in(client, storage):
    site = keys.create_key(storage, "tallies", [])
    send(client, site, "t", "v", "s", 10, 5, False)  # order 1 completed at 08:10
    assert shop.revenue(open_analytics(storage), *PERIODS[0], "live", (site,))[1] == [("2026-11-20", "USD", 1, 6.2)]
    products = registry.run(open_analytics(storage), "products", *PERIODS[0], "live", (site,))[1]
    assert [(row[0], row[8]) for row in products] == [("lamp", 2)]
    send(client, site, "t", "v", "s2", 200, 7, False)  # cancelled at 11:20, in another visit
    assert shop.revenue(open_analytics(storage), *PERIODS[0], "live", (site,))[1] == []
    assert registry.run(open_analytics(storage), "products", *PERIODS[0], "live", (site,))[1] == []


def test_bots_are_tallied_apart_with_when_they_were_first_and_last_seen(client, storage):
    site = keys.create_key(storage, "tallies", [])
    send(client, site, "t", "v", None, 5, 0, True)
    send(client, site, "t", "v", None, 65, 0, True)
    send(client, site, "t", "p", None, 70, 0, False)
    assert shop.bots(open_analytics(storage), *PERIODS[0], "live", (site,))[1] == [
        (agents.describe("curl/8.4.0").bot, 2, "2026-11-20T08:05:00.000Z", "2026-11-20T09:05:00.000Z")]
    assert shop.events(open_analytics(storage), *PERIODS[0], "live", (site,))[1] == [("2026-11-20", "pageview", 1)]

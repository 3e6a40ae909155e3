"""The `visits` table and its rollups, kept up to date as events arrive, late ones included, and as `forget`
deletes them, hold exactly what a plain computation from the stored events gives."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from collector.access import keys
from collector.analytics import rollups
from collector.analytics.store import open_analytics
from collector.reports import panels
from collector.worker.process import Worker

from support.factories import make_event
from support.factories import new_id
from support.factories import post_event

START = datetime(2026, 11, 20, 8, 0)
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.0 Mobile/15E148 Safari/604.1")
PAGES = ["/", "/p/lamp", "/about?utm_source=mail&utm_campaign=sale"]
REFERRERS = [None, "https://www.google.com/", "https://shop.example/cart"]
#: Events as (type, subtype, fields, whether the tracker sent it as its page loaded): a cart page's viewcart
#: is that page's view; the same viewcart sent on a change to the cart is not.
KINDS = [("pageview", "home", {}, False), ("pageview", "product", {"product_id": "lamp"}, True),
         ("search", None, {"term": "x"}, False),
         ("order", "completed", {"order_id": "o1", "cart": [{"product_id": "lamp", "quantity": 1, "unit_price": 3,
                                                              "currency": "USD"}]}, False),
         ("viewcart", None, {"cart": [{"product_id": "lamp"}]}, True),
         ("viewcart", None, {"cart": [{"product_id": "lamp"}]}, False)]
FIELDS = ("session_id", "derived", "visitor", "user_id", "started_at", "ended_at", "duration", "events", "pageviews",
          "bounce", "entry_page", "exit_page", "source", "utm_source", "utm_medium", "utm_campaign", "device",
          "browser", "os", "ordered")


def reference(events: list[dict]) -> list[tuple]:
    """The visits of stored events, computed plainly: sessions as they are, other events per visitor cut
    where 30 minutes pass; each visit's figures from its events in (time, id) order."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    loose: dict[str, list[dict]] = defaultdict(list)
    for event in sorted(events, key=lambda e: (e["event_time"], e["id"])):
        if event["session_id"]:
            groups[(event["session_id"], 0)].append(event)
        elif event["anonymous_id"] or event["user_id"]:
            loose[event["anonymous_id"] or event["user_id"]].append(event)
    for visitor, mine in loose.items():
        start = previous = None
        for event in mine:
            moment = datetime.fromisoformat(event["event_time"].replace("Z", "+00:00"))
            if previous is None or moment - previous > timedelta(minutes=30):
                start = event["event_time"]
            groups[(f"{visitor}#{start}", 1)].append(event)
            previous = moment
    visits = []
    for (session, derived), mine in groups.items():
        views = [e["page_path"] for e in mine if e["type"] == "pageview" or e["page_load"]]
        first, last = mine[0], mine[-1]
        seconds = (datetime.fromisoformat(last["event_time"][:19]) - datetime.fromisoformat(first["event_time"][:19]))
        visitor = next((e["anonymous_id"] for e in mine if e["anonymous_id"]), None) or next(
            (e["user_id"] for e in mine if e["user_id"]), None)
        visits.append((session, derived, visitor, next((e["user_id"] for e in reversed(mine) if e["user_id"]), None),
                       first["event_time"], last["event_time"], int(seconds.total_seconds()), len(mine), len(views),
                       int(len(mine) == 1), views[0] if views else None, views[-1] if views else None,
                       first["referrer_domain"], first["utm_source"], first["utm_medium"], first["utm_campaign"],
                       first["device"], first["browser"], first["os"],
                       int(any(e["type"] == "order" and e["subtype"] == "completed" for e in mine))))
    return sorted(visits)


def stored(storage, site: str) -> list[tuple]:
    """The `visits` rows of a site, brought up to date."""
    open_analytics(storage).refresh_visits()
    _, rows = storage.query(f"SELECT {', '.join(FIELDS)} FROM visits WHERE key = ?", (site,))
    return sorted(tuple(row) for row in rows)


def from_events(storage, site: str) -> list[tuple]:
    """The reference computed from the site's stored events."""
    columns = ("id", "session_id", "anonymous_id", "user_id", "type", "subtype", "event_time", "page_path",
               "referrer_domain", "utm_source", "utm_medium", "utm_campaign", "device", "browser", "os", "page_load")
    _, rows = storage.query(f"SELECT {', '.join(columns)} FROM events WHERE key = ? AND bot IS NULL", (site,))
    return reference([dict(zip(columns, row, strict=True)) for row in rows])


def tallied(tallies: dict) -> dict:
    """Rollup tallies as plain figures, to compare."""
    return {group: (t.visitors, t.n, t.pageviews, t.bounces, t.duration, t.orders) for group, t in tallies.items()}


def raw_tallies(storage, site: str, since: str, until: str) -> dict:
    """The panels' figures over a period computed straight from the visits and page views in it."""
    columns = "session_id, derived, started_at, ended_at, visitor, pageviews, bounce, duration, ordered, " + ", ".join(
        rollups.VISIT_DIMENSIONS[1:])
    names, rows = storage.query(f"SELECT {columns} FROM visits WHERE key = ? AND started_at >= ? AND started_at < ?",
                                (site, since, until))
    visits = [dict(zip(names, row, strict=True)) for row in rows]
    # The pages each visit viewed: its session's page views, or its visitor's without a session in its span.
    events = storage.query("SELECT session_id, coalesce(anonymous_id, user_id), event_time, page_path FROM events "
                           "WHERE key = ? AND (type = 'pageview' OR page_load = 1) AND bot IS NULL", (site,))[1]
    for visit in visits:
        visit["pages"] = {page for session, visitor, moment, page in events if (
            session == visit["session_id"] if not visit["derived"] else
            session is None and visitor == visit["visitor"] and visit["started_at"] <= moment <= visit["ended_at"])}
    views = storage.query("SELECT page_path, coalesce(anonymous_id, user_id) FROM events WHERE key = ? AND "
                          "(type = 'pageview' OR page_load = 1) AND bot IS NULL AND event_time >= ? AND event_time < ?",
                          (site, since, until))[1]
    return tallied(rollups.of_hour(visits, views))


#: Periods the rollups must answer as the raw rows do: whole days, hours around a day, hours alone.
PERIODS = [("2026-11-20T00:00:00.000Z", "2026-11-21T00:00:00.000Z"),
           ("2026-11-19T22:00:00.000Z", "2026-11-21T03:00:00.000Z"),
           ("2026-11-20T09:00:00.000Z", "2026-11-20T11:00:00.000Z")]


def send(client, site, visitor, session, user, minute, kind, page, referrer, agent):
    """One event from a visitor's browser, `minute` minutes after the start."""
    type_, subtype, fields, page_load = KINDS[kind]
    context = {"user_agent": agent, "page_url": "https://shop.example" + PAGES[page],
               **({"page_load": True} if page_load else {}),
               **({"referrer": REFERRERS[referrer]} if REFERRERS[referrer] else {}),
               **({"session_id": session} if session else {})}
    user_ids = {"anonymous_id": visitor, **({"user_id": user} if user else {})}
    moment = (START + timedelta(minutes=minute)).isoformat() + "Z"
    event = make_event(type_, subtype, user=user_ids, env_event_id=new_id(), env_timestamp=moment,
                       env_context=context, **fields)
    post_event(client, site, event)


EVENT = st.tuples(st.sampled_from(["v1", "v2", "v3"]), st.sampled_from([None, None, "s1", "s2"]),
                  st.sampled_from([None, None, "u1"]), st.integers(0, 240), st.integers(0, len(KINDS) - 1),
                  st.integers(0, len(PAGES) - 1), st.integers(0, len(REFERRERS) - 1), st.sampled_from([CHROME, IPHONE]),
                  st.booleans())


@pytest.mark.slow
@given(data=st.data())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_visits_kept_up_to_date_equal_visits_computed_from_the_events(client, storage, data):
    site = keys.create_key(storage, "visits", [])
    tag = site[-8:]  # visitors of one example only: forget erases a person on every site
    events = data.draw(st.lists(EVENT, max_size=25), label="events (sent in this order, so some arrive late)")
    for visitor, session, user, minute, kind, page, referrer, agent, refresh in events:
        # A session belongs to one visitor, as the tracker's do.
        send(client, site, f"{tag}-{visitor}", f"{tag}-{visitor}-{session}" if session else None,
             f"{tag}-{user}" if user else None, minute, kind, page, referrer, agent)
        if refresh:  # the worker or a report caught up here
            open_analytics(storage).refresh_visits()
    assert stored(storage, site) == from_events(storage, site)
    for since, until in PERIODS:
        dimensions = (*rollups.VISIT_DIMENSIONS, rollups.PAGE, rollups.VISIT_PAGE)
        assert tallied(panels.read(open_analytics(storage), dimensions, since, until, "live", (site,))) == \
            raw_tallies(storage, site, since, until)
    forgotten = data.draw(st.sampled_from(["v1", "v2", "v3", "u1"]), label="forgotten")
    person = f"{tag}-{forgotten}"
    storage.forget(person if forgotten == "u1" else None, person if forgotten != "u1" else None, False,
                   "2026-11-21T00:00:00.000Z")
    after = stored(storage, site)
    assert after == from_events(storage, site)
    assert all(person not in (row[0], row[2], row[3]) for row in after)
    since, until = PERIODS[1]
    dimensions = (*rollups.VISIT_DIMENSIONS, rollups.PAGE, rollups.VISIT_PAGE)
    assert tallied(panels.read(open_analytics(storage), dimensions, since, until, "live", (site,))) \
        == raw_tallies(storage, site, since, until)


def test_a_late_event_joins_its_visit_and_a_gap_it_fills_merges_two(client, storage):
    site = keys.create_key(storage, "visits", [])
    send(client, site, "v", None, None, 0, 0, 0, 1, CHROME)
    send(client, site, "v", None, None, 50, 1, 1, 0, CHROME)
    assert [(r[4][11:16], r[7], r[12]) for r in stored(storage, site)] == [("08:00", 1, "google.com"),
                                                                            ("08:50", 1, None)]
    send(client, site, "v", None, None, 25, 2, 0, 0, CHROME)  # arrives last, fills the gap: one visit of 3
    assert [(r[4][11:16], r[5][11:16], r[6], r[7], r[11]) for r in stored(storage, site)] == [
        ("08:00", "08:50", 3000, 3, "/p/lamp")]
    assert stored(storage, site) == from_events(storage, site)


def test_a_bots_events_make_no_visit_and_pending_changes_are_counted(client, storage):
    site = keys.create_key(storage, "visits", [])
    send(client, site, "bot", "s", None, 0, 0, 0, 0, "curl/8.4.0")
    send(client, site, "v", "s9", None, 0, 0, 0, 0, CHROME)
    assert open_analytics(storage).pending_visit_changes() >= 1
    assert [row[0] for row in stored(storage, site)] == ["s9"]
    assert open_analytics(storage).pending_visit_changes() == 0


@pytest.mark.slow
def test_the_worker_brings_the_visits_up_to_date(client, storage):
    site = keys.create_key(storage, "visits", [])
    send(client, site, "v", "s1", None, 0, 0, 0, 0, CHROME)
    assert open_analytics(storage).pending_visit_changes() == 1
    Worker(storage, {}, forward=False, jobs=False).run(once=True)
    assert open_analytics(storage).pending_visit_changes() == 0
    _, rows = storage.query("SELECT session_id FROM visits WHERE key = ?", (site,))
    assert rows == [("s1",)]

"""Funnels: steps done in order, within a session or N hours of the first step, never more at a step than at
the step before; checked against a plain reference of the same definition on generated event streams."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from collector.access import keys
from collector.access import tokens
from collector.analytics import funnel
from collector.analytics.store import open_analytics
from collector.reports import registry

from support.factories import basic
from support.factories import new_id
from support.factories import post_event

START = datetime(2026, 11, 20, tzinfo=UTC)
SINCE, UNTIL = "2026-11-19T00:00:00.000Z", "2026-11-30T00:00:00.000Z"
#: The events a generated stream draws from, as (type, subtype, extra fields).
KINDS = [("pageview", "home", {}), ("pageview", "product", {"product_id": "p1"}),
         ("pageview", "product", {"product_id": "p2"}), ("viewcart", None, {"cart": []}),
         ("order", "started", {"order_id": "o1", "cart": [{"product_id": "p1"}]}),
         ("order", "completed", {"order_id": "o1", "cart": [{"product_id": "p1"}]}), ("search", None, {"term": "x"})]
STEP_CHOICES = ["pageview:home", "pageview:product", "pageview:product[product_id=p1]", "viewcart", "order:started",
                "order:completed", "search"]


def _send(client, key: str, events: list[tuple]) -> None:
    """Post (visitor, session id or None, minutes after START, kind index) events, in this order."""
    batch = []
    for visitor, session, minutes, kind in events:
        type_, subtype, extra = KINDS[kind]
        event = {"type": type_, **({"subtype": subtype} if subtype else {}), **extra}
        batch.append({"event_id": new_id(), "user": {"anonymous_id": visitor}, "event": event,
                      "context": {"session_id": session} if session else {},
                      "timestamp": (START + timedelta(minutes=minutes)).isoformat()})
    for start in range(0, len(batch), 500):
        post_event(client, key, {"events": batch[start:start + 500]}, status=200)


def _matches(step: funnel.Step, kind: int) -> bool:
    """Whether a generated event matches a step (the reference's own reading of the step)."""
    type_, subtype, extra = KINDS[kind]
    return (type_ == step.type and (step.subtype is None or subtype == step.subtype)
            and all(extra.get(column) == value for column, value in step.filters))


def reference(events: list[tuple], steps: tuple[funnel.Step, ...], window_minutes: float | None) -> list[int]:
    """The count at each step, by the definition and nothing cleverer: group into units (a visitor with a
    window; else a visit: a session id, or a visitor's events without one less than 30 minutes apart); for
    every step-1 event as a start, take each next step's earliest event after the last (within the window);
    a unit counts at the deepest step any start reaches."""
    units: dict = {}
    last: dict = {}
    for order, (visitor, session, minutes, kind) in sorted(enumerate(events), key=lambda e: (e[1][2], e[0])):
        if window_minutes is not None:
            unit = visitor
        elif session is not None:
            unit = session
        else:  # any of the visitor's events without a session less than 30 minutes apart make a visit
            previous, number = last.get(visitor, (None, 0))
            number += previous is None or minutes - previous > 30
            last[visitor] = (minutes, number)
            unit = (visitor, "#", number)
        if any(_matches(s, kind) for s in steps):
            units.setdefault(unit, []).append((minutes, order, kind))
    counts = [0] * len(steps)
    for stream in units.values():
        stream.sort()
        deepest = 0
        for start, (t0, _, kind) in enumerate(stream):
            if not _matches(steps[0], kind):
                continue
            level, position = 1, start
            for step in steps[1:]:
                found = next((i for i in range(position + 1, len(stream)) if _matches(step, stream[i][2])
                              and (window_minutes is None or stream[i][0] - t0 <= window_minutes)), None)
                if found is None:
                    break
                level, position = level + 1, found
            deepest = max(deepest, level)
        for step in range(deepest):
            counts[step] += 1
    return counts


#: Minutes that put events exactly at, just inside and just past the edges that matter: a visit's 30 minutes,
#: the 1, 6 and 24 hour windows.
_EDGES = [0, 1, 29, 30, 31, 32, 59, 60, 61, 62, 359, 360, 361, 362, 1439, 1440, 1441, 1442]
#: For each step choice, an event kind that matches it (events are drawn mostly from the chosen steps' kinds).
_KIND_OF = {"pageview:home": 0, "pageview:product": 1, "pageview:product[product_id=p1]": 1, "viewcart": 3,
            "order:started": 4, "order:completed": 5, "search": 6}


@pytest.mark.slow
@given(data=st.data())
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_step_counts_as_the_reference(client, storage, data):
    steps = data.draw(st.lists(st.sampled_from(STEP_CHOICES), min_size=2, max_size=5), label="steps")
    window = data.draw(st.sampled_from([None, None, 1, 6, 24]), label="window")
    kinds = sorted({_KIND_OF[step] for step in steps}) + [2]  # and another product's views
    events = data.draw(st.lists(st.tuples(
        st.sampled_from(["v1", "v2"]), st.sampled_from([None, None, "s1", "s2"]),
        st.one_of(st.sampled_from(_EDGES), st.integers(0, 48 * 60)), st.sampled_from(kinds)), max_size=30),
        label="events")
    site = keys.create_key(storage, "funnel", [])
    # The same minute for one visitor keeps the order events were sent in (their ids), as the reference does.
    _send(client, site, events)
    parsed = funnel.parse_steps(",".join(steps))
    columns, rows = registry.run(open_analytics(storage), "funnel", SINCE, UNTIL, "live", (site,),
                                 steps=",".join(steps), window=f"{window}h" if window else None)
    counts = [row[columns.index("count")] for row in rows]
    assert counts == reference(events, parsed, window * 60 if window else None)
    assert all(row[columns.index("from_previous")] is None or row[columns.index("from_previous")] <= 1 for row in rows)
    assert counts == sorted(counts, reverse=True)


def _rows(storage, site, **options) -> list[dict]:
    """The funnel report of one site, as dicts."""
    columns, rows = registry.run(open_analytics(storage), "funnel", SINCE, UNTIL, "live", (site,), **options)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_the_anchors_worked_example(client, storage):
    site = keys.create_key(storage, "shop", [])
    # One session, a minute apart: product view, home view, cart.
    _send(client, site, [("v1", "s1", 0, 1), ("v1", "s1", 1, 0), ("v1", "s1", 2, 3)])
    rows = _rows(storage, site, steps="pageview:product,viewcart,order:completed")
    assert [r["count"] for r in rows] == [1, 1, 0]
    assert rows[1]["median_seconds"] == 120.0 and rows[1]["from_previous"] == 1.0 and rows[2]["dropped"] == 1
    # Home first: the product view came before it, so only the first step is done.
    assert [r["count"] for r in _rows(storage, site, steps="pageview:home,pageview:product,viewcart")] == [1, 0, 0]


def test_a_session_that_buys_without_the_first_step_counts_nowhere_past_it(client, storage):
    site = keys.create_key(storage, "shop", [])
    # s1 lands on a product and buys; s2 goes home then buys; s3 goes home and leaves.
    _send(client, site, [("a", "s1", 0, 1), ("a", "s1", 1, 3), ("a", "s1", 2, 4), ("a", "s1", 3, 5),
                         ("b", "s2", 0, 0), ("b", "s2", 5, 5), ("c", "s3", 0, 0)])
    rows = _rows(storage, site, steps="pageview:home,order:completed")
    assert [(r["count"], r["from_previous"], r["from_start"], r["dropped"]) for r in rows] == [
        (2, 1.0, 1.0, 0), (1, 0.5, 0.5, 1)]
    default = _rows(storage, site)
    assert [(r["step"], r["count"]) for r in default] == [
        ("product view", 1), ("cart", 1), ("order started", 1), ("order completed", 1)]


def test_a_window_per_visitor_spans_sessions_and_ends(client, storage):
    site = keys.create_key(storage, "shop", [])
    # v1: product view in one session, completed order in another 3 hours later; v2: 30 hours later.
    _send(client, site, [("v1", "s1", 0, 1), ("v1", "s2", 180, 5), ("v2", "s3", 0, 1), ("v2", "s4", 1800, 5)])
    steps = "pageview:product,order:completed"
    assert [r["count"] for r in _rows(storage, site, steps=steps)] == [2, 0]
    assert [r["count"] for r in _rows(storage, site, steps=steps, window="24h")] == [2, 1]
    assert [r["count"] for r in _rows(storage, site, steps=steps, window="2d")] == [2, 2]
    assert _rows(storage, site, steps=steps, window="24h")[1]["median_seconds"] == 3 * 3600.0


def test_a_later_attempt_counts_when_the_first_one_timed_out(client, storage):
    site = keys.create_key(storage, "shop", [])
    # A product view, nothing for two days, then a product view and an order an hour apart.
    _send(client, site, [("v1", None, 0, 1), ("v1", None, 2880, 1), ("v1", None, 2940, 5)])
    assert [r["count"] for r in _rows(storage, site, steps="pageview:product,order:completed", window="24h")] == [1, 1]


def test_steps_and_windows_are_checked():
    assert funnel.parse_steps("order:completed[payment_method=card],search").__len__() == 2
    for bad in ("order", "order:completed,nope!", "a,b,c,d,e,f,g,h,i", "order[secret=1],search"):
        with pytest.raises(ValueError):
            funnel.parse_steps(bad)
    assert funnel.parse_window("session") is None and funnel.parse_window("14d") == 14 * 86400.0
    for bad in ("0h", "100d", "week", "12"):
        with pytest.raises(ValueError):
            funnel.parse_window(bad)


def test_the_api_and_the_cli_take_steps_and_a_window(client, storage, cli, key):
    _send(client, key, [("v1", "s1", 0, 1), ("v1", "s1", 1, 3)])
    token = tokens.create_token(storage, "analyst")
    headers = {"Authorization": f"Bearer {token}"}
    query = {"since": "2026-11-19", "until": "2026-11-30", "steps": "pageview:product,viewcart", "window": "24h"}
    body = client.get("/v1/reports/funnel", query_string=query, headers=headers).json
    assert body["columns"][:2] == ["step", "count"] and [row[1] for row in body["rows"]] == [1, 1]
    bad = client.get("/v1/reports/funnel", query_string={**query, "steps": "nope!"}, headers=headers)
    assert bad.status_code == 400 and "not a step" in bad.json["message"]
    other = client.get("/v1/reports/revenue", query_string=query, headers=headers)
    assert other.status_code == 400 and "takes no steps" in other.json["message"]
    out = cli("report", "funnel", "--since", "2026-11-19", "--until", "2026-11-30", "--steps",
              "pageview:product,viewcart", "--format", "json").stdout
    assert '"count": 1' in out
    assert cli("report", "funnel", "--window", "week", check=False).returncode == 2
    split = client.get("/v1/reports/funnel", query_string={**query, "breakdown": "browser"}, headers=headers).json
    assert split["columns"][:3] == ["browser", "step", "count"] and [row[2] for row in split["rows"]] == [1, 1]
    out = cli("report", "funnel", "--since", "2026-11-19", "--until", "2026-11-30", "--breakdown", "os",
              "--format", "json").stdout
    assert '"os": "(none)"' in out


def test_the_edges_of_the_window_and_of_a_visit(client, storage):
    site = keys.create_key(storage, "shop", [])
    # v1: the order exactly 24 hours after the product view; v2: a minute later than that.
    _send(client, site, [("v1", None, 0, 1), ("v1", None, 1440, 5), ("v2", None, 0, 1), ("v2", None, 1441, 5)])
    steps = "pageview:product,order:completed"
    assert [r["count"] for r in _rows(storage, site, steps=steps, window="24h")] == [2, 1]
    other = keys.create_key(storage, "visits", [])
    # Without the tracker's session id: 30 minutes apart is one visit, 31 minutes two.
    _send(client, other, [("w1", None, 0, 1), ("w1", None, 30, 3), ("w2", None, 0, 1), ("w2", None, 31, 3)])
    assert [r["count"] for r in _rows(storage, other, steps="pageview:product,viewcart")] == [2, 1]


CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.0 Mobile/15E148 Safari/604.1")


def test_a_breakdown_gives_one_funnel_per_value_of_the_first_steps_event(client, storage):
    site = keys.create_key(storage, "funnel", [])
    sessions = [("s1", CHROME, [1, 3, 4, 5]), ("s2", IPHONE, [1, 3]), ("s3", IPHONE, [1]), ("s4", CHROME, [3])]
    batch = []
    for session, agent, kinds in sessions:
        for minute, kind in enumerate(kinds):
            type_, subtype, extra = KINDS[kind]
            batch.append({"event_id": new_id(), "user": {"anonymous_id": f"v-{session}"},
                          "event": {"type": type_, **({"subtype": subtype} if subtype else {}), **extra},
                          "context": {"session_id": session, "user_agent": agent},
                          "timestamp": (START + timedelta(minutes=minute)).isoformat()})
    assert client.post("/v1/events", json={"events": batch}, headers=basic(site)).status_code == 200
    columns, rows = registry.run(open_analytics(storage), "funnel", SINCE, UNTIL, "live", (site,), breakdown="device")
    assert columns[:3] == ["device", "step", "count"]
    # Mobile leads (two sessions at the first step); s4 never did the first step and counts nowhere.
    assert [row[:3] for row in rows] == [
        ("Mobile", "product view", 2), ("Mobile", "cart", 1), ("Mobile", "order started", 0),
        ("Mobile", "order completed", 0), ("Desktop", "product view", 1), ("Desktop", "cart", 1),
        ("Desktop", "order started", 1), ("Desktop", "order completed", 1)]
    whole = registry.run(open_analytics(storage), "funnel", SINCE, UNTIL, "live", (site,))[1]
    assert [row[1] for row in whole] == [a[2] + b[2] for a, b in zip(rows[:4], rows[4:], strict=True)]
    with pytest.raises(ValueError, match="breaks down by one of"):
        registry.run(open_analytics(storage), "funnel", SINCE, UNTIL, "live", (site,), breakdown="ip")

"""User agents read once at ingest: browser, system, device class, and bots (kept, flagged with why, left
out of every report but the one that counts them)."""

from __future__ import annotations

import pytest

from collector.analytics.store import open_analytics
from collector.ingest.agents import describe
from collector.reports import registry

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import stored_status

IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.0 Mobile/15E148 Safari/604.1")
SINCE, UNTIL = "2026-11-19T00:00:00.000Z", "2026-11-22T00:00:00.000Z"


@pytest.mark.parametrize(("user_agent", "expected"), [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36", ("Chrome", "120.0", "Windows", "Desktop", None)),
    (IPHONE, ("Safari", "17.0", "iOS", "Mobile", None)),
    ("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
     "Mobile/15E148 Safari/604.1", ("Safari", "16.6", "iOS", "Tablet", None)),
    ("Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile "
     "Safari/537.36", ("Chrome", "116.0", "Android", "Mobile", None)),
    ("Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 "
     "Safari/537.36", ("Chrome", "116.0", "Android", "Tablet", None)),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0",
     ("Firefox", "120.0", "Mac OS X", "Desktop", None)),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     ("Googlebot", "2.1", None, None, "crawler: Googlebot")),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
     "Safari/537.36", ("HeadlessChrome", "120.0", "Linux", None, "crawler: Headless")),
    ("curl/8.4.0", ("curl", "8.4", None, None, "crawler: curl")),
    ("python-requests/2.31.0", ("Python Requests", "2.31", None, None, "crawler: python-requests")),
    ("", (None, None, None, None, None)),
])
def test_a_user_agent_is_read_into_columns(user_agent, expected):
    agent = describe(user_agent)
    assert (agent.browser, agent.browser_version, agent.os, agent.device, agent.bot) == expected


def test_the_columns_are_stored_from_the_context_or_the_request(client, key, db):
    assert client.post("/v1/events", json=make_event(env_context={"user_agent": IPHONE}),
                       headers=basic(key)).status_code == 200  # home page views, answered with their lists
    # The README's first event: curl's own user agent, nothing in the context.
    assert client.post("/v1/events", json=make_event(), headers={**basic(key), "User-Agent": "curl/8.4.0"}
                       ).status_code == 200
    rows = db("SELECT browser, browser_version, os, os_version, device, bot FROM events ORDER BY id")
    assert rows == [
        {"browser": "Safari", "browser_version": "17.0", "os": "iOS", "os_version": "17.0", "device": "Mobile",
         "bot": None},
        {"browser": "curl", "browser_version": "8.4", "os": None, "os_version": None, "device": None,
         "bot": "crawler: curl"}]


def test_bots_are_left_out_of_every_report_and_counted_in_their_own(client, storage, dataset):
    analytics = open_analytics(storage)
    before = {name: registry.run(analytics, name, SINCE, UNTIL) for name in registry.REPORTS if name != "rejected"}
    bot = {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"}
    lines = [{"product_id": "p1", "quantity": 3, "unit_price": 10, "currency": "USD"}]
    for n, (type_, subtype, fields) in enumerate([
            ("pageview", "home", {}), ("pageview", "product", {"product_id": "p1"}),
            ("viewcart", None, {"cart": lines}),
            ("order", "started", {"order_id": "ob", "cart": lines}),
            ("order", "completed", {"order_id": "ob", "cart": lines}), ("search", None, {"term": "lamp"}),
            ("click", "banner", {"banner_id": "b1"}), ("wishlist", "add", {"product_id": "p1"})]):
        event = make_event(type_, subtype, user={"anonymous_id": "crawler"}, env_timestamp=f"2026-11-20T15:0{n}:00Z",
                           env_context={"session_id": "bot-session"}, **fields)
        response = client.post("/v1/events", json=event, headers={**basic(dataset["live"]), **bot})
        assert response.status_code == stored_status(event)
    after = {name: registry.run(open_analytics(storage), name, SINCE, UNTIL) for name in before}
    assert {name: after[name] for name in after if name != "bots"} == {
        name: before[name] for name in before if name != "bots"}
    columns, rows = after["bots"]
    assert [dict(zip(columns, row, strict=True))["reason"] for row in rows] == ["crawler: Googlebot"]
    assert rows[0][1] == 8
    assert storage.query("SELECT count(*) FROM sessions WHERE session_id = 'bot-session'")[1] == [(0,)]


def test_an_apps_interactions_are_not_called_bots_for_their_http_stack(client, key, db):
    # okhttp is what an Android app's requests say; the same agent on the web is a script.
    for platform in ("ANDROID", "IOS", "WEB", None):
        interaction = make_interaction(platform=platform) if platform else make_interaction()
        assert client.post("/user-interactions", json=interaction,
                           headers={**bearer(key), "User-Agent": "okhttp/4.12.0"}).status_code == 201
    rows = db("SELECT platform, device, bot FROM events ORDER BY id")
    assert rows == [{"platform": "ANDROID", "device": "Mobile", "bot": None},
                    {"platform": "IOS", "device": "Mobile", "bot": None},
                    {"platform": "WEB", "device": None, "bot": "crawler: okhttp"},
                    {"platform": None, "device": None, "bot": "crawler: okhttp"}]

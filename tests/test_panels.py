"""The web panels on a small dataset whose every figure is worked out by hand in the comments: visits,
bounces, durations, entry and exit pages, sources (the shop's own domain and spam left out), UTM tags,
devices, the time series and the previous period."""

from __future__ import annotations

import pytest

from collector.access import tokens
from collector.analytics import rollups
from collector.analytics.store import open_analytics
from collector.reports import panels
from collector.reports import registry

from support.factories import make_event
from support.factories import new_id
from support.factories import post_event

SITE = "https://shop.example"
CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.0 Mobile/15E148 Safari/604.1")
FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:120.0) Gecko/20100101 Firefox/120.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SINCE, UNTIL = "2026-11-20T00:00:00.000Z", "2026-11-21T00:00:00.000Z"
CART = [{"product_id": "lamp", "quantity": 2, "unit_price": 10, "currency": "USD"}]

#: (time, visitor, session or None, user agent, page, referrer, event)
EVENTS = [
    # s1, v1 on a desktop: from Google, home then the lamp, then an order: 3 events, 2 page views, 300 s.
    ("2026-11-20T10:00:00Z", "v1", "s1", CHROME, "/", "https://www.google.com/search?q=lamp", ("pageview", "home")),
    ("2026-11-20T10:02:00Z", "v1", "s1", CHROME, "/p/lamp", SITE + "/", ("pageview", "product")),
    ("2026-11-20T10:05:00Z", "v1", "s1", CHROME, "/checkout/done", SITE + "/checkout", ("order", "completed")),
    # s2, v2 on an iPhone: one page view from a newsletter's link, no referrer: a direct bounce.
    ("2026-11-20T11:00:00Z", "v2", "s2", IPHONE,
     "/p/lamp?utm_source=newsletter&utm_medium=email&utm_campaign=black-friday", None, ("pageview", "product")),
    # s3, v1 again: referred by the shop itself (direct), home then a search: 2 events, 60 s.
    ("2026-11-20T14:00:00Z", "v1", "s3", CHROME, "/", SITE + "/cart", ("pageview", "home")),
    ("2026-11-20T14:01:00Z", "v1", "s3", CHROME, "/search", SITE + "/", ("search", None)),
    # v3 without a session, on Firefox: two page views an hour apart are two visits, two bounces.
    ("2026-11-20T15:00:00Z", "v3", None, FIREFOX, "/about", "https://news.ycombinator.com/item?id=1",
     ("pageview", "page")),
    ("2026-11-20T16:00:00Z", "v3", None, FIREFOX, "/about", None, ("pageview", "page")),
    # A crawler and a spam referrer: stored, and in no panel.
    ("2026-11-20T12:00:00Z", "g1", "sg", GOOGLEBOT, "/", None, ("pageview", "home")),
    ("2026-11-20T13:00:00Z", "x1", "sx", CHROME, "/", "https://0-0.fr/", ("pageview", "home")),
    # The previous day: one visit of one page view, a bounce.
    ("2026-11-19T10:00:00Z", "v4", "s4", CHROME, "/", None, ("pageview", "home")),
]


def send(client, key, moment, visitor, session, agent, page, referrer, kind):
    """Send one event as the tracker would from the visitor's browser."""
    type_, subtype = kind
    fields = {"term": "lamp"} if type_ == "search" else {}
    if type_ == "order":
        fields = {"order_id": "o1", "cart": CART}
    if subtype == "product":
        fields = {"product_id": "lamp"}
    context = {"user_agent": agent, "page_url": SITE + page, **({"referrer": referrer} if referrer else {}),
               **({"session_id": session} if session else {})}
    event = make_event(type_, subtype, user={"anonymous_id": visitor}, env_event_id=new_id(),
                       env_timestamp=moment, env_context=context, **fields)
    post_event(client, key, event)


@pytest.fixture
def web(client, key):
    """The dataset sent through the public API."""
    for row in EVENTS:
        send(client, key, *row)
    return key


def panel(storage, name, since=SINCE, until=UNTIL, **options):
    """A report's rows as dicts."""
    columns, rows = registry.run(open_analytics(storage), name, since, until, **options)
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_each_event_keeps_its_page_its_referring_site_and_its_utm_tags(web, db):
    rows = db("SELECT page_path, referrer_domain, utm_source, utm_medium, utm_campaign, bot FROM events ORDER BY id")
    assert [(r["page_path"], r["referrer_domain"]) for r in rows[:4]] == [
        ("/", "google.com"), ("/p/lamp", None), ("/checkout/done", None), ("/p/lamp", None)]
    assert (rows[3]["utm_source"], rows[3]["utm_medium"], rows[3]["utm_campaign"]) == (
        "newsletter", "email", "black-friday")
    assert rows[6]["referrer_domain"] == "news.ycombinator.com"
    assert [r["bot"] for r in rows[8:10]] == ["crawler: Googlebot", "referrer spam: 0-0.fr"]


def test_the_headline_figures_and_the_previous_period(storage, web):
    figures = {row["metric"]: row for row in panel(storage, "overview")}
    # Visits s1, s2, s3 and v3's two; visitors v1, v2, v3; page views 2 + 1 + 1 + 1 + 1; bounces s2 and v3's
    # two of five; durations 300, 0, 60, 0, 0; one order of 2 x 10 USD in one of five visits.
    assert {name: row["value"] for name, row in figures.items()} == {
        "visitors": 3, "visits": 5, "pageviews": 6, "views_per_visit": 1.2, "bounce_rate": 60.0,
        "visit_duration": 72.0, "orders": 1, "revenue": 20.0, "average_order_value": 20.0, "conversion_rate": 20.0}
    # The day before: v4's one bounce.
    assert {name: row["previous"] for name, row in figures.items()} == {
        "visitors": 1, "visits": 1, "pageviews": 1, "views_per_visit": 1.0, "bounce_rate": 100.0,
        "visit_duration": 0.0, "orders": 0, "revenue": None, "average_order_value": None, "conversion_rate": 0.0}
    assert {name: row["change"] for name, row in figures.items()} == {
        "visitors": 200.0, "visits": 400.0, "pageviews": 500.0, "views_per_visit": 20.0, "bounce_rate": -40.0,
        "visit_duration": None, "orders": None, "revenue": None, "average_order_value": None,
        "conversion_rate": None}
    assert figures["revenue"]["unit"] == "USD" and figures["bounce_rate"]["unit"] == "percent"


def test_filtered_to_one_page_the_panels_count_the_visits_that_viewed_it(storage, web):
    figures = {row["metric"]: row["value"] for row in panel(storage, "overview", page="/p/lamp")}
    # s1 (v1: 3 events, 2 page views, 300 s, an order) and s2 (v2: a bounce) viewed the lamp; orders and
    # revenue belong to no page.
    assert figures == {"visitors": 2, "visits": 2, "pageviews": 3, "views_per_visit": 1.5, "bounce_rate": 50.0,
                       "visit_duration": 150.0, "orders": None, "revenue": None, "average_order_value": None,
                       "conversion_rate": 50.0}
    rows = panel(storage, "visitors", page="/p/lamp")
    series = [(row["time"][11:13], row["visits"]) for row in rows if row["visits"]]
    assert series == [("10", 1), ("11", 1)]
    assert panel(storage, "pages", page="/") == [{"page": "/", "visitors": 1, "pageviews": 2}]
    assert [row["entry_page"] for row in panel(storage, "entry_pages", page="/p/lamp")] == ["/p/lamp"]
    assert panel(storage, "exit_pages", page="/nowhere") == []
    with pytest.raises(ValueError, match="takes no page"):
        panel(storage, "sources", page="/")


def test_top_entry_and_exit_pages(storage, web):
    assert panel(storage, "pages") == [
        {"page": "/p/lamp", "visitors": 2, "pageviews": 2}, {"page": "/", "visitors": 1, "pageviews": 2},
        {"page": "/about", "visitors": 1, "pageviews": 2}]
    # Entered on /: s1 (300 s) and s3 (60 s); on /about: v3's two bounces; on /p/lamp: s2's bounce.
    assert panel(storage, "entry_pages") == [
        {"entry_page": "/", "unique_entrances": 1, "total_entrances": 2, "bounce_rate": 0.0, "visit_duration": 180.0},
        {"entry_page": "/about", "unique_entrances": 1, "total_entrances": 2, "bounce_rate": 100.0,
         "visit_duration": 0.0},
        {"entry_page": "/p/lamp", "unique_entrances": 1, "total_entrances": 1, "bounce_rate": 100.0,
         "visit_duration": 0.0}]
    # Left from /p/lamp by s1 and s2 (2 of its 2 views), from /about twice (2 of 2), from / once (1 of 2).
    assert panel(storage, "exit_pages") == [
        {"exit_page": "/p/lamp", "unique_exits": 2, "total_exits": 2, "exit_rate": 100.0},
        {"exit_page": "/about", "unique_exits": 1, "total_exits": 2, "exit_rate": 100.0},
        {"exit_page": "/", "unique_exits": 1, "total_exits": 1, "exit_rate": 50.0}]


def test_sources_leave_out_the_shops_own_pages_and_spam(storage, web):
    # Direct: s2 (no referrer), s3 (the shop's own page), v3's second visit: bounces 2 of 3, 60 s / 3.
    assert panel(storage, "sources") == [
        {"source": "Direct / None", "visitors": 3, "visits": 3, "bounce_rate": 67.0, "visit_duration": 20.0},
        {"source": "google.com", "visitors": 1, "visits": 1, "bounce_rate": 0.0, "visit_duration": 300.0},
        {"source": "news.ycombinator.com", "visitors": 1, "visits": 1, "bounce_rate": 100.0,
         "visit_duration": 0.0}]
    for name, value in (("utm_sources", "newsletter"), ("utm_mediums", "email"), ("utm_campaigns", "black-friday")):
        column = name[:-1]
        assert panel(storage, name) == [
            {column: value, "visitors": 1, "visits": 1, "bounce_rate": 100.0, "visit_duration": 0.0}]


def test_devices_browsers_and_systems(storage, web):
    assert panel(storage, "devices") == [
        {"device": "Desktop", "visitors": 2, "visits": 4, "bounce_rate": 50.0, "visit_duration": 90.0,
         "percentage": 66.7},
        {"device": "Mobile", "visitors": 1, "visits": 1, "bounce_rate": 100.0, "visit_duration": 0.0,
         "percentage": 33.3}]
    assert [(r["browser"], r["visits"]) for r in panel(storage, "browsers")] == [
        ("Chrome", 2), ("Firefox", 2), ("Safari", 1)]
    assert [(r["os"], r["visitors"], r["percentage"]) for r in panel(storage, "operating_systems")] == [
        ("Mac OS X", 1, 33.3), ("Windows", 1, 33.3), ("iOS", 1, 33.3)]


def test_the_time_series_has_every_hour_of_a_day_and_adds_up(storage, web):
    series = panel(storage, "visitors")
    assert len(series) == 24 and series[0]["time"] == SINCE
    busy = {row["time"][11:13]: (row["visitors"], row["visits"], row["pageviews"], row["bounce_rate"],
                                 row["visit_duration"]) for row in series if row["visits"]}
    assert busy == {"10": (1, 1, 2, 0.0, 300.0), "11": (1, 1, 1, 100.0, 0.0), "14": (1, 1, 1, 0.0, 60.0),
                    "15": (1, 1, 1, 100.0, 0.0), "16": (1, 1, 1, 100.0, 0.0)}
    assert series[0]["bounce_rate"] is None and series[0]["visits"] == 0
    assert sum(row["pageviews"] for row in series) == 6


def test_the_series_interval_follows_the_period(storage, web):
    assert len(panel(storage, "visitors", "2026-11-19T00:00:00.000Z", "2026-11-21T00:00:00.000Z")) == 48
    days = panel(storage, "visitors", "2026-11-14T00:00:00.000Z", "2026-11-21T00:00:00.000Z")
    assert [row["time"][:10] for row in days][-2:] == ["2026-11-19", "2026-11-20"]
    assert days[-1]["visitors"] == 3 and days[-2]["visitors"] == 1
    # 120 days are weeks; the first starts with the period (a Thursday), the others on Mondays.
    weeks = panel(storage, "visitors", "2026-07-23T00:00:00.000Z", "2026-11-20T00:00:00.000Z")
    assert weeks[0]["time"].startswith("2026-07-23") and weeks[1]["time"].startswith("2026-07-27")
    assert [w for w in weeks if w["visits"]] == [
        {"time": "2026-11-16T00:00:00.000Z", "visitors": 1, "visits": 1, "pageviews": 1, "bounce_rate": 100.0,
         "visit_duration": 0.0}]


def test_a_long_tail_of_pages_ranks_as_reading_every_sketch_would(client, key, storage, monkeypatch):
    # Pages whose views and visitors rank them differently (many views by few visitors, few by many), with
    # only 3 rows shown: the panels read the sketches of the values that can still rank, and must rank as
    # adding up every value's rollups does.
    monkeypatch.setattr(panels, "BREAKDOWN_LIMIT", 3)
    plan = {"/a": (1, 9), "/b": (6, 1), "/c": (5, 1), "/d": (4, 2), "/e": (3, 1), "/f": (2, 3), "/g": (1, 1),
            "/h": (2, 1)}  # page: (visitors, views each)
    for page, (visitors, views) in plan.items():
        for person in range(visitors):
            for view in range(views):
                moment = f"2026-11-20T{10 + view % 10:02d}:{person:02d}:00Z"
                send(client, key, moment, f"{page}-{person}", f"{page}-{person}-{view}", CHROME, page, None,
                     ("pageview", "page"))
    everything = panels.read(open_analytics(storage), ("entry_page", "exit_page", rollups.PAGE), SINCE, UNTIL, "live",
                             None)
    pages = sorted(((value, t) for (d, value), t in everything.items() if d == rollups.PAGE),
                   key=lambda pair: (-pair[1].n, -pair[1].visitors, pair[0]))[:3]
    assert [(r["page"], r["pageviews"]) for r in panel(storage, "pages")] == [(v, t.n) for v, t in pages] == [
        ("/a", 9), ("/d", 8), ("/b", 6)]
    for name, dimension in (("entry_pages", "entry_page"), ("exit_pages", "exit_page")):
        expected = panels._ranked(everything, dimension, None)
        assert [tuple(r.values())[:3] for r in panel(storage, name)] == [(v, t.visitors, t.n) for v, t in expected]
        assert [v for v, _ in expected] == ["/b", "/c", "/d"]  # by visitors, not by visits (/a has 9)


def test_the_dashboard_filters_its_panels_to_a_page(client, storage, web):
    client.set_cookie("collector_analyst", tokens.create_token(storage, "ana"), path="/dashboard")
    period = {"since": SINCE, "until": UNTIL}
    whole = client.get("/dashboard", query_string=period).data.decode()
    lamp = client.get("/dashboard", query_string={**period, "page": "/p/lamp"}).data.decode()
    assert 'data-metric="visits"' in lamp and 'value="/p/lamp"' in lamp

    def visits(html: str) -> str:
        """The visits card's value."""
        return html.split('data-metric="visits"', 1)[1].split('class="value">', 1)[1].split("<", 1)[0].strip()

    assert (visits(whole), visits(lamp)) == ("5", "2")
    assert "page=%2Fp%2Flamp" in lamp  # the CSV links keep the filter
    rows = client.get("/dashboard/reports/overview.csv", query_string={**period, "page": "/p/lamp"}).data.decode()
    assert "\nvisits,2," in rows

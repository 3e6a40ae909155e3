"""The dashboard in Debian's Chromium: sign in, every panel with the fixture's numbers, no CSP problem."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from collector import create_app
from collector.access import tokens
from collector.analytics.store import open_analytics
from collector.api.dashboard import axis_top
from collector.api.dashboard import chart
from collector.reports import registry
from collector.reports.numbers import cell

from support.chromium import CHROMIUM
from support.chromium import CHROMIUM_ARGS
from support.dataset import DATASET
from support.dataset import INTERACTIONS
from support.dataset import LINES_O1
from support.dataset import dataset_requests
from support.factories import basic
from support.servers import Gunicorn
from support.servers import load_demo_catalogue
from support.servers import prepare_store

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.processes


def test_dashboard_shows_the_fixture(tmp_path, page):
    path = str(tmp_path / "dash.sqlite3")
    live = prepare_store(path, "shop")
    storage = create_app({"DATABASE_URL": f"sqlite:///{path}"}).extensions["collector.storage"]
    token = tokens.create_token(storage, "Ana")
    with Gunicorn(path, workers=1) as server:
        for path, body, headers, status in dataset_requests(live):
            assert requests.post(server.url + path, json=body, headers=headers, timeout=10).status_code == status
        requests.post(server.url + "/v1/events", json={"user": {}}, headers=basic(live), timeout=10)
        page.goto(server.url + "/dashboard")
        page.fill("#token", "an_wrong")
        page.click("text=Sign in")
        assert "unknown or revoked" in page.inner_text("body")
        page.fill("#token", token)
        page.click("text=Sign in")
        page.goto(server.url + "/dashboard?since=2026-11-19&until=2026-11-22&mode=live")
        funnel = {el.get_attribute("data-step"): int(el.text_content())
                  for el in page.query_selector_all("#funnel .value")}
        total = int(page.inner_text("#events .total"))
        revenue = page.inner_text("#revenue table")
        products = page.inner_text("#products table")
        searches = page.inner_text("#searches table")
        items = [row.split("\t") for row in page.inner_text("#items table").splitlines()[1:]]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        page.goto(server.url + "/dashboard?since=1d")
        rejected = page.inner_text("#quality")
    live_rows = [row for row in DATASET if row[0] == "live"]
    assert funnel["product view"] == 2  # the sessions with a product view (tests/test_reports.py says why)
    # The other steps and the products table as the report module (tested against the fixture) gives them.
    period = ("2026-11-19T00:00:00.000Z", "2026-11-22T00:00:00.000Z")
    expected_funnel = registry.run(open_analytics(storage), "funnel", *period)[1]
    assert funnel == {step: count for step, count, *_ in expected_funnel}
    expected_products = registry.run(open_analytics(storage), "products", *period)[1]
    storage.close()
    assert [row.split("\t")[0] for row in products.splitlines()[1:]] == [row[0] for row in expected_products]
    assert total == len(live_rows) + len(INTERACTIONS)
    assert sorted((item_type, int(n)) for item_type, _, n in items) == sorted((item, 1) for _, _, item in INTERACTIONS)
    assert f"{sum(line['quantity'] * line['unit_price'] for line in LINES_O1):,.2f} USD" in revenue
    assert "p1" in products and "lamp" in searches
    assert "invalid_event" in rejected
    assert page.problems == []
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000


def test_dashboard_requires_a_token(client):
    signin = client.get("/dashboard")
    assert signin.status_code == 200 and b"Analyst token" in signin.data
    assert "default-src 'self'" in signin.headers["Content-Security-Policy"]
    assert client.post("/dashboard/login", data={"token": "an_nope"}).status_code == 303
    assert b"Funnel" not in client.get("/dashboard").data


#: A person's browser: Chromium's own headless user agent is a bot's, left out of every panel.
DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
           "Safari/537.36")


def _wait_for_events(storage, count: int, timeout: float = 20) -> None:
    """Wait until the visit's events have all landed: the order is sent as the order page loads, and a page
    left at once may have its view delivered after later ones (by a beacon, or a fresh worker's first
    write); the panels are of the whole visit."""
    deadline = time.monotonic() + timeout
    while storage.query("SELECT count(*) FROM events WHERE type <> 'impression'")[1][0][0] < count \
            and time.monotonic() < deadline:
        time.sleep(0.1)


def _card(page, metric: str) -> str:
    """A headline card's value as shown."""
    return page.inner_text(f".card[data-metric={metric}] .value")


def test_a_visit_to_the_demo_shop_shows_in_every_panel_it_should(tmp_path, browser):
    path = str(tmp_path / "visit.sqlite3")
    key = prepare_store(path, "demo")
    load_demo_catalogue(path, key)
    storage = create_app({"DATABASE_URL": f"sqlite:///{path}"}).extensions["collector.storage"]
    token = tokens.create_token(storage, "Ana")
    # The whole browser says so: a page's override does not reach the beacons sent as a page unloads.
    person = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--user-agent={DESKTOP}"])
    context = person.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    with Gunicorn(path, workers=2, DEMO_KEY=key) as server:
        # A visitor from a news site's link to the shop, with a campaign's tags, who buys.
        page.goto(server.url + "/demo/?utm_source=newsletter&utm_medium=email&utm_campaign=launch",
                  referer="https://www.example-news.com/story")
        page.click(".dc-banners .dc-main")  # the recommendation widget's banner b1
        page.wait_for_url("**/category.html")
        page.click("[data-click-product=p2]")
        page.wait_for_url("**/product.html?id=p2")
        page.click("text=Add to cart and view the cart")
        page.click("text=Check out")
        page.click("text=Place the order")
        page.wait_for_url("**/order.html?id=p2")
        # Three page views, two clicks, the cart view, the order started and completed.
        _wait_for_events(storage, 8)
        page.goto(server.url + "/dashboard")
        page.fill("#token", token)
        page.click("text=Sign in")
        page.goto(server.url + "/dashboard?since=1d")
        cards = {metric: _card(page, metric) for metric in ("visitors", "visits", "orders", "revenue",
                                                            "conversion_rate", "bounce_rate")}
        panels = {name: page.inner_text(f"#{name} table") for name in (
            "sources", "utm-campaigns", "utm-sources", "pages", "entry-pages", "exit-pages", "devices", "browsers",
            "operating-systems", "products")}
        funnel = {el.get_attribute("data-step"): int(el.text_content())
                  for el in page.query_selector_all("#funnel .value")}
        response = context.request.get(server.url + "/dashboard/reports/sources.csv?since=1d")
        download = (response.status, response.text())
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)
        ticks = page.inner_text("#visitors .chart .ticks").split()
        # Hourly bars are many: their values are in each bar's title, not written under it.
        hourly_values = page.query_selector_all("#visitors .chart .labels b")
        values = [b.text_content() for b in page.query_selector_all("#revenue .chart .labels b")]
        page.set_viewport_size({"width": 390, "height": 844})
        page.reload()
        overflow = page.evaluate("document.documentElement.scrollWidth")
        # On a phone: chart text at the page's size, not scaled down with a drawing; wide tables scroll
        # inside their panel, with a shadow on the side where more columns are.
        label_px = page.evaluate("parseFloat(getComputedStyle(document.querySelector('#visitors .chart .labels'))"
                                 ".fontSize)")
        wide = page.evaluate("""[...document.querySelectorAll('.scroll')].filter(s => s.scrollWidth > s.clientWidth)
                                .map(s => [s.closest('section').id, getComputedStyle(s).backgroundImage])""")
        page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    context.close()
    person.close()
    storage.close()
    assert cards == {"visitors": "1", "visits": "1", "orders": "1", "revenue": "299.00 USD",
                     "conversion_rate": "100%", "bounce_rate": "0%"}
    assert panels["sources"].splitlines()[1].split("\t")[:3] == ["example-news.com", "1", "1"]
    assert "launch" in panels["utm-campaigns"] and "newsletter" in panels["utm-sources"]
    assert panels["entry-pages"].splitlines()[1].startswith("/demo/\t")
    # Every page loaded is a page view, whatever its event (the cart's viewcart, the order's order): the
    # visit ends on the order page, and the cart and checkout are among the top pages.
    assert panels["exit-pages"].splitlines()[1].startswith("/demo/order.html\t")
    for shown in ("/demo/product.html", "/demo/category.html", "/demo/cart.html", "/demo/checkout.html"):
        assert shown in panels["pages"]
    assert panels["devices"].splitlines()[1].split("\t") == ["Desktop", "1", "100%"]
    assert panels["browsers"].splitlines()[1].startswith("Chrome\t")
    assert panels["operating-systems"].splitlines()[1].startswith("Windows\t")
    assert "p2" in panels["products"]
    assert funnel["product view"] == 1 and funnel["order completed"] == 1
    assert download[0] == 200 and "example-news.com,1,1" in download[1]
    assert overflow <= 390, f"the phone layout is {overflow}px wide"
    assert ticks == ["1", "0.5", "0"]  # the value axis: a round top, its half, zero
    assert values == ["299"]  # one day of revenue, its value written under it
    assert hourly_values == []
    assert label_px >= 11
    assert wide and all("radial-gradient" in image for _, image in wide), wide
    assert problems == []


@pytest.mark.parametrize(("value", "kind", "written"), [
    (1234567, "number", "1,234,567"), (1234.5, "number", "1,234.50"), (None, "number", "–"),
    (66.7, "percent", "66.7%"), (40.0, "percent", "40%"), (45, "duration", "45s"), (192, "duration", "3m 12s"),
    (3840, "duration", "1h 4m"), (1.2, "ratio", "1.2"), (3.0, "ratio", "3"), (1234.5, "EUR", "1,234.50 EUR"),
    (None, "USD", "–"), (None, "text", "(none)"), ("/p/lamp", "text", "/p/lamp")])
def test_numbers_are_written_for_people(value, kind, written):
    assert cell(value, kind) == written


@pytest.mark.parametrize(("largest", "top"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (299.0, 500),
                                              (1234, 2000), (0.3, 0.5)])
def test_the_value_axis_tops_at_a_round_number(largest, top):
    assert axis_top(largest) == pytest.approx(top)


def test_a_chart_scales_its_bars_to_the_axis_and_labels_a_few():
    laid = chart([(f"{day:02d}", day) for day in range(1, 21)])
    assert laid["ticks"] == ["20", "10", "0"]
    assert [bar["height"] for bar in laid["bars"]][:3] == [5.0, 10.0, 15.0] and laid["bars"][-1]["height"] == 100
    assert [bar["label"] for bar in laid["bars"] if bar["shown"]] == ["01", "04", "07", "10", "13", "16", "19"]
    assert laid["written"] is False and chart([("a", 2.0)])["written"] is True
    assert chart([]) == {"bars": [], "ticks": []}

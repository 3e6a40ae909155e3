"""The demo shop in Debian's Chromium, at a desktop's 1440 px and a phone's 390 px: every product card
opens its own product, the single-page app is linked and its deep links survive a reload, and "Events
landed" follows the store, newest first, readable on a phone. Screenshots go to test-artifacts/."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager

import pytest

from support.chromium import CHROMIUM
from support.chromium import CHROMIUM_ARGS
from support.chromium import watched_page
from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import load_demo_catalogue
from support.servers import prepare_store

pytestmark = pytest.mark.processes

ARTIFACTS = ROOT / "test-artifacts"
#: A person's browser (headless Chromium's own user agent is a bot's).
PERSON = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")
CATALOGUE = [json.loads(line) for line in
             (ROOT / "collector" / "data" / "demo" / "products.ndjson").read_text().splitlines()]
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def shop(tmp_path_factory, browser):
    """A collector serving the demo shop over a store holding its catalogue, and a person's browser."""
    path = str(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    key = prepare_store(path, "demo")
    load_demo_catalogue(path, key)
    person = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--user-agent={PERSON}"])
    with Gunicorn(path, workers=2, DEMO_KEY=key) as server:
        yield server, person
    person.close()


@contextmanager
def _browsing(shop, size: str):
    """The demo's address, and a person's browser context and page at a screen size, closed afterwards."""
    server, person = shop
    context = person.new_context(viewport=SIZES[size])
    try:
        yield server.url, context, watched_page(context)
    finally:
        context.close()


@pytest.mark.parametrize("size", SIZES)
def test_every_product_card_opens_its_own_product(shop, size):
    with _browsing(shop, size) as (url, context, page):
        for listing in ("/demo/", "/demo/category.html"):
            page.goto(url + listing)
            ids = [card.get_attribute("data-click-product") for card in page.query_selector_all(".grid a.card")]
            assert ids, listing
            for product_id in ids:
                page.goto(url + listing)
                page.click(f".grid a.card[data-click-product={product_id}]")
                page.wait_for_url(f"**/demo/product.html?id={product_id}")
                name = next(p["name"] for p in CATALOGUE if p["product_id"] == product_id)
                assert page.inner_text("h1") == name, (listing, product_id)
                assert page.get_attribute(".product img", "src") == f"/demo/photo-{product_id}.svg"
        assert page.problems == []


def test_an_unknown_product_is_404_and_a_known_one_its_own_page(shop):
    with _browsing(shop, "desktop") as (url, context, page):
        assert page.goto(url + "/demo/product.html?id=p404").status == 404
        page.goto(url + "/demo/product.html?id=p11")
        assert page.inner_text("h1") == "Chef's knife"


@pytest.mark.parametrize("size", SIZES)
def test_the_single_page_app_is_linked_and_its_deep_links_reload(shop, size):
    with _browsing(shop, size) as (url, context, page):
        page.goto(url + "/demo/")
        page.click("header >> text=Single-page app")
        page.wait_for_url("**/demo/spa.html")
        assert page.inner_text("#view") == "Home"
        page.click("text=Sofas")
        assert page.url.endswith("/demo/spa/sofas") and page.inner_text("#view") == "/demo/spa/sofas"
        response = page.reload()
        assert response.status == 200 and page.inner_text("#view") == "/demo/spa/sofas"
        assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"  # its stylesheet loaded
        page.click("text=Tables")
        page.go_back()
        assert page.inner_text("#view") == "/demo/spa/sofas"
        fresh = context.new_page()
        assert fresh.goto(url + "/demo/spa/tables").status == 200
        assert fresh.inner_text("#view") == "/demo/spa/tables"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"demo-spa-{size}.png"), full_page=True)
        assert page.problems == []


@pytest.mark.parametrize("size", SIZES)
def test_events_landed_follows_the_store_newest_first_and_fits_the_screen(shop, size):
    with _browsing(shop, size) as (url, context, watcher):
        watcher.goto(url + "/demo/events.html")
        shop_page = context.new_page()
        shop_page.goto(url + f"/demo/product.html?id=p7&visit={size}")
        shop_page.click("text=Add to wishlist")
        # The page refreshes itself: the wishlist click appears without a reload, at the top.
        deadline = time.monotonic() + 15
        while "wishlist add" not in watcher.inner_text("#landed li:first-child"):
            assert time.monotonic() < deadline, watcher.inner_text("#landed")
            time.sleep(0.2)
        assert "product_id p7" in watcher.inner_text("#landed li:first-child")
        times = [li.get_attribute("datetime") for li in watcher.query_selector_all("#landed time")]
        assert times == sorted(times, reverse=True) and len(times) >= 2
        assert watcher.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
        ARTIFACTS.mkdir(exist_ok=True)
        watcher.screenshot(path=str(ARTIFACTS / f"demo-events-{size}.png"), full_page=True)
        assert watcher.problems == []


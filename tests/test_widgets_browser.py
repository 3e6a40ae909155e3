"""The recommendation widgets in Debian's Chromium, driven by Playwright, against real gunicorn and
`collector worker`: DataCue's placeholders filled for the visitor on the demo shop and on a page with
DataCue's own markup, clicks and impressions sent, catalogue data shown as inert text."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from support.chromium import CHROMIUM
from support.chromium import CHROMIUM_ARGS
from support.chromium import watched_page
from support.servers import Gunicorn
from support.servers import collector_import
from support.servers import database_url
from support.servers import load_demo_catalogue
from support.servers import prepare_store
from support.servers import start_worker
from support.servers import stop_worker

pytestmark = pytest.mark.processes

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
#: A person's browser: headless Chromium says so in its user agent, and bots' views shape no one's lists.
PERSON = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
          "Safari/537.36")
#: Catalogue data a shop might send that must never become markup or a script on its pages.
HOSTILE = [{"product_id": "x1", "variant_id": "v1", "name": "<script>window.owned = 1</script>", "price": 5, "stock": 3,
            "category_1": "Kitchen", "photo_url": "javascript:window.owned = 2", "link": "javascript:window.owned = 3"},
           {"product_id": "x2", "variant_id": "v1", "name": "\"Quoted\" & <b>bold</b>", "price": 6, "stock": 3,
            "category_1": "Kitchen", "photo_url": "/demo/photo-p10.svg", "link": "/demo/product.html?id=p10"}]


def _rows(path: str, sql: str, params=()) -> list[dict]:
    """Read the store."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def _until(found, timeout: float = 30):
    """found() once it is truthy, polled; its last value after the timeout."""
    deadline = time.monotonic() + timeout
    value = found()
    while not value and time.monotonic() < deadline:
        time.sleep(0.2)
        value = found()
    return value


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The demo shop with its catalogue (and two hostile products) under gunicorn, and the worker keeping
    the recommendation tables, for the module's visitors (each test its own browser context)."""
    path = str(tmp_path_factory.mktemp("widgets") / "shop.sqlite3")
    key = prepare_store(path, "demo")
    load_demo_catalogue(path, key)
    hostile = Path(path).with_name("hostile.ndjson")
    hostile.write_text("".join(json.dumps(row) + "\n" for row in HOSTILE))
    collector_import(path, key, hostile, "products")
    worker = start_worker(database_url(path), "--no-forward")
    try:
        # The worker's first pass: the catalogue as answers show it, and each product's similar list.
        assert _until(lambda: _rows(path, "SELECT count(*) AS n FROM rec_lists")[0]["n"] >= 14), "no worker pass"
        with Gunicorn(path, workers=2, DEMO_KEY=key) as server:
            server.path, server.key = path, key
            server.token = _token(path)
            yield server
    finally:
        stop_worker(worker)


@pytest.fixture(scope="module")
def person(browser):
    """Chromium as a person's browser (the whole browser: a page's override does not reach its beacons)."""
    launched = browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, f"--user-agent={PERSON}"])
    yield launched
    launched.close()


@pytest.fixture
def page(person):
    """A fresh visitor: a new context and page, with CSP violations and page errors recorded."""
    context = person.new_context(viewport={"width": 1280, "height": 900})
    yield watched_page(context)
    context.close()


def _token(path: str) -> str:
    """An analyst token for the store's dashboard."""
    from collector import create_app
    from collector.access import tokens

    storage = create_app({"DATABASE_URL": database_url(path)}).extensions["collector.storage"]
    try:
        return tokens.create_token(storage, "Ana")
    finally:
        storage.close()


def _names(page, selector: str) -> list[str]:
    """The product names a list shows."""
    return page.eval_on_selector_all(f"{selector} .dc-name", "nodes => nodes.map(n => n.textContent)")


@pytest.mark.slow
def test_the_demo_shop_fills_the_placeholders_for_the_visitor(shop, page):
    demo = shop.url + "/demo/"
    page.goto(demo)
    page.wait_for_selector(".dc-banners .dc-main img")
    first_banner = page.get_attribute(".dc-banners .dc-main img", "src")
    subs = page.eval_on_selector_all(".dc-banners .dc-sub img", "nodes => nodes.map(n => n.getAttribute('src'))")
    # Two kitchen products viewed, the second page showing the first as recently viewed.
    page.goto(demo + "product.html?id=p10")
    page.wait_for_selector(".dc-list-similar .dc-product")
    similar = _names(page, ".dc-list-similar")
    page.goto(demo + "product.html?id=p11")
    page.wait_for_selector(".dc-list-recent .dc-product")
    recent_on_p11 = _names(page, ".dc-list-recent")
    page.goto(demo)
    page.wait_for_selector(".dc-list-recent .dc-product")
    kitchen_banner = page.get_attribute(".dc-banners .dc-main img", "src")
    recent = _names(page, ".dc-list-recent")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widgets-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    page.screenshot(path=str(ARTIFACTS / "widgets-phone.png"), full_page=True)
    # A click on a recommended product: DataCue's click, naming its list, then that product's page.
    page.click(".dc-list-recent .dc-product >> nth=0")
    page.wait_for_url("**/product.html?id=p11")
    # ...bought in the same visit: the recommendations panel counts the order, and its revenue, as recent's.
    page.click("text=Add to cart and view the cart")
    page.click("text=Check out")
    page.click("text=Place the order")
    page.wait_for_url("**/order.html?id=p11")
    clicks = _until(lambda: _rows(shop.path, "SELECT product_id, payload FROM events WHERE type = 'click'"))
    impressions = _until(lambda: _rows(shop.path, "SELECT subtype, payload FROM events WHERE type = 'impression'"))
    assert _until(lambda: _rows(shop.path, "SELECT id FROM events WHERE type = 'order' AND subtype = 'completed'"))
    page.goto(shop.url + "/dashboard")
    page.fill("#token", shop.token)
    page.click("text=Sign in")
    panel = page.inner_text("#recommendations table")
    assert first_banner.endswith("/demo/banner-b1.svg"), "no history: the banners in the shop's order"
    assert [s.rsplit("/", 1)[1] for s in subs] == ["banner-b4.svg", "banner-b5.svg"]
    assert similar and set(similar) <= {"Chef's knife", "Stoneware mugs", "\"Quoted\" & <b>bold</b>",
                                        "<script>window.owned = 1</script>"}, similar
    assert recent_on_p11 == ["Cast iron pan"]
    assert kitchen_banner.endswith("/demo/banner-b3.svg"), "the categories the visitor viewed come first"
    assert recent == ["Chef's knife", "Cast iron pan"], "newest first"
    assert overflow <= 390, "nothing wider than a phone's screen"
    assert [(c["product_id"], json.loads(c["payload"])["event"]["list"]) for c in clicks] == [("p11", "recent")]
    recent_row = next(line.split("\t") for line in panel.splitlines() if line.startswith("recent\t"))
    assert (recent_row[2], recent_row[4], recent_row[5]) == ("1", "1", "65.00 USD"), panel  # clicks, orders, revenue
    lists = {(i["subtype"], json.loads(i["payload"])["event"]["list"]) for i in impressions}
    assert ("banners", "banners") in lists and ("products", "recent") in lists, lists
    assert page.problems == []


def test_catalogue_data_is_inert_text_and_a_javascript_link_is_refused(shop, page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(shop.url + "/demo/")
    page.evaluate("Promise.all(['x1', 'x2'].map(id => datacue.track("
                  "{type: 'pageview', subtype: 'product', product_id: id})))")
    page.goto(shop.url + "/demo/")
    page.wait_for_selector(".dc-list-recent .dc-product")
    names = _names(page, ".dc-list-recent")
    cards = page.eval_on_selector_all(".dc-list-recent .dc-product", """nodes => nodes.map(n => ({
        tag: n.tagName, href: n.getAttribute('href'), img: n.querySelector('img').getAttribute('src'),
        markup: n.querySelectorAll('script, b').length}))""")
    owned = page.evaluate("window.owned === undefined")
    assert names == ["\"Quoted\" & <b>bold</b>", "<script>window.owned = 1</script>"]
    assert cards[0]["tag"] == "A" and cards[0]["href"].endswith("/demo/product.html?id=p10")
    assert cards[1] == {"tag": "DIV", "href": None, "img": None, "markup": 0}, "no javascript: link or image"
    assert cards[0]["markup"] == 0
    assert owned and dialogs == []
    assert page.problems == []


class _ShopPage(BaseHTTPRequestHandler):
    """A shop's own product page on another origin, with DataCue's markup from its docs: its placeholders,
    `datacueConfig` inline, and DataCue's two script tags swapped for the collector's."""

    body = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        """The page."""
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        """Quiet."""


def test_a_page_with_datacue_s_own_markup_is_filled_the_same_way(shop, page):
    _ShopPage.body = f"""<!doctype html>
<html><head><title>DataCue markup</title></head><body>
<div data-dc-banners data-dc-static-img="{shop.url}/demo/banner-static.svg" data-dc-static-link="/sale"></div>
<div data-dc-products></div>
<script>
  window.datacueConfig = {{
    api_key: "{shop.key}",
    user_id: null,
    page_type: "product",
    product_id: "p2",
    variant_id: "v1"
  }};
</script>
<script src="{shop.url}/t.js" data-allow-local="true"></script>
<script src="{shop.url}/w.js"></script>
</body></html>""".encode()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ShopPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/p2")
        page.wait_for_selector(".dc-list-similar .dc-product")
        similar = _names(page, ".dc-list-similar")
        stylesheets = page.eval_on_selector_all("link[rel=stylesheet]", "nodes => nodes.map(n => n.href)")
        scripts = page.eval_on_selector_all("script[src$='/w.js']", "nodes => nodes.length")
    finally:
        server.shutdown()
        server.server_close()
    assert similar and "Linen sofa" not in similar and set(similar) <= {"Velvet armchair", "Oak table",
                                                                         "Walnut side table", "Wool rug", "Jute rug"}
    assert stylesheets == [shop.url + "/w.css"]
    assert scripts in (1, 2)  # the page's own tag, and the tracker's when it found the placeholders first
    assert page.problems == []

"""The tracker in Debian's Chromium, driven by Playwright, against the real collector under gunicorn."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from support.servers import Gunicorn
from support.servers import load_demo_catalogue
from support.servers import prepare_store

pytestmark = pytest.mark.processes


class Shop:
    """The collector with its demo shop (and its catalogue) under gunicorn, and a way to read what it stored."""

    def __init__(self, tmp_path, **settings):
        """Prepare a store, a key and the demo's catalogue; start with `with`."""
        self.path = str(tmp_path / "browser.sqlite3")
        self.key = prepare_store(self.path, "demo")
        load_demo_catalogue(self.path, self.key)
        self.server = Gunicorn(self.path, workers=2, DEMO_KEY=self.key, **settings)
        self.url = self.server.url + "/demo/"

    def __enter__(self) -> Shop:
        """Start gunicorn."""
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        """Stop gunicorn."""
        self.server.stop()

    def rows(self, sql: str = "SELECT * FROM events ORDER BY id", params=()) -> list[dict]:
        """Read the store."""
        conn = sqlite3.connect(self.path)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params)]
        finally:
            conn.close()

    def wait_for(self, count: int, sql: str = "SELECT * FROM events ORDER BY id", timeout: float = 20) -> list[dict]:
        """Wait until the query returns at least count rows, and return them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.rows(sql)
            if len(rows) >= count:
                time.sleep(0.5)  # anything more that was coming (duplicates) has time to arrive
                return self.rows(sql)
            time.sleep(0.1)
        return self.rows(sql)


@pytest.mark.slow
def test_every_event_type_from_the_demo_pages_lands_once(tmp_path, page):
    with Shop(tmp_path) as shop:
        page.goto(shop.url)
        page.click("text=Visit Campus Bookstore")
        page.click("text=Sign in")
        page.click(".dc-banners .dc-main")  # the widget's first main banner: b1, for a visitor with no history
        page.wait_for_url("**/category.html")
        page.click("text=Student discount")
        page.click("[data-click-product=p2]")
        page.wait_for_url("**/product.html?id=p2")
        page.click("text=Add to wishlist")
        page.click("text=Remove from wishlist")
        page.click("text=Use code STUDENT10")
        page.click("text=Add to cart and view the cart")
        page.click("text=Check out")
        page.click("text=Place the order")
        page.wait_for_url("**/order.html?id=p2")
        page.click("text=Cancel order o1")
        page.click("text=Search")
        page.wait_for_url("**/search.html")
        rows = shop.wait_for(17, "SELECT * FROM events WHERE type <> 'impression' ORDER BY id")
    kinds = sorted((r["source"], r["type"], r["subtype"] or r["item_type"] or "") for r in rows)
    assert kinds == sorted([
        ("datacue", "pageview", "home"), ("cobi", "interaction", "SHOP"), ("datacue", "login", ""),
        ("datacue", "click", "banner"), ("datacue", "pageview", "category"), ("cobi", "interaction", "TAG"),
        ("datacue", "click", "product"), ("datacue", "pageview", "product"), ("datacue", "wishlist", "add"),
        ("datacue", "wishlist", "remove"), ("cobi", "interaction", "OFFER"), ("datacue", "viewcart", ""),
        ("datacue", "order", "started"), ("datacue", "order", "completed"), ("datacue", "order", "cancelled"),
        ("datacue", "search", ""),
    ]), kinds
    by_kind = {(r["type"], r["subtype"]): r for r in rows}
    assert by_kind[("click", "banner")]["banner_id"] == "b1"
    assert by_kind[("pageview", "product")]["product_id"] == "p2"
    assert json.loads(by_kind[("click", "banner")]["payload"])["event"]["list"] == "banners"
    assert by_kind[("pageview", "category")]["category_name"] == "living-room"
    assert (by_kind[("order", "completed")]["revenue"], by_kind[("order", "completed")]["currency"]) == (299.0, "USD")
    assert by_kind[("search", None)]["term"] == "sofa"
    assert len({r["anonymous_id"] for r in rows}) == 1 and len({r["session_id"] for r in rows}) == 1
    assert all(r["page_url"].startswith(shop.server.url + "/demo/") for r in rows)
    assert len({r["event_id"] for r in rows}) == len(rows)
    assert page.problems == []


def test_twenty_events_then_a_link_followed_at_once(tmp_path, page):
    with Shop(tmp_path) as shop:
        page.goto(shop.url + "product.html")
        shop.wait_for(1)
        page.evaluate("for (let i = 0; i < 20; i++) storefront('event', {type: 'search', term: 'burst ' + i});"
                      "document.querySelector('a[href^=\"cart.html?id\"]').click();")
        page.wait_for_url("**/cart.html?id=p1")
        rows = shop.wait_for(20, "SELECT event_id, term FROM events WHERE term LIKE 'burst %'")
    assert sorted(r["term"] for r in rows) == sorted(f"burst {i}" for i in range(20))
    assert len({r["event_id"] for r in rows}) == 20


@pytest.mark.slow
def test_collector_down_while_events_fire_then_back(tmp_path, page):
    with Shop(tmp_path) as shop:
        page.goto(shop.url + "product.html")
        shop.wait_for(1)
        shop.server.stop()
        page.evaluate("for (let i = 0; i < 12; i++) storefront('event', {type: 'search', term: 'offline ' + i})")
        page.wait_for_timeout(1500)  # sends fail and back off
        shop.server.__enter__()      # same port, same store
        page.reload()
        rows = shop.wait_for(12, "SELECT event_id, term FROM events WHERE term LIKE 'offline %'")
        total = shop.wait_for(14)
    assert sorted(r["term"] for r in rows) == sorted(f"offline {i}" for i in range(12))
    assert len({r["event_id"] for r in total}) == len(total)


def test_collector_answering_503_for_a_while(tmp_path, page):
    with Shop(tmp_path, SQLITE_BUSY_TIMEOUT_MS=50, RETRY_AFTER_SECONDS=1) as shop:
        page.goto(shop.url + "product.html")
        shop.wait_for(1)
        statuses = []
        page.on("response", lambda r: "/v1/events" in r.url and statuses.append(r.status))
        lock = sqlite3.connect(shop.path, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")  # every write now waits 50 ms and is answered 503
        try:
            page.evaluate("for (let i = 0; i < 5; i++) storefront('event', {type: 'search', term: 'busy ' + i})")
            page.wait_for_timeout(4000)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
        rows = shop.wait_for(5, "SELECT event_id, term FROM events WHERE term LIKE 'busy %'")
    assert 503 in statuses
    assert sorted(r["term"] for r in rows) == sorted(f"busy {i}" for i in range(5))


def test_local_storage_throwing(tmp_path, page):
    page.add_init_script("for (const m of ['getItem', 'setItem', 'removeItem', 'key'])"
                         " Storage.prototype[m] = () => { throw new DOMException('no', 'SecurityError'); };")
    with Shop(tmp_path) as shop:
        page.goto(shop.url + "product.html")
        page.click("text=Add to wishlist")
        rows = shop.wait_for(2)
    assert sorted(r["type"] for r in rows) == ["pageview", "wishlist"]


def test_global_privacy_control_sends_nothing(tmp_path, page):
    page.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})")
    with Shop(tmp_path) as shop:
        posts = []
        page.on("request", lambda r: r.method == "POST" and posts.append(r.url))
        page.goto(shop.url + "product.html")
        page.click("text=Add to wishlist")
        page.click("text=Add to cart and view the cart")
        page.wait_for_url("**/cart.html?id=p1")
        page.wait_for_timeout(2500)
        stored = page.evaluate("Object.keys(localStorage).length + ':' + document.cookie")
        rows = shop.rows()
    assert (posts, rows, stored) == ([], [], "0:")


def test_strict_content_security_policy(tmp_path, page):
    with Shop(tmp_path) as shop:
        response = page.goto(shop.url + "product.html")
        assert "default-src 'self'" in response.headers["content-security-policy"]
        page.click("text=Add to wishlist")
        page.click("text=Use code STUDENT10")
        assert len(shop.wait_for(3)) == 3
        page.goto(shop.url + "order.html")  # the datacueConfig page
        shop.wait_for(4)
    assert page.problems == []
    assert len(shop.rows()) == 4


def test_spa_navigation_gives_one_page_view_per_route(tmp_path, page):
    with Shop(tmp_path) as shop:
        page.goto(shop.url + "spa.html")
        shop.wait_for(1)
        page.click("text=Sofas")
        page.click("text=Tables")
        page.click("text=Tables by price")  # replaceState, same path
        page.click("text=Tables")           # pushState, same path
        page.go_back()                      # popstate back to /demo/spa/tables (same path)
        page.go_back()                      # popstate back to /demo/spa/sofas
        rows = shop.wait_for(4, "SELECT page_url FROM events WHERE type = 'pageview' ORDER BY event_time, id")
    paths = [r["page_url"].split(shop.server.url)[1] for r in rows]
    assert paths == ["/demo/spa.html", "/demo/spa/sofas", "/demo/spa/tables", "/demo/spa/sofas"], paths
    assert json.dumps(page.problems) == "[]"

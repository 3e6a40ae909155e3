"""Segment's analytics-next and RudderStack's analytics-js, their npm packages' standalone bundles unchanged,
on a shop page in Debian's Chromium, sending to the collector under gunicorn on another origin (so every
CORS preflight happens): each message stored once, the order counted in the revenue report."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest

from collector import create_app
from collector.analytics.store import open_analytics
from collector.clock import iso
from collector.reports import registry

from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import free_port
from support.servers import prepare_store

pytestmark = pytest.mark.processes

#: Where `npm ci --prefix tools/sdks` (pinned in tools/sdks/package-lock.json) puts the standalone bundles.
BUNDLES = {
    "segment": ROOT / "tools/sdks/node_modules/@segment/analytics-next/dist/umd/index.js",
    "rudderstack": ROOT / "tools/sdks/node_modules/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js",
}
#: A visitor's desktop browser (headless Chromium's own user agent is, rightly, a bot's).
DESKTOP = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 "
           "Safari/537.36")
ORDER = {"order_id": "o-77", "currency": "USD", "revenue": 30,
         "products": [{"product_id": "p1", "name": "Shoe", "price": 15, "quantity": 2}]}
#: What the page does once its SDK is ready (`a` is the SDK's instance).
CALLS = ("a.page('Home', {path: '/', url: location.origin + '/'});"
         "a.track('Product Viewed', {product_id: 'p1', name: 'Shoe', price: 15});"
         f"a.track('Order Completed', {json.dumps(ORDER)});")
SETUPS = {
    "segment": ("AnalyticsNext.AnalyticsBrowser.load("
                "{writeKey: KEY, cdnSettings: {integrations: {'Segment.io': {apiKey: KEY}}}},"
                "{integrations: {'Segment.io': {apiHost: COLLECTOR_HOST + '/segment/v1', protocol: 'http'EXTRA}}})"
                ".then(function (loaded) { var a = loaded[0]; " + CALLS + " });"),
    "rudderstack": ("var a = new rudderanalytics.RudderAnalytics();"
                    "a.load(KEY, 'http://' + COLLECTOR_HOST + '/segment', {polyfillIfRequired: false,"
                    " getSourceConfig: function () { return {source: {id: 'src1', name: 'shop', workspaceId: 'w1',"
                    " enabled: true, config: {}, destinations: []}}; }EXTRA});" + CALLS),
}
#: Each SDK's ways of delivering: its default, and the batched or beacon transport a shop may turn on.
DELIVERIES = {
    ("segment", "standard"): "",
    ("segment", "batching"): ", deliveryStrategy: {strategy: 'batching', config: {size: 3, timeout: 500}}",
    ("rudderstack", "xhr"): "",
    ("rudderstack", "beacon"): ", useBeacon: true, beaconQueueOptions: {maxItems: 3, flushQueueInterval: 500}",
}


class ShopPage:
    """The shop's page and the SDK's bundle, served from their own origin on loopback."""

    def __init__(self, sdk: str, html: str):
        """Serve `/` (the page) and `/sdk.js` (the bundle)."""
        files = {"/": ("text/html", html.encode()), "/sdk.js": ("text/javascript", BUNDLES[sdk].read_bytes())}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                found = files.get(self.path.split("?")[0])
                self.send_response(200 if found else 404)
                body = found[1] if found else b""
                self.send_header("Content-Type", found[0] if found else "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def _rows(path: str) -> list[dict]:
    """The Segment events stored so far."""
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM events WHERE source = 'segment' ORDER BY id")]
    finally:
        conn.close()


def _wait_for(path: str, count: int, timeout: float = 20) -> list[dict]:
    """The rows once `count` have arrived (and a moment more, for any duplicate on its way)."""
    deadline = time.monotonic() + timeout
    while len(_rows(path)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.5)
    return _rows(path)


@pytest.mark.parametrize(("sdk", "delivery"), DELIVERIES)
def test_browser_sdk_bundle_sends_to_the_collector(tmp_path, browser, sdk, delivery):
    if not BUNDLES[sdk].exists():
        pytest.skip(f"SKIPPED LOUDLY: {BUNDLES[sdk].relative_to(ROOT)} is missing (npm ci --prefix tools/sdks)")
    path = str(tmp_path / "sdk.sqlite3")
    key = prepare_store(path, "browser-sdk")
    context = browser.new_context(user_agent=DESKTOP)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))
    with Gunicorn(path, workers=2) as server:
        setup = SETUPS[sdk].replace("EXTRA", DELIVERIES[sdk, delivery])
        host = server.url.removeprefix("http://")
        html = (f"<!doctype html><title>Shop</title><script src='/sdk.js'></script><script>"
                f"var KEY = {json.dumps(key)}, COLLECTOR_HOST = {json.dumps(host)};{setup}</script>")
        shop = ShopPage(sdk, html)
        try:
            page.goto(shop.url)
            rows = _wait_for(path, 3)
            if delivery == "beacon":  # beacons leave as the page goes (or when the queue's timer fires)
                page.goto("about:blank")
                rows = _wait_for(path, 3)
        finally:
            context.close()
            shop.close()
    assert problems == []
    assert sorted(r["event_name"] for r in rows) == ["Home", "Order Completed", "Product Viewed"], rows
    assert len({r["event_id"] for r in rows}) == 3
    by_name = {r["event_name"]: r for r in rows}
    assert (by_name["Home"]["type"], by_name["Home"]["subtype"]) == ("pageview", "home")
    assert (by_name["Product Viewed"]["subtype"], by_name["Product Viewed"]["product_id"]) == ("product", "p1")
    assert by_name["Home"]["browser"] == "Chrome" and by_name["Home"]["bot"] is None
    assert by_name["Home"]["ip"] == "127.0.0.0"
    storage = create_app({"DATABASE_URL": f"sqlite:///{path}"}).extensions["collector.storage"]
    try:
        now = datetime.now(UTC)
        columns, revenue = registry.run(open_analytics(storage), "revenue", iso(now - timedelta(days=1)),
                                        iso(now + timedelta(hours=1)))
    finally:
        storage.close()
    [day] = [dict(zip(columns, row, strict=True)) for row in revenue]
    assert (day["orders"], day["revenue"], day["currency"]) == (1, 30.0, "USD")

"""Recommendations with real processes: orders sent through DataCue's backend API and Segment's Python SDK
change a product page's bought-together list once `collector worker` has counted them."""

from __future__ import annotations

import time

import pytest
import requests

from collector import create_app
from collector.access import server_keys

from support.datacue_backend import auth
from support.factories import basic
from support.factories import make_event
from support.servers import Gunicorn
from support.servers import database_url as url_of
from support.servers import prepare_store
from support.servers import start_worker
from support.servers import stop_worker

pytestmark = pytest.mark.processes


def _related(server, key: str) -> list[str]:
    """What p1's product page offers as bought with it."""
    answer = requests.post(server.url + "/v1/events", json=make_event("pageview", "product", product_id="p1"),
                           headers=basic(key), timeout=10)
    assert answer.status_code == 200, answer.text
    return [p["product_id"] for p in answer.json()["related_product_skus"]]


def test_orders_from_the_backend_api_and_segment_change_bought_together(database_url):
    analytics = pytest.importorskip("segment.analytics", reason="SKIPPED LOUDLY: segment-analytics-python is "
                                                                 "not installed (pip install -e '.[test]')")
    key = prepare_store(database_url, "shop")
    storage = create_app({"DATABASE_URL": url_of(database_url)}).extensions["collector.storage"]
    secret = server_keys.create_server_key(storage, key)
    storage.close()
    worker = start_worker(url_of(database_url), "--no-forward")
    try:
        with Gunicorn(database_url, workers=2) as server:
            products = [{"product_id": f"p{n}", "variant_id": "v1", "name": f"Product {n}", "price": 10, "stock": 5,
                         "category_1": "misc", "photo_url": f"/p{n}.jpg", "link": f"/p/{n}"} for n in range(1, 8)]
            sent = requests.post(server.url + "/v1/batch", json={"type": "products", "batch": products},
                                 headers=auth(key, secret), timeout=10)
            assert sent.status_code == 207 and all(s["status"] == "OK" for s in sent.json()["status"]), sent.text
            for n in range(12):  # background sales, never with p1
                requests.post(server.url + "/v1/orders", json={"order_id": f"b{n}", "cart": [
                    {"product_id": f"p{4 + n % 4}", "variant_id": "v1", "quantity": 1, "unit_price": 10,
                     "currency": "EUR"}]}, headers=auth(key, secret), timeout=10).raise_for_status()
            before = _related(server, key)
            started = time.monotonic()
            for n in range(8):  # the shop's backend: p1 with p2
                requests.post(server.url + "/v1/orders", json={"order_id": f"o{n}", "cart": [
                    {"product_id": "p1", "variant_id": "v1", "quantity": 1, "unit_price": 10, "currency": "EUR"},
                    {"product_id": "p2", "variant_id": "v1", "quantity": 1, "unit_price": 10, "currency": "EUR"}]},
                    headers=auth(key, secret), timeout=10).raise_for_status()
            client = analytics.Client(key, host=server.url + "/segment")
            for n in range(8):  # the storefront through Segment: p1 with p3
                client.track(user_id=f"u{n}", event="Order Completed", properties={
                    "order_id": f"s{n}", "currency": "EUR", "revenue": 20.0,
                    "products": [{"product_id": "p1", "price": 10.0, "quantity": 1},
                                 {"product_id": "p3", "price": 10.0, "quantity": 1}]})
            client.flush()
            client.shutdown()
            after = before
            while time.monotonic() - started < 60 and set(after[:2]) != {"p2", "p3"}:
                time.sleep(0.5)
                after = _related(server, key)
            took = time.monotonic() - started
    finally:
        stop_worker(worker)
    print(f"\nbought together changed {took:.1f} s after the orders were sent")
    assert set(before[:2]) != {"p2", "p3"}
    assert set(after[:2]) == {"p2", "p3"}, after

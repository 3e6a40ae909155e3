"""Segment's and RudderStack's Python SDKs, from PyPI and unchanged but for their host, against the collector
under gunicorn: every message they send is stored once, and the order counts as revenue."""

from __future__ import annotations

import pytest

from support.servers import Gunicorn
from support.servers import prepare_store

pytestmark = pytest.mark.processes

PRODUCT = {"product_id": "p1", "sku": "SKU-1", "name": "Shoe", "price": 25.0, "quantity": 2}


def _send(client) -> dict[str, str]:
    """Track, page, identify and an Order Completed through one SDK client; their messageIds by name."""
    sent = {
        "Product Viewed": client.track(user_id="u1", event="Product Viewed", properties=PRODUCT)[1],
        "Home": client.page(user_id="u1", name="Home", properties={"url": "https://shop.example/", "path": "/"})[1],
        "identify": client.identify(user_id="u1", traits={"email": "ana@example.com", "firstName": "Ana"})[1],
        "Order Completed": client.track(user_id="u1", event="Order Completed", properties={
            "order_id": "o-1", "currency": "EUR", "revenue": 50.0, "products": [PRODUCT]})[1],
    }
    client.flush()
    return {name: message["messageId"] for name, message in sent.items()}


def _check_stored_once(db, ids: dict[str, str]) -> None:
    """Each message stored once with its id, mapped, the order counted with its revenue."""
    rows = db("SELECT event_id, type, subtype, event_name, user_id FROM events WHERE source = 'segment'")
    assert sorted(r["event_id"] for r in rows) == sorted(ids.values())
    by_id = {r["event_id"]: r for r in rows}
    assert (by_id[ids["Product Viewed"]]["type"], by_id[ids["Product Viewed"]]["subtype"]) == ("pageview", "product")
    assert by_id[ids["Home"]]["subtype"] == "home"
    assert by_id[ids["identify"]]["type"] == "identify"
    assert by_id[ids["Order Completed"]]["event_name"] == "Order Completed"
    assert {r["user_id"] for r in rows} == {"u1"}
    [order] = db("SELECT order_id, status, revenue, currency FROM orders")
    assert (order["order_id"], order["status"], order["revenue"], order["currency"]) == ("o-1", "completed", 50.0,
                                                                                         "EUR")
    assert [u["email"] for u in db("SELECT email FROM users WHERE user_id = 'u1'")] == ["ana@example.com"]


@pytest.mark.parametrize("gzip", [False, True])
def test_segment_analytics_python(database_url, db, gzip):
    analytics = pytest.importorskip("segment.analytics", reason="SKIPPED LOUDLY: segment-analytics-python is "
                                                                 "not installed (pip install -e '.[test]')")
    key = prepare_store(database_url, "python-sdk")
    errors = []
    with Gunicorn(database_url, workers=2) as server:
        client = analytics.Client(key, host=server.url + "/segment", gzip=gzip,
                                  on_error=lambda error, batch: errors.append(error))
        ids = _send(client)
        client.shutdown()
    assert errors == []
    _check_stored_once(db, ids)


def test_rudder_sdk_python(database_url, db):
    rudder = pytest.importorskip("rudderstack.analytics", reason="SKIPPED LOUDLY: rudder-sdk-python is not "
                                                                 "installed (pip install -e '.[test]')")
    key = prepare_store(database_url, "python-sdk")
    errors = []
    with Gunicorn(database_url, workers=2) as server:
        # Gzip is on by default in this SDK; its traits go in context.traits.
        client = rudder.Client(key, host=server.url + "/segment",
                               on_error=lambda error, batch: errors.append(error))
        ids = _send(client)
        client.shutdown()
    assert errors == []
    _check_stored_once(db, ids)


def test_segment_python_sdk_refused_key_is_not_retried(database_url, db):
    # A wrong key: 401 with code and message, which the SDK reports as an APIError and does not resend.
    analytics = pytest.importorskip("segment.analytics", reason="SKIPPED LOUDLY: segment-analytics-python is "
                                                                 "not installed (pip install -e '.[test]')")
    prepare_store(database_url, "python-sdk")
    errors = []
    with Gunicorn(database_url, workers=2) as server:
        client = analytics.Client("wrong-key", host=server.url + "/segment", max_retries=3,
                                  on_error=lambda error, batch: errors.append(error))
        client.track(user_id="u1", event="Product Viewed", properties=PRODUCT)
        client.flush()
        client.shutdown()
    [error] = errors
    assert (error.status, error.code) == (401, "unauthorized")
    assert db("SELECT count(*) AS n FROM events") == [{"n": 0}]

"""Segment's HTTP Tracking API (and RudderStack's): every path and key location, bodies, limits, answers,
the corrected time, dedupe, and the e-commerce events counted in the shop reports."""

from __future__ import annotations

import base64
import gzip
import json
import sqlite3
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from collector.access import keys
from collector.analytics.store import open_analytics
from collector.clock import iso
from collector.clock import now_iso
from collector.clock import parse
from collector.errors import ConfigError
from collector.reports import registry

from support.factories import basic
from support.outbox import drain
from support.upstream import Upstream

P = "/segment"
SINGLE_PATHS = {"track": "track", "page": "page", "screen": "screen", "identify": "identify", "group": "group",
                "alias": "alias", "t": "track", "p": "page", "s": "screen", "i": "identify", "g": "group",
                "a": "alias"}


def message(type_="track", **fields) -> dict:
    """A valid message of a type, with what that type needs."""
    body = {"type": type_, "anonymousId": "anon-1", "messageId": f"m-{type_}-{id(fields)}"}
    body.update({"track": {"event": "Button Clicked"}, "group": {"groupId": "g1"},
                 "alias": {"previousId": "anon-1", "userId": "u1"}}.get(type_, {}))
    body.update(fields)
    return body


def post(client, path, body, headers=None, raw=None, **kwargs):
    """POST a JSON body (or raw bytes) as text/plain, the way analytics.js does."""
    data = raw if raw is not None else json.dumps(body)
    return client.post(P + path, data=data, headers={"Content-Type": "text/plain", **(headers or {})}, **kwargs)


def stored(db, sql="SELECT * FROM events ORDER BY id"):
    """The rows the store holds."""
    return db(sql)


@pytest.mark.parametrize(("path", "kind"), SINGLE_PATHS.items())
def test_every_single_message_path(client, key, db, path, kind):
    body = message(kind)
    body.pop("type")  # the path says what it is
    response = post(client, f"/v1/{path}", body, basic(key))
    assert (response.status_code, response.json) == (200, {"success": True})
    [row] = stored(db)
    assert row["source"] == "segment"
    assert row["type"] == ("pageview" if kind == "page" else kind)
    assert row["event_id"] == body["messageId"]


@pytest.mark.parametrize("path", ["/v1/batch", "/v1/b"])
def test_batch_paths(client, key, db, path):
    response = post(client, path, {"batch": [message("track"), message("identify", userId="u1")]}, basic(key))
    assert (response.status_code, response.json) == (200, {"success": True})
    assert [r["type"] for r in stored(db)] == ["track", "identify"]


def test_a_body_type_that_disagrees_with_the_path_is_refused_and_kept(client, key, db):
    response = post(client, "/v1/track", message("page"), basic(key))
    assert response.status_code == 400
    assert response.json["code"] == "invalid_event" and "page" in response.json["message"]
    assert stored(db) == []
    assert [r["source"] for r in db("SELECT source FROM rejected")] == ["segment"]


def _basic_with_password(key, password):
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()}


@pytest.mark.parametrize("where", ["basic", "basic_quoted_password", "basic_without_colon", "bearer", "body",
                                   "query"])
def test_every_place_the_write_key_goes(client, key, db, where):
    body, headers, path = {"batch": [message()]}, {}, "/v1/batch"
    if where == "basic":
        headers = basic(key)
    elif where == "basic_quoted_password":  # RudderStack's HTTP API docs encode KEY:""
        headers = _basic_with_password(key, '""')
    elif where == "basic_without_colon":  # Segment's docs: "might work due to backward compatibility"
        headers = {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}
    elif where == "bearer":
        headers = {"Authorization": f"Bearer {key}"}
    elif where == "body":
        body["writeKey"] = key
    else:
        path = f"/beacon/v1/batch?writeKey={key}"
    assert post(client, path, body, headers).status_code == 200
    [row] = stored(db)
    assert "writeKey" not in json.loads(row["payload"]), "the key is not kept with the event"


def test_the_header_key_wins_over_the_body(client, key, db):
    response = post(client, "/v1/batch", {"batch": [message()], "writeKey": "wrong"}, basic(key))
    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic " + base64.b64encode(b"nope:").decode()},
                                     {"Authorization": "Basic ###"}])
def test_a_missing_or_wrong_key_is_401_with_code_and_message(client, key, db, headers):
    response = post(client, "/v1/track", message(), headers)
    assert response.status_code == 401
    assert response.json["code"] == "unauthorized" and response.json["message"]
    assert stored(db) == [] and db("SELECT * FROM rejected") == []


def test_a_revoked_key_is_401(client, key, storage, db):
    assert storage.revoke_key(key, now_iso())
    response = post(client, "/v1/track", message(), basic(key))
    assert response.status_code == 401
    assert "revoked" in response.json["message"]


def test_origin_rules_apply(client, shop_key, db):
    ok = client.post(P + "/v1/t", data=json.dumps(message()),
                     headers={**basic(shop_key), "Origin": "https://www.shop.example"})
    assert ok.status_code == 200
    refused = client.post(P + "/v1/t", data=json.dumps(message(messageId="m2")),
                          headers={**basic(shop_key), "Origin": "https://evil.example"})
    assert refused.status_code == 403 and refused.json["code"] == "origin_not_allowed"
    assert refused.headers["Access-Control-Allow-Origin"] == "https://evil.example"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json", "application/json;charset=UTF-8",
                                          "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", None])
def test_json_whatever_the_content_type(client, key, db, content_type):
    headers = {**basic(key), **({"Content-Type": content_type} if content_type else {})}
    response = client.post(P + "/v1/track", data=json.dumps(message()), headers=headers)
    assert response.status_code == 200
    assert len(stored(db)) == 1


def test_gzip_bodies(client, key, db):
    body = gzip.compress(json.dumps({"batch": [message(messageId=f"g{i}") for i in range(50)]}).encode())
    response = post(client, "/v1/batch", None, {**basic(key), "Content-Encoding": "gzip"}, raw=body)
    assert response.status_code == 200
    assert len(stored(db)) == 50


def test_malformed_json_is_400_and_kept(client, key, db):
    response = post(client, "/v1/batch", None, basic(key), raw=b'{"batch": [')
    assert response.status_code == 400 and response.json["code"] == "malformed_json"
    assert [r["reason"] for r in db("SELECT reason FROM rejected")] == ["malformed_json"]


def test_a_body_over_the_batch_limit_is_413(make_app, key, db):
    client = make_app(SEGMENT_MAX_BATCH_BYTES=5000).test_client()
    big = {"batch": [message(messageId=f"b{i}", properties={"pad": "x" * 400}) for i in range(20)]}
    response = post(client, "/v1/batch", big, basic(key))
    assert response.status_code == 413 and response.json["code"] == "payload_too_large"
    assert stored(db) == []


def test_the_default_batch_limit_takes_rudderstacks_four_mebibytes(client, key, db):
    # rudder-sdk-python sends batches up to 4 MiB; 3.5 MB of 100 messages must all be stored.
    batch = [message(messageId=f"r{i}", properties={"pad": "x" * 30_000}) for i in range(120)]
    assert 3_500_000 < len(json.dumps({"batch": batch})) < 4 * 1024 * 1024
    response = post(client, "/v1/batch", {"batch": batch}, basic(key))
    assert (response.status_code, response.json) == (200, {"success": True})
    assert db("SELECT count(*) AS n FROM events") == [{"n": 120}]


def test_an_oversized_message_in_a_batch_is_refused_alone(client, key, db):
    batch = [message(messageId="ok1"), message(messageId="big", properties={"pad": "x" * 40_000}),
             message(messageId="ok2")]
    response = post(client, "/v1/batch", {"batch": batch}, basic(key))
    assert response.status_code == 200 and response.json["success"] is True
    assert response.json["refused"] == [{"index": 1, "messageId": "big", "code": "payload_too_large",
                                         "message": response.json["refused"][0]["message"], "errors": {}}]
    assert {r["event_id"] for r in stored(db)} == {"ok1", "ok2"}
    [kept] = db("SELECT reason, event_id, raw_bytes FROM rejected")
    assert (kept["reason"], kept["event_id"]) == ("payload_too_large", "big")


def test_a_single_message_over_the_event_limit_is_413(client, key, db):
    response = post(client, "/v1/track", message(properties={"pad": "x" * 40_000}), basic(key))
    assert response.status_code == 413
    assert stored(db) == [] and len(db("SELECT * FROM rejected")) == 1


def test_messages_past_the_batch_count_limit_are_refused_alone(client, key, db):
    batch = [{"type": "track", "event": "E", "anonymousId": "a", "messageId": f"c{i}"} for i in range(2502)]
    response = post(client, "/v1/batch", {"batch": batch}, basic(key))
    assert response.status_code == 200
    assert [r["index"] for r in response.json["refused"]] == [2500, 2501]
    assert db("SELECT count(*) AS n FROM events") == [{"n": 2500}]


def test_partial_batch_answers_200_lists_the_refused_and_keeps_them(client, key, db):
    batch = [message(messageId="good"), {"type": "track", "messageId": "no-id", "event": "E"},
             {"type": "track", "anonymousId": "a", "messageId": "no-name"}, {"type": "launch", "anonymousId": "a"},
             "not an object", message("group", messageId="no-group", groupId="")]
    response = post(client, "/v1/batch", {"batch": batch}, basic(key))
    assert response.status_code == 200
    body = response.json
    assert (body["success"], body["received"], body["stored"], body["rejected"]) == (True, 6, 1, 5)
    refused = {r["index"]: r for r in body["refused"]}
    assert sorted(refused) == [1, 2, 3, 4, 5]
    assert "userId" in refused[1]["errors"] and "event" in refused[2]["errors"] and "type" in refused[3]["errors"]
    assert "groupId" in refused[5]["errors"]
    assert all(r["code"] and r["message"] for r in refused.values())
    assert [r["event_id"] for r in stored(db)] == ["good"]
    kept = db("SELECT event_id, reason, raw FROM rejected ORDER BY id")
    assert len(kept) == 5 and all(r["reason"] == "invalid_event" for r in kept)
    assert json.loads(kept[0]["raw"])["messageId"] == "no-id"


def test_a_batch_with_nothing_valid_is_400(client, key, db):
    response = post(client, "/v1/batch", {"batch": [{"type": "track"}, {"type": "nope"}]}, basic(key))
    assert response.status_code == 400
    assert response.json["code"] == "invalid_batch" and response.json["message"]
    assert [r["index"] for r in response.json["refused"]] == [0, 1]
    assert len(db("SELECT * FROM rejected")) == 2


@pytest.mark.parametrize("empty", [None, ""])
def test_empty_and_null_ids_are_absent(client, key, db, empty):
    response = post(client, "/v1/track", message(userId=empty, anonymousId="a9"), basic(key))
    assert response.status_code == 200
    [row] = stored(db)
    assert (row["user_id"], row["anonymous_id"]) == (None, "a9")
    numeric = post(client, "/v1/track", message(userId=42, anonymousId=empty, messageId="n"), basic(key))
    assert numeric.status_code == 200
    assert stored(db)[1]["user_id"] == "42"


def test_the_corrected_time(client, key, db):
    # The device clock is two hours slow: the event happened 5 s before it was sent, so 5 s before arrival.
    slow = datetime.now(UTC) - timedelta(hours=2)
    body = message(timestamp=iso(slow - timedelta(seconds=5)), sentAt=iso(slow))
    before = datetime.now(UTC)
    assert post(client, "/v1/track", body, basic(key)).status_code == 200
    after = datetime.now(UTC)
    [row] = stored(db)
    happened = parse(row["event_time"])
    assert before - timedelta(seconds=5.1) <= happened <= after - timedelta(seconds=4.9)
    assert row["client_ts"] == body["timestamp"]


def test_original_timestamp_wins_and_batch_sent_at_applies(client, key, db):
    now = datetime.now(UTC)
    batch = {"sentAt": iso(now + timedelta(hours=1)), "batch": [
        # RudderStack's browser SDK: originalTimestamp, not timestamp.
        message(messageId="r", originalTimestamp=iso(now + timedelta(hours=1) - timedelta(seconds=30)),
                timestamp=iso(now - timedelta(days=3))),
        # A historical import without sentAt anywhere is taken as it is.
    ]}
    assert post(client, "/v1/batch", batch, basic(key)).status_code == 200
    historical = message(messageId="h", timestamp="2025-01-02T03:04:05.000Z")
    assert post(client, "/v1/track", historical, basic(key)).status_code == 200
    rows = {r["event_id"]: r for r in stored(db)}
    assert abs((parse(rows["r"]["received_at"]) - parse(rows["r"]["event_time"])).total_seconds() - 30) < 0.01
    assert rows["h"]["event_time"] == "2025-01-02T03:04:05.000Z"


def test_a_time_in_the_future_is_never_stored(client, key, db):
    future = iso(datetime.now(UTC) + timedelta(days=30))
    assert post(client, "/v1/track", message(timestamp=future), basic(key)).status_code == 200
    [row] = stored(db)
    assert row["event_time"] <= row["received_at"]


def test_an_unreadable_time_falls_back_to_arrival(client, key, db):
    # Segment's own docs example: "2015-2-02T00:30:08.276Z" is not ISO-8601.
    response = post(client, "/v1/track", message(timestamp="2015-2-02T00:30:08.276Z"), basic(key))
    assert response.status_code == 200
    [row] = stored(db)
    assert row["event_time"] == row["received_at"]


def test_retries_with_the_same_message_id_are_stored_once(client, key, db):
    body = {"batch": [message(messageId="once-1"), message(messageId="once-2")]}
    for _ in range(3):
        assert post(client, "/v1/batch", body, basic(key)).json == {"success": True}
    assert post(client, "/v1/t", message(messageId="once-1"), basic(key)).status_code == 200
    assert sorted(r["event_id"] for r in stored(db)) == ["once-1", "once-2"]


def test_a_message_without_an_id_gets_one(client, key, db):
    body = message()
    body.pop("messageId")
    assert post(client, "/v1/track", body, basic(key)).status_code == 200
    [row] = stored(db)
    assert len(row["event_id"]) == 36 and json.loads(row["payload"])["messageId"] == row["event_id"]


def test_batch_context_merges_under_each_message(client, key, db):
    batch = {"context": {"library": {"name": "analytics-python"}, "locale": "en-GB"},
             "batch": [message(messageId="c1", context={"locale": "fr-FR"}), message(messageId="c2")]}
    assert post(client, "/v1/batch", batch, basic(key)).status_code == 200
    contexts = {r["event_id"]: json.loads(r["payload"])["context"] for r in stored(db)}
    assert contexts["c1"] == {"library": {"name": "analytics-python"}, "locale": "fr-FR"}
    assert contexts["c2"]["locale"] == "en-GB"


def test_browser_messages_take_the_requests_address_and_agent_servers_do_not(client, key, db):
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    browser = message(messageId="web", context={"library": {"name": "analytics.js"},
                                                "page": {"url": "https://shop.example/p?utm_source=news"}})
    server = message(messageId="srv", context={"library": {"name": "analytics-python"}})
    server_with_ip = message(messageId="srv-ip", context={"ip": "203.0.113.77", "userAgent": chrome})
    for body in (browser, server, server_with_ip):
        assert post(client, "/v1/track", body, {**basic(key), "User-Agent": "python-requests/2.32"},
                    environ_base={"REMOTE_ADDR": "198.51.100.23"}).status_code == 200
    rows = {r["event_id"]: r for r in stored(db)}
    assert rows["web"]["ip"] == "198.51.100.0" and rows["web"]["page_path"] == "/p"
    assert rows["web"]["utm_source"] == "news"
    # A shop server's own address and HTTP library are not the visitor's: no IP, not a bot.
    assert (rows["srv"]["ip"], rows["srv"]["user_agent"], rows["srv"]["bot"]) == (None, None, None)
    assert rows["srv-ip"]["ip"] == "203.0.113.0" and rows["srv-ip"]["browser"] == "Chrome"
    assert json.loads(rows["srv-ip"]["payload"])["context"]["ip"] == "203.0.113.0"


def test_cors_preflight_allows_every_header_the_browser_sdks_send(client, key):
    asked = ("anonymousid,authorization,content-type,sentat,x-retry-count,rsa-recovered,rsa-retry-attempt,"
             "rsa-since-last-attempt,rsa-since-first-attempt,rsa-retry-reason")
    for path in ("/v1/t", "/v1/page", "/v1/batch", "/beacon/v1/batch", "/v1/m"):
        response = client.open(P + path, method="OPTIONS", headers={
            "Origin": "https://shop.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": asked})
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
        assert set(response.headers["Access-Control-Allow-Headers"].split(", ")) == set(asked.split(","))
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
    answer = post(client, "/v1/t", message(), {**basic(key), "Origin": "https://shop.example"})
    assert answer.headers["Access-Control-Allow-Origin"] == "https://shop.example"


def test_analytics_js_metrics_are_taken_and_not_kept(client, db):
    series = {"series": [{"type": "Counter", "metric": "analytics_js.invoke", "value": 1, "tags": {}}]}
    response = post(client, "/v1/m", series)
    assert (response.status_code, response.json) == (200, {"success": True})
    assert stored(db) == [] and db("SELECT * FROM rejected") == []


def test_rate_limited_answers_429_with_retry_after(make_app, storage, db):
    live = keys.create_key(storage, "busy", [])
    client = make_app(RATE_LIMIT_PER_KEY="1/minute").test_client()
    assert post(client, "/v1/t", message(messageId="r1"), basic(live)).status_code == 200
    refused = post(client, "/v1/t", message(messageId="r2"), basic(live))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["code"] == "rate_limited"


def test_the_prefix_is_configurable(make_app, key, db):
    client = make_app(SEGMENT_PREFIX="/sdk/").test_client()
    assert client.post("/sdk/v1/track", data=json.dumps(message()), headers=basic(key)).status_code == 200
    assert client.post("/segment/v1/track", data=json.dumps(message()), headers=basic(key)).status_code == 404


def test_an_empty_prefix_is_refused_at_startup(make_app):
    with pytest.raises(ConfigError, match="SEGMENT_PREFIX"):
        make_app(SEGMENT_PREFIX="")


def test_identify_traits_feed_the_users_view(client, key, db):
    batch = {"batch": [
        message("identify", messageId="i1", userId="u1", traits={"email": "old@example.com", "firstName": "Ana"},
                timestamp="2026-11-01T10:00:00Z"),
        # RudderStack's SDKs put identify traits in context.traits.
        message("identify", messageId="i2", userId="u1", context={"traits": {"email": "new@example.com"}},
                timestamp="2026-11-02T10:00:00Z"),
        message("identify", messageId="i3", userId="u2", traits={"last_name": "Ng", "phone": "+1 555"},
                timestamp="2026-11-02T10:00:00Z"),
    ]}
    assert post(client, "/v1/batch", batch, basic(key)).status_code == 200
    users = {u["user_id"]: u for u in db("SELECT * FROM users")}
    assert (users["u1"]["email"], users["u1"]["first_name"], users["u1"]["sources"]) == (
        "new@example.com", "Ana", "segment")
    assert (users["u2"]["last_name"], users["u2"]["phone"]) == ("Ng", "+1 555")


SHOP_VISIT = [
    ("page", {"name": "Home", "properties": {"path": "/", "url": "https://shop.example/"}}),
    ("track", {"event": "Product List Viewed", "properties": {"list_id": "l1", "category": "Shoes"}}),
    ("page", {"name": "Product", "properties": {"path": "/p/p1", "url": "https://shop.example/p/p1"}}),
    ("track", {"event": "Product Viewed", "properties": {"product_id": "p1", "variant": "v1", "price": 10}}),
    ("track", {"event": "Products Searched", "properties": {"query": "red shoes"}}),
    ("track", {"event": "Product Clicked", "properties": {"product_id": "p2"}}),
    ("track", {"event": "Promotion Clicked", "properties": {"promotion_id": "summer", "creative": "top_banner"}}),
    ("track", {"event": "Product Added to Wishlist", "properties": {"product_id": "p2"}}),
    ("track", {"event": "Product Removed from Wishlist", "properties": {"product_id": "p2"}}),
    ("track", {"event": "Cart Viewed", "properties": {"cart_id": "c1", "products": [
        {"product_id": "p1", "quantity": 2, "price": 10}]}}),
    ("track", {"event": "Checkout Started", "properties": {"order_id": "o1", "currency": "USD", "products": [
        {"product_id": "p1", "quantity": 2, "price": 10}]}}),
    ("track", {"event": "Order Completed", "properties": {"order_id": "o1", "currency": "USD", "revenue": 20,
                                                          "products": [{"product_id": "p1", "quantity": 2,
                                                                        "price": 10}]}}),
    ("track", {"event": "Signed In", "properties": {"username": "ana"}}),
    ("track", {"event": "Coupon Entered", "properties": {"coupon_id": "X"}}),
    # An order sent from a server without its products: its revenue still counts.
    ("track", {"event": "Order Completed", "userId": "u1", "properties": {"order_id": "o2", "total": 35.5,
                                                                        "currency": "usd"}}),
    ("track", {"event": "Order Cancelled", "properties": {"order_id": "o3"}}),
    ("track", {"event": "Order Completed", "properties": {"order_id": "o3", "revenue": 99, "currency": "USD"}}),
    ("track", {"event": "Order Refunded", "properties": {"order_id": "o1"}}),
]
MAPPED = {
    "Home": ("pageview", "home"), "Product List Viewed": ("pageview", "category"), "Product": ("pageview", "page"),
    "Product Viewed": ("pageview", "product"), "Products Searched": ("search", None),
    "Product Clicked": ("click", "product"), "Promotion Clicked": ("click", "banner"),
    "Product Added to Wishlist": ("wishlist", "add"), "Product Removed from Wishlist": ("wishlist", "remove"),
    "Cart Viewed": ("viewcart", None), "Checkout Started": ("order", "started"),
    "Order Completed": ("order", "completed"), "Signed In": ("login", None), "Coupon Entered": ("track", None),
    "Order Cancelled": ("order", "cancelled"), "Order Refunded": ("track", None),
}


def _send_visit(client, key, start: datetime) -> None:
    """The shop visit above, a minute apart, as analytics.js sends it (one message per request)."""
    for n, (kind, fields) in enumerate(SHOP_VISIT):
        when = iso(start + timedelta(minutes=n))
        body = {"type": kind, "anonymousId": "visitor-1", "messageId": f"v{n}", "timestamp": when, "sentAt": when,
                "context": {"library": {"name": "analytics.js"}}, **fields}
        assert post(client, f"/v1/{kind[0]}", body, basic(key)).status_code == 200


def test_ecommerce_events_are_mapped_and_keep_their_name_and_properties(client, key, db):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    _send_visit(client, key, start)
    rows = stored(db)
    assert len(rows) == len(SHOP_VISIT)
    for row, (_, fields) in zip(rows, SHOP_VISIT, strict=True):
        name = fields.get("event") or fields.get("name")
        assert row["event_name"] == name
        assert (row["type"], row["subtype"]) == MAPPED[name], name
        assert json.loads(row["payload"])["properties"] == fields["properties"]
    by_id = {r["event_id"]: r for r in rows}
    assert (by_id["v1"]["category_name"], by_id["v3"]["product_id"], by_id["v3"]["variant_id"]) == ("Shoes", "p1", "v1")
    assert (by_id["v4"]["term"], by_id["v6"]["banner_id"], by_id["v11"]["revenue"]) == ("red shoes", "summer", 20.0)
    assert (by_id["v14"]["revenue"], by_id["v14"]["currency"]) == (35.5, "USD")


def test_mapped_events_fill_the_shop_reports(client, key, storage, db):
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    _send_visit(client, key, start)
    since, until = iso(start - timedelta(hours=1)), iso(start + timedelta(hours=2))

    def run(name, **options):
        columns, rows = registry.run(open_analytics(storage), name, since, until, "live", **options)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    # o1 (20) and o2 (35.5) stand; o3 was cancelled; a refund is not a cancellation.
    [revenue] = run("revenue")
    assert (revenue["orders"], revenue["revenue"], revenue["currency"]) == (2, 55.5, "USD")
    products = {r["product_id"]: r for r in run("products")}
    assert (products["p1"]["views"], products["p1"]["carted"], products["p1"]["bought"]) == (1, 2, 2)
    assert [(r["term"], r["searches"]) for r in run("searches")] == [("red shoes", 1)]
    clicks = {(r["kind"], r["id"]): r["clicks"] for r in run("clicks")}
    assert clicks == {("banner", "summer"): 1, ("product", "p2"): 1}
    assert [(r["product_id"], r["adds"], r["removes"]) for r in run("wishlist")] == [("p2", 1, 1)]
    funnel = [(r["step"], r["count"]) for r in run("funnel")]
    assert funnel == [("product view", 1), ("cart", 1), ("order started", 1), ("order completed", 1)]
    # Page views are the page calls: the Product Viewed and Product List Viewed tracks on those pages are not
    # counted again.
    [overview] = [r for r in run("overview") if r["metric"] == "pageviews"]
    assert overview["value"] == 2
    assert {r["page"]: r["pageviews"] for r in run("pages")} == {"/": 1, "/p/p1": 1}
    assert db("SELECT count(*) AS n FROM pageviews") == [{"n": 2}]
    assert db("SELECT count(*) AS n FROM product_views") == [{"n": 1}]
    assert db("SELECT pageviews FROM sessions") == [{"pageviews": 2}]


def test_forwarding_webhooks_take_every_message_datacue_the_mapped_ones(client, key, storage, target):
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    with Upstream() as hook, Upstream() as datacue:
        target("webhook", hook, secret)
        target("datacue", datacue, "dc-key")
        batch = [message("track", messageId="f1", event="Order Completed", userId="u1",
                         properties={"order_id": "o9", "currency": "EUR",
                                     "products": [{"product_id": "p1", "price": 5, "quantity": 1}]}),
                 message("identify", messageId="f2", userId="u1", traits={"email": "a@b.c"}),
                 message("track", messageId="f3", event="Button Clicked"),
                 message("page", messageId="f4", name="About", properties={"path": "/about"}),
                 message("track", messageId="f5", event="Order Completed", properties={"order_id": "o10",
                                                                                        "total": 3})]
        assert post(client, "/v1/batch", {"batch": batch}, basic(key)).status_code == 200
        drain(storage)
    delivered = [e for r in hook.received for e in r["json"]["data"]["events"]]
    assert sorted(e["event_id"] for e in delivered) == ["f1", "f2", "f3", "f4", "f5"]
    assert {e["event_name"] for e in delivered} == {"Order Completed", None, "Button Clicked", "About"}
    assert all(e["source"] == "segment" for e in delivered)
    # DataCue takes the order with its cart; not identify, not unmapped tracks, not a plain page, and not
    # an order without products (DataCue's schema refuses those).
    [sent] = datacue.received
    assert sent["json"]["event"] == {"type": "order", "subtype": "completed", "order_id": "o9",
                                     "cart": [{"product_id": "p1", "quantity": 1, "unit_price": 5.0,
                                               "currency": "EUR"}]}
    assert sent["json"]["user"] == {"user_id": "u1", "anonymous_id": "anon-1"}


def test_the_home_page_rule_is_configurable(make_app, key, db):
    client = make_app(SEGMENT_HOME_NAMES="Start", SEGMENT_HOME_PATHS="/index.html").test_client()
    for n, fields in enumerate([{"name": "Home", "properties": {"path": "/"}}, {"name": "start"},
                                {"properties": {"path": "/index.html"}}]):
        assert post(client, "/v1/p", message("page", messageId=f"h{n}", **fields), basic(key)).status_code == 200
    assert [r["subtype"] for r in stored(db)] == ["page", "home", "home"]


@pytest.mark.sqlite_only
def test_a_store_that_cannot_be_written_answers_503_with_retry_after(make_app, key, db_path, db):
    locked = make_app(SQLITE_BUSY_TIMEOUT_MS=50).test_client()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = post(locked, "/v1/batch", {"batch": [message(messageId="later")]},
                        {**basic(key), "Origin": "https://shop.example"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # The SDKs resend a 503 after Retry-After, with the same messageId: stored then, once.
    assert response.status_code == 503 and int(response.headers["Retry-After"]) > 0
    assert response.json["code"] and response.json["message"]
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert stored(db) == []
    assert post(locked, "/v1/batch", {"batch": [message(messageId="later")]}, basic(key)).status_code == 200
    assert [r["event_id"] for r in stored(db)] == ["later"]

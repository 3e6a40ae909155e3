"""DataCue browser events: every type valid, every required field, wrong types, unknown values."""

from __future__ import annotations

import json

import pytest

from support.factories import basic
from support.factories import make_event
from support.factories import stored_status

CART = [{"product_id": "p1", "variant_id": "v1", "quantity": 2, "unit_price": 10.5, "currency": "USD"}]

#: (type, subtype, event fields, the columns the event must land in)
VALID = [
    ("pageview", "home", {}, {}),
    ("pageview", "product", {"product_id": "p1", "variant_id": "v1"}, {"product_id": "p1", "variant_id": "v1"}),
    ("pageview", "product", {"product_id": "p1"}, {"product_id": "p1", "variant_id": None}),
    ("pageview", "category", {"category_name": "living-room"}, {"category_name": "living-room"}),
    ("pageview", "category", {"category_id": "c9"}, {"category_id": "c9"}),
    ("viewcart", None, {"cart": [{"product_id": "p1", "variant_id": "v1"}]}, {}),
    ("viewcart", None, {"cart": []}, {}),
    ("search", None, {"term": "tables"}, {"term": "tables"}),
    ("wishlist", "add", {"product_id": "p1", "variant_id": "v2"}, {"product_id": "p1", "variant_id": "v2"}),
    ("wishlist", "remove", {"product_id": "p1"}, {"product_id": "p1"}),
    ("click", "banner", {"banner_id": "b1"}, {"banner_id": "b1"}),
    ("click", "product", {"product_id": "p2"}, {"product_id": "p2"}),
    ("click", "product", {"product_id": "p2", "list": "related"}, {"product_id": "p2"}),
    ("click", "banner", {"banner_id": "b1", "list": "banners"}, {"banner_id": "b1"}),
    ("impression", "products", {"list": "recent", "ids": ["p1", "p2"]}, {}),
    ("impression", "banners", {"list": "banners", "ids": ["b1"]}, {}),
    ("order", "started", {"cart": CART}, {"order_id": None, "revenue": 21.0, "currency": "USD"}),
    ("order", "started", {"order_id": "o1", "cart": CART}, {"order_id": "o1"}),
    ("order", "completed", {"order_id": "o1", "cart": CART, "payment_method": "card"},
     {"order_id": "o1", "revenue": 21.0, "currency": "USD", "payment_method": "card"}),
    ("order", "cancelled", {"order_id": "o1"}, {"order_id": "o1", "revenue": None}),
    ("login", None, {}, {}),
]


@pytest.mark.parametrize(("type_", "subtype", "fields", "columns"), VALID)
def test_every_event_type_is_stored(client, key, db, type_, subtype, fields, columns):
    body = make_event(type_, subtype, **fields)
    response = client.post("/v1/events", json=body, headers=basic(key))
    assert response.status_code == stored_status(body), response.json
    [row] = db("SELECT * FROM events")
    assert (row["source"], row["type"], row["subtype"], row["mode"], row["key"]) == (
        "datacue", type_, subtype, "live", key)
    for column, value in columns.items():
        assert row[column] == value, column
    assert json.loads(row["payload"])["event"]["type"] == type_


#: (type, subtype, event fields, the field named missing)
MISSING = [
    ("pageview", "product", {}, "product_id"),
    ("pageview", "category", {}, "category_name"),
    ("viewcart", None, {}, "cart"),
    ("search", None, {}, "term"),
    ("wishlist", "add", {}, "product_id"),
    ("wishlist", "remove", {"variant_id": "v1"}, "product_id"),
    ("click", "banner", {}, "banner_id"),
    ("click", "product", {}, "product_id"),
    ("order", "started", {"order_id": "o1"}, "cart"),
    ("order", "completed", {"cart": CART}, "order_id"),
    ("order", "completed", {"order_id": "o1"}, "cart"),
    ("order", "cancelled", {}, "order_id"),
    ("impression", "products", {"ids": ["p1"]}, "list"),
]


@pytest.mark.parametrize(("type_", "subtype", "fields", "missing"), MISSING)
def test_required_event_field_missing(client, key, db, type_, subtype, fields, missing):
    response = client.post("/v1/events", json=make_event(type_, subtype, **fields), headers=basic(key))
    assert response.status_code == 400
    body = response.json
    assert body["code"] == "invalid_event"
    assert missing in body["errors"]["event"]
    assert f"event.{missing}" in body["message"]
    assert db("SELECT count(*) AS n FROM events")[0]["n"] == 0
    [rejected] = db("SELECT * FROM rejected")
    assert rejected["reason"] == "invalid_event" and missing in json.loads(rejected["errors"])["event"]


@pytest.mark.parametrize(("body", "path"), [
    ({"event": {"type": "login"}}, "user"),
    ({"user": {"anonymous_id": "a"}}, "event"),
    ({"user": {}, "event": {"type": "login"}}, "user"),
    ({"user": {"profile": {"sex": "f"}}, "event": {"type": "login"}}, "user"),
])
def test_required_envelope_field_missing(client, key, body, path):
    response = client.post("/v1/events", json=body, headers=basic(key))
    assert response.status_code == 400
    assert path in response.json["errors"]


#: (event fields or envelope overrides, where the error is reported)
WRONG_TYPES = [
    (make_event("search", None, term=42), ("event", "term")),
    (make_event("search", None, term=""), ("event", "term")),
    (make_event("pageview", "product", product_id=True), ("event", "product_id")),
    (make_event("pageview", "product", product_id={"id": 1}), ("event", "product_id")),
    (make_event("pageview", "product", product_id="x" * 300), ("event", "product_id")),
    (make_event("viewcart", None, cart="p1"), ("event", "cart")),
    (make_event("viewcart", None, cart=[{"variant_id": "v1"}]), ("event", "cart")),
    (make_event("order", "completed", order_id="o1", cart=[{"product_id": "p", "quantity": "many"}]),
     ("event", "cart")),
    (make_event("order", "completed", order_id="o1", cart=[{"product_id": "p", "unit_price": "NaN"}]),
     ("event", "cart")),
    (make_event("order", "completed", order_id="o1", cart=[{"product_id": "p", "currency": "dollars"}]),
     ("event", "cart")),
    (make_event("order", "started", cart=[{"product_id": "p", "price": 1, "unit_price": 2}]), ("event", "cart")),
    (make_event(user={"anonymous_id": "a", "profile": "gold"}), ("user", "profile")),
    (make_event(user={"user_id": 3.5}), ("user", "user_id")),
    (make_event(env_timestamp="yesterday"), ("timestamp",)),
    (make_event(env_timestamp=True), ("timestamp",)),
    (make_event(env_event_id="not-a-uuid"), ("event_id",)),
    (make_event(env_context={"ip": "999.1.1.1"}), ("context", "ip")),
    (make_event(env_context="web"), ("context",)),
    (make_event(env_evnt={"type": "login"}), ("evnt",)),
    ({"user": {"anonymous_id": "a"}, "event": "login"}, ("event",)),
    ({"user": {"anonymous_id": "a", "userid": "u"}, "event": {"type": "login"}}, ("user", "userid")),
]


@pytest.mark.parametrize(("body", "path"), WRONG_TYPES)
def test_wrong_types_are_refused_with_the_field_named(client, key, body, path):
    response = client.post("/v1/events", json=body, headers=basic(key))
    assert response.status_code == 400, response.json
    errors = response.json["errors"]
    for part in path:
        errors = errors[part]
    assert errors


@pytest.mark.parametrize(("event", "field", "allowed"), [
    ({"type": "purchase"}, "type", "pageview, viewcart, search, wishlist, click, impression, order, login"),
    ({"type": 7}, "type", "pageview, viewcart"),
    ({"type": "pageview", "subtype": "related"}, "subtype", "home, product, category"),
    ({"type": "pageview"}, "subtype", "home, product, category"),
    ({"type": "wishlist", "subtype": "clear", "product_id": "p"}, "subtype", "add, remove"),
    ({"type": "click", "subtype": "similar", "product_id": "p"}, "subtype", "banner, product"),
    ({"type": "order", "subtype": "refunded", "order_id": "o"}, "subtype", "started, completed, cancelled"),
    ({"type": "search", "subtype": "instant", "term": "x"}, "subtype", "no subtype"),
])
def test_unknown_type_or_subtype_names_the_allowed_values(client, key, event, field, allowed):
    response = client.post("/v1/events", json={"user": {"anonymous_id": "a"}, "event": event}, headers=basic(key))
    assert response.status_code == 400
    message = response.json["errors"]["event"][field][0]
    assert allowed in message
    assert allowed in response.json["message"]


def test_spelling_variants_are_stored_in_one_form(client, key, db):
    started = make_event("order", "started", order_id="o1", cart=[
        {"product_id": "p1", "variant": "v1", "quantity": 2, "price": "24", "currency": "usd"}])
    completed = make_event("order", "completed", order_id="o1", cart=[
        {"product_id": "p1", "variant_id": "v1", "quantity": 2, "unit_price": 24, "currency": "USD"}])
    for body in (started, completed):
        assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    lines = db("SELECT product_id, variant_id, quantity, unit_price, currency FROM event_lines ORDER BY id")
    assert lines == [{"product_id": "p1", "variant_id": "v1", "quantity": 2, "unit_price": 24.0,
                      "currency": "USD"}] * 2
    payloads = [json.loads(r["payload"])["event"]["cart"] for r in db("SELECT payload FROM events ORDER BY id")]
    assert payloads[0] == payloads[1]
    assert "variant" not in payloads[0][0] and "price" not in payloads[0][0]


def test_bare_product_ids_in_a_cart_become_lines(client, key, db):
    body = make_event("viewcart", None, cart=["p1", "p2", 3])
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    assert [r["product_id"] for r in db("SELECT product_id FROM event_lines ORDER BY line_no")] == ["p1", "p2", "3"]


def test_extra_keys_in_event_and_profile_are_kept(client, key, db):
    body = make_event("pageview", "product", product_id="p1", slot="related",
                      user={"user_id": "u1", "profile": {"sex": "female", "tier": {"level": 3}}})
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    payload = json.loads(db("SELECT payload FROM events")[0]["payload"])
    assert payload["event"]["slot"] == "related"
    assert payload["user"]["profile"]["tier"] == {"level": 3}


@pytest.mark.parametrize("body", [
    make_event("pageview", "home", blob="x" * 9000),
    make_event(user={"anonymous_id": "a", "profile": {"notes": "x" * 5000}}),
])
def test_extra_keys_are_bounded(client, key, body):
    response = client.post("/v1/events", json=body, headers=basic(key))
    assert response.status_code == 400
    assert "larger than" in response.json["message"].lower()


def test_numeric_ids_are_stored_as_text(client, key, db):
    body = make_event("pageview", "product", product_id=1234, user={"user_id": 99})
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    [row] = db("SELECT product_id, user_id FROM events")
    assert row == {"product_id": "1234", "user_id": "99"}


def test_user_id_and_anonymous_id_are_both_kept_for_stitching(client, key, db):
    body = make_event("login", None, user={"user_id": "u1", "anonymous_id": "a1"})
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    assert db("SELECT user_id, anonymous_id FROM events") == [{"user_id": "u1", "anonymous_id": "a1"}]


def test_mixed_currencies_leave_revenue_empty(client, key, db):
    cart = [{"product_id": "a", "unit_price": 1, "quantity": 1, "currency": "USD"},
            {"product_id": "b", "unit_price": 1, "quantity": 1, "currency": "EUR"}]
    body = make_event("order", "completed", order_id="o", cart=cart)
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    assert db("SELECT revenue, currency FROM events") == [{"revenue": None, "currency": None}]


def test_undeclared_fields_stay_in_the_payload_only(client, key, db):
    body = make_event("login", None, product_id=["not", "a", "column"], term="x")
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    [row] = db("SELECT product_id, term, payload FROM events")
    assert (row["product_id"], row["term"]) == (None, None)
    assert json.loads(row["payload"])["event"]["product_id"] == ["not", "a", "column"]


@pytest.mark.parametrize("event", [
    {"type": "click", "subtype": "product", "product_id": "p1", "list": "<script>"},
    {"type": "impression", "subtype": "products", "list": "related", "ids": [f"p{i}" for i in range(51)]},
    {"type": "impression", "subtype": "products", "list": "related", "ids": "p1"},
])
def test_a_widget_list_is_one_the_widgets_name(client, key, event):
    response = client.post("/v1/events", json={"user": {"anonymous_id": "a"}, "event": event}, headers=basic(key))
    assert response.status_code == 400
    assert set(response.json["errors"]["event"]) & {"list", "ids"}

"""DataCue's backend API (products, banners, users, orders, batch) on both backends, with the docs' own bodies."""

from __future__ import annotations

import json

import pytest

from collector.access import keys
from collector.access import server_keys
from collector.analytics.store import open_analytics
from collector.reports import registry

from support.datacue_backend import BANNER
from support.datacue_backend import BANNER_UPDATE
from support.datacue_backend import ORDER
from support.datacue_backend import ORDER_REVENUE
from support.datacue_backend import PRODUCT
from support.datacue_backend import PRODUCT_BATCH
from support.datacue_backend import PRODUCT_BATCH_VERBATIM
from support.datacue_backend import PRODUCT_UPDATE
from support.datacue_backend import USER
from support.datacue_backend import USER_BATCH
from support.datacue_backend import USER_BATCH_DELETE
from support.datacue_backend import USER_BATCH_UPDATE
from support.datacue_backend import USER_UPDATE
from support.datacue_backend import auth
from support.datacue_backend import send
from support.factories import basic
from support.factories import make_event
from support.factories import stored_status

#: Each type's required fields, as the docs' tables give them less those their own examples leave out.
REQUIRED = {
    "products": (PRODUCT, ["product_id", "variant_id", "category_1", "price", "photo_url", "link"]),
    "banners": (BANNER, ["banner_id", "type", "category_1", "photo_url", "link"]),
    "users": (USER, ["user_id"]),
    "orders": (ORDER, ["order_id", "cart"]),
}


@pytest.fixture
def call(client, key, secret):
    """Send to the backend API with the site's key and secret: call(method, path, document=None)."""
    return lambda method, path, document=None, signed=False: send(client, key, secret, method, path, document, signed)


def test_the_docs_examples_verbatim(call, db):
    assert call("POST", "/v1/products", PRODUCT).status_code == 201
    assert call("PUT", "/v1/products/p1/v1", PRODUCT_UPDATE).status_code == 204
    # The batch example omits the name and stock its own field table requires (as does no example of the
    # official client): each item is refused, naming both, and the same items with them are stored.
    verbatim = call("POST", "/v1/batch", PRODUCT_BATCH_VERBATIM)
    assert verbatim.status_code == 207, verbatim.json
    assert [s["status"] for s in verbatim.json["status"]] == ["error", "error"]
    assert all({"name", "stock"} <= set(s["errors"]) for s in verbatim.json["status"])
    batch = call("POST", "/v1/batch", PRODUCT_BATCH)
    assert [s["status"] for s in batch.json["status"]] == ["OK", "OK"]
    assert call("POST", "/v1/banners", BANNER).status_code == 201
    assert call("PUT", "/v1/banners/b1", BANNER_UPDATE).status_code == 204
    assert call("POST", "/v1/users", USER).status_code == 201
    assert call("PUT", "/v1/users/u1", USER_UPDATE).status_code == 204
    assert db("SELECT product_id, variant_id, name, price, stock, available, category_2 FROM datacue_products "
              "ORDER BY product_id") == [
        {"product_id": "P1", "variant_id": "V2", "name": "P1 name", "price": 50.0, "stock": 1, "available": None,
         "category_2": None},
        {"product_id": "P2", "variant_id": "V1", "name": "P2 name", "price": 30.0, "stock": 1, "available": None,
         "category_2": None},
        {"product_id": "p1", "variant_id": "v1", "name": "cool jeans", "price": 25000.0, "stock": 6,
         "available": False, "category_2": "jeans"}]
    [banner] = db("SELECT banner_id, banner_type, link, name FROM datacue_banners")
    assert banner == {"banner_id": "b1", "banner_type": "sub", "link": "/new-link", "name": "friendly name for b1"}
    [user] = db("SELECT user_id, email, first_name, location, sex, segment, signed_up_at FROM datacue_users")
    # The update named the profile's location alone: the rest of the profile stays.
    assert user == {"user_id": "u1", "email": "xyz@abc.com", "first_name": "John", "location": "singapore",
                    "sex": "male", "segment": "platinum", "signed_up_at": "2018-04-05T02:29:04.000Z"}


@pytest.mark.parametrize("type_name,field", [(t, f) for t, (_, fields) in REQUIRED.items() for f in fields])
def test_each_required_field(call, db, type_name, field):
    example = {k: v for k, v in REQUIRED[type_name][0].items() if k != field}
    response = call("POST", f"/v1/{type_name}", example)
    assert (response.status_code, response.json["code"]) == (400, "invalid_record"), response.json
    assert field in response.json["errors"]
    assert db("SELECT reason FROM rejected") == [{"reason": "invalid_record"}]


@pytest.mark.parametrize("type_name,field,value", [
    ("products", "price", "cheap"), ("products", "stock", 2.5), ("products", "available", "yes"),
    ("banners", "type", "side"), ("users", "email", "not an email"), ("users", "timestamp", "yesterday"),
    ("orders", "order_status", "lost"), ("orders", "cart", []),
])
def test_formats(call, type_name, field, value):
    response = call("POST", f"/v1/{type_name}", {**REQUIRED[type_name][0], field: value})
    assert response.status_code == 400 and field in response.json["errors"], response.json


@pytest.mark.parametrize("signed", [False, True])
def test_both_auth_forms(call, db, signed):
    assert call("POST", "/v1/products", PRODUCT, signed=signed).status_code == 201
    assert call("DELETE", "/v1/products/p1/v1", signed=signed).status_code == 204
    assert db("SELECT count(*) AS n FROM datacue_products") == [{"n": 0}]


def test_refused_credentials(client, storage, key, secret):
    body = json.dumps(PRODUCT).encode()

    def post(headers):
        return client.post("/v1/products", data=body, headers={"Content-Type": "application/json", **headers})

    alone = post(basic(key))
    assert alone.status_code == 401 and "secret" in alone.json["message"]
    assert post(auth(key, "sk_live_wrong")).status_code == 401
    other_body = json.dumps({**PRODUCT, "price": 1}).encode()
    assert post(auth(key, secret, other_body, signed=True)).status_code == 401
    other_site = server_keys.create_server_key(storage, keys.create_key(storage, "other", []))
    mixed = post(auth(key, other_site))
    assert mixed.status_code == 401 and "different sites" in mixed.json["message"]
    assert post(auth(key, secret, body, signed=True)).status_code == 201


def test_create_update_delete_keeps_history(call, db):
    for document in (BANNER, {**BANNER, "name": "renamed"}):
        assert call("POST", "/v1/banners", document).status_code == 201
    assert call("POST", "/v1/banners", {**BANNER, "name": "renamed"}).status_code == 201  # a resend: nothing new
    assert call("DELETE", "/v1/banners/b1").status_code == 204
    assert db("SELECT count(*) AS n FROM datacue_banners") == [{"n": 0}]
    assert [r["is_deleted"] for r in db("SELECT is_deleted FROM record_versions WHERE type = 'banners' ORDER BY id")] \
        == [0, 0, 1]
    # Deleting again (a client retrying a deletion whose answer it lost) is done, and adds nothing.
    assert call("DELETE", "/v1/banners/b1").status_code == 204
    assert len(db("SELECT id FROM record_versions WHERE type = 'banners'")) == 3
    missing = call("DELETE", "/v1/banners/b9")
    assert (missing.status_code, missing.json["code"]) == (404, "not_found")
    assert call("PUT", "/v1/banners/b9", BANNER_UPDATE).status_code == 404
    assert call("PUT", "/v1/banners/b1", BANNER_UPDATE).status_code == 404  # deleted: nothing to update


def test_a_body_naming_another_id_than_its_path(call):
    response = call("PUT", "/v1/users/u1", {"user_id": "u2"})
    assert response.status_code == 400 and "path" in response.json["message"]


def test_delete_a_product_with_all_its_variants(call, db):
    for variant in ("v1", "v2"):
        assert call("POST", "/v1/products", {**PRODUCT, "variant_id": variant}).status_code == 201
    assert call("POST", "/v1/products", {**PRODUCT, "product_id": "p2"}).status_code == 201
    assert call("DELETE", "/v1/products/p1").status_code == 204
    assert db("SELECT product_id FROM datacue_products") == [{"product_id": "p2"}]
    assert call("DELETE", "/v1/products/p1").status_code == 204  # already deleted
    assert call("DELETE", "/v1/products/p9").status_code == 404


def test_batch_users_create_update_by_email_and_delete(call, db):
    assert call("POST", "/v1/batch", USER_BATCH).status_code == 207
    updated = call("PUT", "/v1/batch", USER_BATCH_UPDATE)
    assert updated.status_code == 207, updated.json
    assert db("SELECT user_id, first_name, last_name FROM datacue_users ORDER BY user_id") == [
        {"user_id": "u1", "first_name": "Paulo", "last_name": None},
        {"user_id": "u2", "first_name": None, "last_name": "Rabani"},
        {"user_id": "u3", "first_name": "Hisham", "last_name": None}]
    unknown = call("PUT", "/v1/batch", {"type": "users", "batch": [{"first_name": "X", "email": "no@one.com"}]})
    assert unknown.status_code == 207 and "no@one.com" in unknown.json["status"][0]["error"]
    assert call("DELETE", "/v1/batch", USER_BATCH_DELETE).status_code == 207
    assert db("SELECT count(*) AS n FROM datacue_users") == [{"n": 0}]


def test_batch_of_each_type_under_its_path(call, db):
    """The official client's form: PUT /v1/batch/<type> with {"batch": [...]}."""
    banners = [BANNER, {**BANNER, "banner_id": "b2"}]
    assert call("POST", "/v1/batch", {"type": "banners", "batch": banners}).status_code == 207
    assert call("PUT", "/v1/batch/banners", {"batch": [{"banner_id": "b1", "link": "/x"}]}).status_code == 207
    assert call("POST", "/v1/batch", {"type": "orders", "batch": [ORDER, {**ORDER, "order_id": "o2"}]}).status_code \
        == 207
    cancel = call("PUT", "/v1/batch/orders", {"batch": [{"order_id": "o2", "order_status": "cancelled"}]})
    assert cancel.status_code == 207, cancel.json
    assert call("DELETE", "/v1/batch", {"type": "products", "batch": [{"product_id": "nope", "variant_id": "v"}]}) \
        .status_code == 207
    assert call("POST", "/v1/batch/products", PRODUCT_BATCH).status_code == 207
    assert call("PUT", "/v1/batch/products", {"batch": [{"product_id": "P1", "variant_id": "V2", "stock": 3}]}) \
        .status_code == 207
    assert call("DELETE", "/v1/batch/products", {"batch": [{"product_id": "P2", "variant_id": "V1"}]}).status_code \
        == 207
    assert call("DELETE", "/v1/batch", {"type": "banners", "batch": [{"banner_id": "b2"}]}).status_code == 207
    assert db("SELECT product_id, stock FROM datacue_products") == [{"product_id": "P1", "stock": 3}]
    assert db("SELECT banner_id, link FROM datacue_banners ORDER BY banner_id") == [{"banner_id": "b1", "link": "/x"}]
    assert db("SELECT order_id, status FROM datacue_orders ORDER BY order_id") == [
        {"order_id": "o1", "status": "completed"}, {"order_id": "o2", "status": "cancelled"}]


#: DataCue's docs on every batch (create, update, delete): "The above command returns a 207 multi status
#: response code. We will send you a status for each item you sent, so you can handle and resend only items
#: that had an error." (seed 002, "Batch"), with this body:
SEED_BATCH_ANSWER = {"status": [{"product_id": "p1", "status": "error", "error": "Please specify category_1"},
                                {"product_id": "p2", "status": "OK"}]}


@pytest.mark.parametrize("method,items", [
    ("POST", [{"product_id": "p1", "variant_id": "v1", "price": 1, "photo_url": "/p.png", "link": "/p"},
              {"product_id": "p2", "variant_id": "v1", "price": 1, "photo_url": "/p.png", "link": "/p",
               "category_1": "men", "name": "Jeans", "stock": 3}]),
    ("PUT", [{"product_id": "p1", "variant_id": "v1", "stock": 1}, {"product_id": "p2", "variant_id": "v1",
                                                                      "stock": 2}]),
    ("DELETE", [{"product_id": "p1", "variant_id": "v1"}, {"product_id": "p2", "variant_id": "v1"}])])
def test_every_batch_answers_207_with_the_seeds_status_list(call, method, items):
    if method != "POST":
        call("POST", "/v1/products", {**items[0], **PRODUCT, "product_id": "p2", "variant_id": "v1"})
    response = call(method, "/v1/batch", {"type": "products", "batch": items})
    assert response.status_code == 207
    first, second = response.json["status"]
    # The seed's keys, each item in the order sent: the item's ids, its status, and an error when refused.
    assert set(SEED_BATCH_ANSWER["status"][0]) <= set(first) and first["status"] == "error"
    assert first["product_id"] == "p1" and first["error"]
    assert second["product_id"] == "p2" and second["status"] == "OK"


def test_a_batch_whose_every_item_is_refused_answers_207_too(call, db):
    """Every item refused is still a batch read: 207 and each item's error, which the official client hands
    back as a response (a 4xx it would throw); each refused item is kept in `rejected`."""
    response = call("POST", "/v1/batch", {"type": "products", "batch": [{"product_id": "p1"}, {"product_id": "p2"}]})
    assert response.status_code == 207
    assert [s["status"] for s in response.json["status"]] == ["error", "error"]
    assert db("SELECT count(*) AS n FROM rejected") == [{"n": 2}]
    # A body that is no batch at all is still a 400 in the one error shape.
    broken = call("POST", "/v1/batch", {"type": "products"})
    assert broken.status_code == 400 and broken.json["code"] == "invalid_batch"


def test_a_partial_batch_answers_207_item_by_item(call, db):
    response = call("POST", "/v1/batch", {"type": "products", "batch": [PRODUCT, {"product_id": "p2"}]})
    assert response.status_code == 207
    ok, refused = response.json["status"]
    assert ok == {"product_id": "p1", "variant_id": "v1", "index": 0, "status": "OK", "result": "stored"}
    assert refused["status"] == "error" and refused["index"] == 1 and "price" in refused["errors"]
    assert "category_1" in refused["error"]
    assert db("SELECT reason FROM rejected") == [{"reason": "invalid_record"}]


def test_orders_are_created_and_cancelled_never_edited(call):
    assert call("POST", "/v1/orders", ORDER).status_code == 201
    edit = call("PUT", "/v1/orders/o1", {"order_status": "cancelled", "user_id": "u9"})
    assert edit.status_code == 400 and "user_id" in edit.json["errors"]


def _revenue(storage) -> list[tuple]:
    """(orders, revenue) per day of the live revenue report over the order's day."""
    columns, rows = registry.run(open_analytics(storage), "revenue", "2018-04-04T00:00:00Z", "2018-04-06T00:00:00Z")
    return [(int(r[columns.index("orders")]), float(r[columns.index("revenue")])) for r in rows]


def _browser_order(client, key, subtype: str) -> None:
    """The browser's report of order o1 (completed with its lines, or cancelled), at the order's time."""
    fields = {"order_id": "o1"}
    if subtype == "completed":
        fields["cart"] = ORDER["cart"]
    event = make_event("order", subtype, user={"user_id": "u1"}, **fields)
    event["timestamp"] = "2018-04-04T23:30:00Z"
    assert client.post("/v1/events", json=event, headers=basic(key)).status_code == stored_status(event)


def test_a_backend_order_cancelled_by_the_browser_is_one_cancelled_order(client, key, call, storage, db):
    assert call("POST", "/v1/orders", ORDER).status_code == 201
    assert _revenue(storage) == [(1, float(ORDER_REVENUE))]
    _browser_order(client, key, "completed")
    assert _revenue(storage) == [(1, float(ORDER_REVENUE))]  # both sides: one order, counted once
    _browser_order(client, key, "cancelled")
    assert db("SELECT order_id, status, sources FROM orders") == [
        {"order_id": "o1", "status": "cancelled", "sources": "both"}]
    assert _revenue(storage) == []


def test_a_browser_order_cancelled_by_the_backend(client, key, call, storage, db):
    _browser_order(client, key, "completed")
    assert _revenue(storage) == [(1, float(ORDER_REVENUE))]
    assert call("PUT", "/v1/orders/o1", {"order_status": "cancelled"}).status_code == 204
    assert db("SELECT order_id, status, sources FROM orders") == [
        {"order_id": "o1", "status": "cancelled", "sources": "both"}]
    assert _revenue(storage) == []


def test_deleting_an_order_cancels_it(call, db):
    assert call("POST", "/v1/orders", ORDER).status_code == 201
    assert call("DELETE", "/v1/orders/o1").status_code == 204
    assert db("SELECT status FROM orders") == [{"status": "cancelled"}]


@pytest.mark.parametrize("count,status", [(500, 207), (501, 413)])
def test_at_most_500_items(call, count, status):
    users = [{"user_id": f"u{n}"} for n in range(count)]
    response = call("POST", "/v1/batch", {"type": "users", "batch": users})
    assert response.status_code == status
    if status == 413:
        assert "500" in response.json["message"]


@pytest.mark.parametrize("extra,status", [(0, 207), (1, 413)])
def test_a_body_of_5_mib(client, key, secret, extra, status):
    batch = json.dumps({"type": "users", "batch": [{"user_id": "u1"}]}).encode()
    body = batch[:-1] + b" " * (5 * 1024 * 1024 - len(batch) + extra) + b"}"
    response = client.post("/v1/batch", data=body, headers=auth(key, secret, body, signed=True))
    assert response.status_code == status, response.get_data(as_text=True)[:200]


def test_overview_and_clear(call):
    assert call("POST", "/v1/batch", PRODUCT_BATCH).status_code == 207
    assert call("POST", "/v1/users", USER).status_code == 201
    overview = call("GET", "/v1/overview", signed=True)
    assert overview.json["products"] == [{"product_id": "P1", "variant_id": "V2"},
                                         {"product_id": "P2", "variant_id": "V1"}]
    assert overview.json["users"] == ["u1"]
    assert call("DELETE", "/v1/clients", signed=True).status_code == 204
    assert call("GET", "/v1/overview/products", signed=True).json == {"products": []}


def test_events_by_put_at_v1_events_and_at_the_root(client, key, db):
    """The docs' wishlist examples PUT to /v1/events; DataCue's client posts to the events host's root."""
    assert client.put("/v1/events", json=make_event("wishlist", "add", product_id="p1"), headers=basic(key)) \
        .status_code == 204
    assert client.post("/", json=make_event(), headers=basic(key)).status_code == 200  # with the home page's lists
    assert client.post("/", json=[make_event(), make_event()], headers=basic(key)).status_code == 200
    assert [r["type"] for r in db("SELECT type FROM events ORDER BY id")] == ["wishlist", "pageview", "pageview",
                                                                             "pageview"]


def _report(storage, name: str) -> list[dict]:
    """A live report over all time, as dicts."""
    columns, rows = registry.run(open_analytics(storage), name, "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z")
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_reports_name_products_and_banners(client, key, call, storage, db):
    assert call("POST", "/v1/products", PRODUCT).status_code == 201
    assert call("POST", "/v1/products", {**PRODUCT, "variant_id": "v2", "price": 27000}).status_code == 201
    assert call("POST", "/v1/banners", BANNER).status_code == 201
    # A product the backend never sent, named by its page's datacueConfig.product_update.
    update = [{"variant_id": "no-variants", "name": "Lamp", "price": 20, "brand": "Lumen", "category_ids": ["c7"]}]
    for event in (make_event("pageview", "product", product_id="p1"),
                  make_event("pageview", "product", product_id="p3", product_update=update),
                  make_event("pageview", "product", product_id="p4", product_update=[{"name": "x", "price": "?"}]),
                  make_event("click", "banner", banner_id="b1"), make_event("click", "product", product_id="p3")):
        assert client.post("/v1/events", json=event, headers=basic(key)).status_code == stored_status(event)
    products = {r["product_id"]: r for r in _report(storage, "products")}
    assert {k: products["p1"][k] for k in ("name", "brand", "price", "category", "catalogue")} == {
        "name": "cool jeans", "brand": "zara", "price": 25000.0, "category": "men", "catalogue": "backend"}
    assert int(products["p1"]["views"]) == 1  # two variants in the catalogue, one view
    assert {k: products["p3"][k] for k in ("name", "brand", "price", "category", "catalogue")} == {
        "name": "Lamp", "brand": "Lumen", "price": 20.0, "category": "c7", "catalogue": "browser"}
    assert products["p4"]["name"] == "x" and products["p4"]["price"] is None  # a price that is no number
    clicks = {(r["kind"], r["id"]): r["name"] for r in _report(storage, "clicks")}
    assert clicks == {("banner", "b1"): "friendly name for b1", ("product", "p3"): "Lamp"}
    assert db("SELECT product_id, source FROM catalogue ORDER BY product_id") == [
        {"product_id": "p1", "source": "backend"}, {"product_id": "p3", "source": "browser"},
        {"product_id": "p4", "source": "browser"}]


def test_category_pages_name_their_categories(client, key, db):
    for name in ("Lights", "Lamps and lights"):
        event = make_event("pageview", "category", category_id="c7", category_update={"name": name, "link": "/c/7"})
        assert client.post("/v1/events", json=event, headers=basic(key)).status_code == stored_status(event)
    assert client.post("/v1/events", json=make_event("pageview", "category", category_id="c8"),
                       headers=basic(key)).status_code == 204
    assert db("SELECT category_id, name, link, source FROM categories") == [
        {"category_id": "c7", "name": "Lamps and lights", "link": "/c/7", "source": "browser"}]


def test_categories_name_the_catalogues_category_levels(client, key, secret, db):
    """A category sent is listed, and each variant's category_N is joined to it where it was sent."""
    headers = auth(key, secret)
    assert client.post("/v1/categories", json={"category_id": "men", "name": "Men", "link": "/c/men"},
                       headers=headers).status_code == 201
    assert client.post("/v1/products", json=PRODUCT, headers=headers).status_code == 201
    assert db("SELECT category_id, name, link FROM datacue_product_categories") == [
        {"category_id": "men", "name": "Men", "link": "/c/men"}]
    levels = db("SELECT level, category, category_name FROM datacue_products_by_category ORDER BY level")
    assert levels == [{"level": 1, "category": "men", "category_name": "Men"},
                      {"level": 2, "category": "jeans", "category_name": None},
                      {"level": 3, "category": "skinny", "category_name": None},
                      {"level": 4, "category": "c4", "category_name": None}]
    assert client.delete("/v1/categories/men", headers=headers).status_code == 204
    assert db("SELECT category_name FROM datacue_products_by_category WHERE level = 1") == [{"category_name": None}]
    # Cobi's Data API keeps its own `categories`: the two never meet.
    assert db("SELECT count(*) AS n FROM records WHERE type = 'categories'") == [{"n": 0}]


def test_the_later_clients_calls_patch_bare_arrays_delete_all_and_sync(client, key, secret, db):
    headers = auth(key, secret)
    orders = [{"order_id": f"o{n}", "user_id": "u1", "cart": [{"product_id": "p1", "variant_id": "v1", "quantity": 1,
                                                               "unit_price": 24, "currency": "USD"}]} for n in (1, 2)]
    assert client.post("/v1/batch/orders", json=orders, headers=headers).status_code == 207
    assert client.patch("/v1/orders/o1", json={"order_status": "cancelled"}, headers=headers).status_code == 204
    patched = client.patch("/v1/batch/orders", json={"batch": [{"order_id": "o2", "order_status": "cancelled"}]},
                           headers=headers)
    assert patched.status_code == 207 and patched.json["status"][0]["status"] == "OK"
    assert db("SELECT order_id, status FROM orders ORDER BY order_id") == [
        {"order_id": "o1", "status": "cancelled"}, {"order_id": "o2", "status": "cancelled"}]
    for user in ("u1", "u2"):
        client.post("/v1/users", json={"user_id": user}, headers=headers)
    assert client.delete("/v1/batch/users", json=["u1"], headers=headers).status_code == 207
    assert [row["user_id"] for row in db("SELECT user_id FROM datacue_users")] == ["u2"]
    assert client.get("/v1/clients/sync", headers=headers).json["users"] == {"records": 1, "sync": False}
    assert client.delete("/v1/batch/orders/all", headers=headers).status_code == 204
    assert db("SELECT count(*) AS n FROM orders") == [{"n": 0}]
    synced = client.get("/v1/clients/sync", headers=headers).json
    assert synced["orders"] == {"records": 0, "sync": True} and synced["users"]["sync"] is False
    assert client.put("/v1/batch/banners", json={"x": 1}, headers=headers).status_code == 400

"""DataCue's backend API as its docs show it: the seed's example bodies verbatim, and the two auth forms."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

#: The seed's "Create Product" body (python tab), verbatim.
PRODUCT = {"product_id": "p1", "variant_id": "v1", "category_1": "men", "category_2": "jeans",
           "category_3": "skinny", "category_4": "c4", "category_extra": {"category_5": "c5"}, "name": "cool jeans",
           "brand": "zara", "description": "very fashionable jeans", "color": "blue", "size": "M", "price": 25000,
           "stock": 5, "extra": {"extra_feature": "details"}, "photo_url": "https://s3.amazon.com/image.png",
           "link": "/product/p1", "owner_id": "user_id_3"}
#: "Update Product".
PRODUCT_UPDATE = {"category_1": "men", "category_2": "jeans", "category_3": "skinny", "stock": 6, "available": False}
#: "Batch Create": products without the table's "required" name and stock (refused item by item).
PRODUCT_BATCH_VERBATIM = {"type": "products", "batch": [
    {"product_id": "P1", "variant_id": "V2", "category_1": "jeans", "price": 50, "photo_url": "/products/p1.jpg",
     "link": "/products/p1"},
    {"product_id": "P2", "variant_id": "V1", "category_1": "shirts", "price": 30, "photo_url": "/products/p2.jpg",
     "link": "/products/p2"}]}
#: The same batch with the name and stock the table requires.
PRODUCT_BATCH = {"type": "products", "batch": [{**item, "name": f"{item['product_id']} name", "stock": 1}
                                               for item in PRODUCT_BATCH_VERBATIM["batch"]]}
#: "Create Banner" (python tab): with other_photos, which the field table does not list.
BANNER = {"banner_id": "b1", "type": "sub", "name": "friendly name for b1", "category_1": "women",
          "category_2": "summer", "category_3": "dresses", "category_4": "casual", "photo_url": "/photos/b1.jpg",
          "other_photos": {"mobile": "http://s3.amazon.com/photoMobile.png",
                           "desktop": "http://s3.amazon.com/photoDesktop.png"},
          "link": "path/to/anything", "extra": {"meta": "any field you want to store"}}
BANNER_UPDATE = {"link": "/new-link"}
#: "Create User" (python tab): `anonymous_ids` as one string, a time with an offset.
USER = {"user_id": "u1", "anonymous_ids": "v1", "email": "xyz@abc.com", "title": "Mr", "first_name": "John",
        "last_name": "Smith", "profile": {"location": "santiago", "sex": "male", "segment": "platinum"},
        "email_subscriber": True, "cart": [{"product_id": "p1", "variant_id": "v1"},
                                           {"product_id": "p2", "variant_id": "v1"}],
        "timestamp": "2018-04-04T23:29:04-03:00"}
USER_UPDATE = {"profile": {"location": "singapore"}}
USER_BATCH = {"type": "users", "batch": [{"user_id": "u1", "email": "u1@abc.com"},
                                         {"user_id": "u2", "email": "u2@abc.com"},
                                         {"user_id": "u3", "email": "u3@abc.com"}]}
#: "Batch Update": users named by email alone.
USER_BATCH_UPDATE = {"type": "users", "batch": [{"first_name": "Paulo", "email": "u1@abc.com"},
                                                {"last_name": "Rabani", "email": "u2@abc.com"},
                                                {"first_name": "Hisham", "email": "u3@abc.com"}]}
USER_BATCH_DELETE = {"type": "users", "batch": [{"user_id": "u1"}, {"user_id": "u2"}, {"user_id": "u3"}]}
#: An order as DataCue's PHP client's example sends it (the docs give no order body).
ORDER = {"order_id": "o1", "user_id": "u1", "cart": [
    {"product_id": "p1", "variant_id": "v1", "quantity": 1, "unit_price": 24, "currency": "USD"},
    {"product_id": "p2", "variant_id": "v2", "quantity": 9, "unit_price": 42, "currency": "USD"}],
    "timestamp": "2018-04-04 23:29:04Z"}
ORDER_REVENUE = 24 + 9 * 42


def auth(key: str, secret: str, body: bytes = b"", signed: bool = False) -> dict:
    """Authorization as DataCue's backend takes it: Basic KEY:SECRET, or KEY:hex(HMAC-SHA256(body, SECRET))."""
    password = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest() if signed else secret
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode(),
            "Content-Type": "application/json"}


def send(client, key: str, secret: str, method: str, path: str, document=None, signed: bool = False):
    """Send a JSON body (or none) with the key and secret; return the response."""
    body = b"" if document is None else json.dumps(document).encode()
    return client.open(path, method=method, data=body, headers=auth(key, secret, body, signed))

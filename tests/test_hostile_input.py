"""Whatever a client sends, the answer is a 2xx or a 4xx in the one JSON error shape, never a 5xx."""

from __future__ import annotations

import json

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from collector.schemas import cobi_data
from collector.schemas import datacue_backend

from support.contract import check_answer
from support.datacue_backend import BANNER
from support.datacue_backend import ORDER as BACKEND_ORDER
from support.datacue_backend import PRODUCT
from support.datacue_backend import USER
from support.datacue_backend import auth
from support.datacue_backend import send
from support.factories import basic
from support.factories import make_event
from support.factories import make_interaction
from support.records import EXAMPLES
from support.records import ORDER
from support.records import secret_header

PATHS = ["/v1/events", "/user-interactions"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30,
)

#: Field names the schemas know, so generated objects reach deep validation paths.
KNOWN = ["user", "event", "context", "timestamp", "sent_at", "event_id", "type", "subtype", "product_id",
         "variant_id", "cart", "term", "order_id", "banner_id", "category_name", "user_id", "anonymous_id",
         "profile", "quantity", "unit_price", "price", "currency", "interaction_type", "item_type", "item_id",
         "event_timestamp", "platform", "student_id", "events", "records", "ip"]


def _mutate(base: dict, data) -> dict:
    """Overwrite some known fields of a valid body with generated values."""
    draws = data.draw(st.dictionaries(st.sampled_from(KNOWN), json_values, max_size=4))
    body = json.loads(json.dumps(base))
    target = data.draw(st.sampled_from(["top", "event", "user"])) if "event" in body else "top"
    (body if target == "top" else body[target]).update(draws)
    return body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=json_values, path=st.sampled_from(PATHS))
def test_random_json(client, key, document, path):
    check_answer(client.post(path, data=json.dumps(document), headers=basic(key), content_type="application/json"))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_valid_events(client, key, data):
    base = data.draw(st.sampled_from([
        make_event(), make_event("order", "completed", order_id="o", cart=[{"product_id": "p", "unit_price": 1}]),
        make_event("viewcart", None, cart=["p1"]), make_interaction()]))
    path = "/user-interactions" if "interaction_type" in base else "/v1/events"
    body = _mutate(base, data)
    if data.draw(st.booleans()):
        body = {"events" if path == "/v1/events" else "records": [body, base]}
    check_answer(client.post(path, json=body, headers=basic(key)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=200), content_type=st.sampled_from(["application/json", "text/plain", ""]),
       encoding=st.sampled_from(["", "gzip", "identity"]))
def test_random_bytes(client, key, raw, content_type, encoding):
    headers = {**basic(key), "Content-Encoding": encoding} if encoding else basic(key)
    check_answer(client.post("/v1/events", data=raw, headers=headers, content_type=content_type or None))


#: Field names of the Cobi record types, so mutated records reach their validation and dependency paths.
RECORD_FIELDS = sorted({name for t in cobi_data.TYPES for name in t.schema.fields})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_data_api_records(client, secret, data):
    type_name = data.draw(st.sampled_from(ORDER))
    draws = data.draw(st.dictionaries(st.sampled_from(RECORD_FIELDS), json_values, max_size=4))
    record = {**EXAMPLES[type_name], **draws}
    body = data.draw(st.sampled_from([{"records": [record]}, {"records": [record, EXAMPLES[type_name]]},
                                      {"records": record}, record, [record]]))
    check_answer(client.post(f"/v1/data/{type_name}", json=body, headers=secret_header(secret)))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=json_values, type_name=st.sampled_from([*ORDER, "nope"]))
def test_random_json_to_the_data_api(client, secret, document, type_name):
    check_answer(client.post(f"/v1/data/{type_name}", data=json.dumps(document), headers=secret_header(secret),
                             content_type="application/json"))


#: DataCue backend examples and the fields of its record types, so mutated items reach every path.
BACKEND = {"products": PRODUCT, "banners": BANNER, "users": USER, "orders": BACKEND_ORDER}
BACKEND_FIELDS = sorted({name for t in datacue_backend.TYPES for name in t.schema.fields} | {"batch", "type"})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_datacue_backend_calls(client, key, secret, data):
    type_name = data.draw(st.sampled_from(list(BACKEND)))
    draws = data.draw(st.dictionaries(st.sampled_from(BACKEND_FIELDS), json_values, max_size=4))
    item = {**BACKEND[type_name], **draws}
    record_id = str(BACKEND[type_name].get("product_id") or BACKEND[type_name].get(f"{type_name[:-1]}_id"))
    one = f"/v1/{type_name}/{record_id}" + ("/v1" if type_name == "products" else "")
    method, path, body = data.draw(st.sampled_from([
        ("POST", f"/v1/{type_name}", item), ("PUT", one, draws), ("DELETE", one, None),
        ("POST", "/v1/batch", {"type": type_name, "batch": [item, BACKEND[type_name]]}),
        ("PUT", f"/v1/batch/{type_name}", {"batch": [item]}),
        ("DELETE", "/v1/batch", {"type": type_name, "batch": [item]}),
        ("POST", "/v1/batch", item), ("PUT", "/v1/batch", [item])]))
    check_answer(send(client, key, secret, method, path, body, signed=data.draw(st.booleans())))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=json_values, path=st.sampled_from(["/v1/products", "/v1/users", "/v1/batch", "/v1/batch/orders",
                                                   "/"]))
def test_random_json_to_the_datacue_backend(client, key, secret, document, path):
    headers = basic(key) if path == "/" else auth(key, secret)
    check_answer(client.post(path, data=json.dumps(document), headers=headers, content_type="application/json"))

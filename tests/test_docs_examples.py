"""Every example body of the DataCue browser-events docs and the Cobi interaction docs is accepted.

DataCue bodies are transcribed from shared/reference/datacue-docs-2018-09-05.md: the `user` of each
`window.datacue.identify(...)` call and the `event` of its `window.datacue.track(...)`. Cobi's pages
give no example body (the curl example is cut off), so its examples are built from the field table.
"""

from __future__ import annotations

import json

import pytest

from support.factories import basic
from support.factories import bearer
from support.factories import stored_status

IDENTIFIED = {"user_id": "019mr8mf4r", "profile": {"sex": "female", "location": "Santiago", "segment": "platinum"}}

#: (name, event as in the docs, columns it must land in)
DATACUE_EXAMPLES = [
    ("home page view", {"type": "pageview", "subtype": "home"}, {"type": "pageview", "subtype": "home"}),
    ("product page view", {"type": "pageview", "subtype": "product", "product_id": "p1", "variant_id": "v1"},
     {"product_id": "p1", "variant_id": "v1"}),
    ("category page view", {"type": "pageview", "subtype": "category", "category_name": "living-room"},
     {"category_name": "living-room"}),
    ("cart updated", {"type": "viewcart", "cart": [{"product_id": "p1", "variant_id": "v1"},
                                                    {"product_id": "p2", "variant_id": "v1"},
                                                    {"product_id": "p3", "variant_id": "v1"}]},
     {"type": "viewcart", "subtype": None}),
    ("search", {"type": "search", "term": "tables"}, {"term": "tables"}),
    ("wishlist add", {"type": "wishlist", "subtype": "add", "product_id": "p1", "variant_id": "v2"},
     {"subtype": "add", "product_id": "p1", "variant_id": "v2"}),
    ("wishlist remove", {"type": "wishlist", "subtype": "remove", "product_id": "p1", "variant_id": "v2"},
     {"subtype": "remove", "product_id": "p1"}),
    ("banner click", {"type": "click", "subtype": "banner", "banner_id": "b1"}, {"banner_id": "b1"}),
    ("product click", {"type": "click", "subtype": "product", "product_id": "p2"}, {"product_id": "p2"}),
    ("order started", {"type": "order", "subtype": "started", "order_id": "o1",
                       "cart": [{"product_id": "p1", "variant": "v1", "quantity": 1, "price": 24, "currency": "USD"}]},
     {"order_id": "o1", "revenue": 24.0, "currency": "USD"}),
    ("order completed", {"type": "order", "subtype": "completed", "order_id": "o1", "payment_method": "",
                         "cart": [{"product_id": "p1", "variant_id": "v1", "quantity": 1, "unit_price": 24,
                                   "currency": "USD"}]},
     {"order_id": "o1", "revenue": 24.0, "currency": "USD", "payment_method": ""}),
    ("order cancelled", {"type": "order", "subtype": "cancelled", "order_id": "o1"}, {"order_id": "o1"}),
    ("login", {"type": "login"}, {"type": "login"}),
    # The older `master` copy of the docs: a cart of bare ids, and buyer_id on a completed order.
    ("master cart", {"type": "viewcart", "cart": ["p1", "p2", "p3"]}, {"type": "viewcart"}),
    ("master completed order", {"type": "order", "subtype": "completed", "order_id": "o1", "buyer_id": "",
                                "cart": [{"product_id": "p1", "variant_id": "v1", "quantity": 1,
                                          "unit_price": 24, "currency": "USD"}]}, {"order_id": "o1"}),
]


@pytest.mark.parametrize(("name", "event", "columns"), DATACUE_EXAMPLES, ids=[e[0] for e in DATACUE_EXAMPLES])
def test_datacue_docs_example_is_accepted(client, key, db, name, event, columns):
    body = {"user": IDENTIFIED, "event": event}
    response = client.post("/v1/events", json=body, headers=basic(key))
    assert response.status_code == stored_status(body), response.json
    [row] = db("SELECT * FROM events")
    assert row["user_id"] == "019mr8mf4r"
    for column, value in columns.items():
        assert row[column] == value, column
    assert json.loads(row["payload"])["user"]["profile"]["segment"] == "platinum"


def test_datacue_format_example_with_context_and_timestamp(client, key, db):
    body = {
        "user": {"user_id": "019mr8mf4r", "anonymous_id": "07d35b1a-5776-4ddf-8f1c-dd0d2db9c502",
                 "profile": {"sex": "female", "location": "Santiago", "segment": "platinum"}},
        "event": {"type": "pageview", "subtype": "home"},
        "context": {"ip": "12.34.56.78",
                    "user_agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_6) AppleWebKit/604.5.6 "
                                  "(KHTML, like Gecko) Version/11.0.3 Safari/604.5.6"},
        "timestamp": "2018-01-23T00:30:08.276Z",
    }
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    [row] = db("SELECT * FROM events")
    assert row["anonymous_id"] == "07d35b1a-5776-4ddf-8f1c-dd0d2db9c502"
    assert row["ip"] == "12.34.56.0"  # the context's IP, truncated like any other
    assert row["user_agent"].startswith("Mozilla/5.0 (Macintosh")
    assert row["client_ts"] == row["event_time"] == "2018-01-23T00:30:08.276Z"


def test_datacue_master_spelling_of_user_agent(client, key, db):
    body = {"user": {"anonymous_id": "a"}, "event": {"type": "login"}, "context": {"user-agent": "Old/1.0"}}
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    assert db("SELECT user_agent FROM events")[0]["user_agent"] == "Old/1.0"


SHOP = "550e8400-e29b-41d4-a716-446655440000"
STUDENT = "6ba7b810-9dad-11d1-80b4-00c04fd430c8"
RECOMMENDATION = "7c9e6679-7425-40de-944b-e07fc1f90ae7"

#: Cobi interactions built from the documented field table.
COBI_EXAMPLES = [
    ("required fields only", {"interaction_type": "PAGE_VIEW", "item_type": "SHOP", "item_id": SHOP,
                              "event_timestamp": 1732406400}),
    ("every field", {"interaction_type": "DISCOUNT_CODE", "user_id": "pseudo-42", "student_id": STUDENT,
                     "item_type": "OFFER", "item_id": SHOP, "city": "Toronto", "country": "CA",
                     "platform": "WEB", "event_timestamp": "2024-11-24T00:00:00Z", "source": "COBI",
                     "recommendation_id": RECOMMENDATION}),
    ("nulls where documented", {"interaction_type": "SHARE", "student_id": None, "item_type": "TAG",
                                "item_id": SHOP, "event_timestamp": "2024-11-24T00:00:00+00:00", "source": None,
                                "recommendation_id": None}),
    ("filter click on a keyword", {"interaction_type": "FILTER_CLICK", "item_type": "KEYWORD", "item_id": SHOP,
                                   "platform": "ANDROID", "event_timestamp": 1732406400000}),
]


@pytest.mark.parametrize(("name", "record"), COBI_EXAMPLES, ids=[e[0] for e in COBI_EXAMPLES])
@pytest.mark.parametrize("path", ["/user-interactions", "/v1/user-interactions"])
def test_cobi_docs_example_is_accepted(client, key, db, name, record, path):
    response = client.post(path, json=record, headers=bearer(key))
    assert response.status_code == 201, response.json
    created = response.json
    for field in ("interaction_type", "item_type", "item_id", "user_id", "student_id", "platform"):
        if field in record:
            assert created[field] == record[field]
    [row] = db("SELECT * FROM events")
    assert (row["source"], row["type"]) == ("cobi", "interaction")
    assert row["event_id"] == created["event_id"]
    for column in ("interaction_type", "item_type", "item_id", "user_id", "student_id", "platform", "city",
                   "country"):
        assert row[column] == record.get(column), column
    assert row["client_ts"].startswith("2024-11-24T00:00:00")

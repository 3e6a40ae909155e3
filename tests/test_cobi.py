"""Cobi interactions: enums, UUIDs, timestamps, required fields, the 201 object and the batch form."""

from __future__ import annotations

import pytest

from support.factories import bearer
from support.factories import make_interaction
from support.factories import new_id


@pytest.mark.parametrize("field", ["interaction_type", "item_type", "item_id", "event_timestamp"])
def test_required_field_missing(client, key, db, field):
    response = client.post("/user-interactions", json=make_interaction(**{field: ...}), headers=bearer(key))
    assert response.status_code == 400
    assert response.json["errors"][field] == ["Missing data for required field."]
    assert db("SELECT reason FROM rejected") == [{"reason": "invalid_event"}]


@pytest.mark.parametrize(("field", "value", "allowed"), [
    ("interaction_type", "CLICK", "FILTER_CLICK, SHARE, PAGE_VIEW, DISCOUNT_CODE"),
    ("interaction_type", "page_view", "FILTER_CLICK, SHARE, PAGE_VIEW, DISCOUNT_CODE"),
    ("item_type", "PRODUCT", "TAG, OFFER, SHOP, KEYWORD"),
    ("platform", "WINDOWS", "ANDROID, IOS, WEB, OTHER"),
    ("source", "GOOGLE", "COBI"),
])
def test_unknown_enum_value_names_the_allowed_values(client, key, field, value, allowed):
    response = client.post("/user-interactions", json=make_interaction(**{field: value}), headers=bearer(key))
    assert response.status_code == 400
    assert allowed in response.json["errors"][field][0]
    assert repr(value) in response.json["errors"][field][0]


@pytest.mark.parametrize(("field", "value"), [
    ("item_id", "shop-1"),
    ("item_id", 12),
    ("student_id", "not-a-uuid"),
    ("recommendation_id", "r1"),
    ("event_timestamp", -5),
    ("event_timestamp", 0),
    ("event_timestamp", "tomorrow"),
    ("event_timestamp", 1.5e9),
    ("event_timestamp", True),
    ("event_timestamp", 10**30),
    ("user_id", ["u"]),
    ("city", 3),
    ("extra_field", "x"),
])
def test_wrong_values_are_refused(client, key, field, value):
    response = client.post("/user-interactions", json=make_interaction(**{field: value}), headers=bearer(key))
    assert response.status_code == 400, response.json
    assert field in response.json["errors"]


@pytest.mark.parametrize(("stamp", "stored"), [
    (1732406400, "2024-11-24T00:00:00.000Z"),
    (1732406400123, "2024-11-24T00:00:00.123Z"),
    ("2024-11-24T00:00:00Z", "2024-11-24T00:00:00.000Z"),
    ("2024-11-24T01:00:00+01:00", "2024-11-24T00:00:00.000Z"),
    ("2024-11-24T00:00:00", "2024-11-24T00:00:00.000Z"),
])
def test_timestamp_forms(client, key, db, stamp, stored):
    response = client.post("/user-interactions", json=make_interaction(event_timestamp=stamp), headers=bearer(key))
    assert response.status_code == 201
    assert db("SELECT client_ts FROM events")[0]["client_ts"] == stored
    assert response.json["event_timestamp"] == stored


def test_created_object_carries_id_and_the_record(client, key):
    event_id = new_id()
    record = make_interaction(event_id=event_id, user_id="u-1", city="Lima")
    response = client.post("/user-interactions", json=record, headers=bearer(key))
    assert response.status_code == 201
    body = response.json
    assert body["event_id"] == event_id
    assert body["user_id"] == "u-1" and body["city"] == "Lima"
    assert body["received_at"].endswith("Z")


def test_enum_and_uuid_values_are_normalised(client, key, db):
    record = make_interaction(item_id="550E8400-E29B-41D4-A716-446655440000")
    assert client.post("/user-interactions", json=record, headers=bearer(key)).status_code == 201
    assert db("SELECT item_id FROM events")[0]["item_id"] == "550e8400-e29b-41d4-a716-446655440000"


def test_batch_of_records(client, key, db):
    records = [make_interaction(item_type=t) for t in ("TAG", "OFFER", "SHOP")]
    response = client.post("/v1/user-interactions", json={"records": records}, headers=bearer(key))
    assert response.status_code == 200
    # Cobi's consistent response format (seed 001, "Common Features"), the counts in the batch's data.
    body = response.json
    assert set(body) == {"request_id", "type", "batches"} and body["type"] == "interactions"
    [batch] = body["batches"]
    assert (batch["batch"], batch["status"]) == (1, 200)
    assert {"status", "type", "message", "request_id", "batch_id", "error"} <= set(batch["data"])
    assert (batch["data"]["status"], batch["data"]["type"], batch["data"]["error"]) == ("success", "interactions", "")
    assert batch["data"]["counts"] == {"received": 3, "stored": 3, "duplicates": 0, "rejected": 0}
    assert [r["status"] for r in batch["data"]["results"]] == ["stored"] * 3
    assert [r["item_type"] for r in db("SELECT item_type FROM events ORDER BY id")] == ["TAG", "OFFER", "SHOP"]

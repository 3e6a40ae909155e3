"""Cobi's Data API (`POST /v1/data/<type>`): every type as its model page gives it, on both backends."""

from __future__ import annotations

import gzip
import json

import pytest

from collector.schemas import cobi_data

from support.records import CUSTOMER
from support.records import EXAMPLES
from support.records import ORDER
from support.records import SHOP
from support.records import example
from support.records import load_dependencies
from support.records import new_uuid
from support.records import secret_header
from support.records import upload

#: Each type's required fields, as API_SPECS.md section 3.1 lists them (categories and keywords: our decision).
REQUIRED = {
    "customers": ["customer_id", "user_id", "region"],
    "transactions": ["transaction_id", "shop_id", "region", "savings", "amount"],
    "offers": ["offer_id", "shop_id", "name", "type", "value", "region"],
    "shops": ["shop_id", "name", "region"],
    "branches": ["branch_id", "shop_id", "name", "region"],
    "categories": ["category_id", "name"],
    "shop-categories": ["shop_category_id", "shop_id", "category_id", "region"],
    "institutes": ["institute_id", "name", "region"],
    "courses": ["course_id", "name"],
    "tags": ["tag_id", "name"],
    "shop-tags": ["shop_tag_id", "shop_id", "tag_id"],
    "keywords": ["keyword_id", "name"],
    "shop-keywords": ["shop_keyword_id", "shop_id", "keyword_id"],
    "student-favourites": ["student_id", "shop_id"],
}
VIEW = {t.name: t.view for t in cobi_data.TYPES}


def test_the_fourteen_types_are_cobis():
    assert sorted(t.name for t in cobi_data.TYPES) == sorted(REQUIRED)
    for record_type in cobi_data.TYPES:
        required = [n for n, f in record_type.schema.fields.items() if f.required]
        assert sorted(required) == sorted(REQUIRED[record_type.name]), record_type.name
        for common in ("created", "updated", "is_deleted"):
            assert not record_type.schema.fields[common].required


@pytest.mark.parametrize("type_name", ORDER)
def test_each_types_example_is_stored_and_shown_typed_in_its_view(client, storage, secret, type_name):
    load_dependencies(client, secret, type_name)
    response = upload(client, secret, type_name, [EXAMPLES[type_name]])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["type"] == type_name and body["batches"][0]["data"]["status"] == "success"
    columns, rows = storage.query(f"SELECT * FROM {VIEW[type_name]}")
    assert len(rows) == 1
    shown = dict(zip(columns, rows[0], strict=True))
    for field, value in EXAMPLES[type_name].items():
        if field in ("is_deleted",):
            continue
        if field in ("created", "updated", "allowed_from", "allowed_to"):
            assert shown[field] == value.replace("Z", ".000Z")
        elif isinstance(value, bool):
            assert shown[field] in (True, 1) and bool(shown[field]) is value
        elif isinstance(value, (int, float)):
            assert isinstance(shown[field], float) and shown[field] == pytest.approx(value)
        else:
            assert shown[field] == value, field


@pytest.mark.parametrize(("type_name", "field"), [(t, f) for t, fields in REQUIRED.items() for f in fields])
def test_each_required_field_missing_is_refused_naming_it(client, storage, secret, type_name, field):
    response = upload(client, secret, type_name, [example(type_name, **{field: ...})])
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_batch"
    record = body["batches"][0]["data"]["errors"][0]
    assert record["code"] == "invalid_record" and field in record["errors"]
    assert field in body["batches"][0]["data"]["error"]
    assert storage.query("SELECT count(*) FROM rejected WHERE source = 'cobi-data'")[1][0][0] == 1


WRONG = [
    ("shops", "shop_id", "not-a-uuid"), ("shops", "region", "ZZ"), ("shops", "region", "CAN"),
    ("shops", "region", 12), ("shops", "is_public", "maybe"), ("shops", "is_public", 1),
    ("offers", "is_enabled", "true"), ("shops", "created", "yesterday"),
    ("shops", "updated", "2023-13-45T00:00:00Z"), ("shops", "created", "0001-01-01T00:00:00+08:00"),
    ("shops", "is_deleted", "sometimes"), ("shops", "name", ""),
    ("customers", "birthdate", "03/04/2001"), ("customers", "user_id", 42), ("customers", "institute_id", "x"),
    ("transactions", "savings", -0.01), ("transactions", "amount", 0), ("transactions", "amount", -5),
    ("transactions", "amount", "lots"), ("transactions", "amount", True), ("offers", "value", 0),
    ("offers", "allowed_to", "2025-01-01T00:00:00Z"), ("offers", "allowed_days", "monday,someday"),
    ("offers", "allowed_branches", "b1,b2"), ("branches", "latitude", 91), ("branches", "longitude", -181),
    ("tags", "name", None), ("student-favourites", "student_id", "nope"),
]


@pytest.mark.parametrize(("type_name", "field", "value"), WRONG)
def test_each_format_rule_refuses_a_wrong_value(client, secret, type_name, field, value):
    response = upload(client, secret, type_name, [example(type_name, **{field: value})])
    assert response.status_code == 400, response.get_json()
    assert field in response.get_json()["batches"][0]["data"]["errors"][0]["errors"]


@pytest.mark.parametrize(("field", "value"), [("savings", 0), ("savings", 0.0), ("amount", 0.01)])
def test_number_rules_accept_their_edges(client, secret, field, value):
    load_dependencies(client, secret, "transactions")
    assert upload(client, secret, "transactions", [example("transactions", **{field: value})]).status_code == 200


def test_a_lower_case_region_is_stored_upper_case(client, storage, secret):
    assert upload(client, secret, "shops", [example("shops", region="ca")]).status_code == 200
    assert storage.query("SELECT region FROM cobi_shops")[1] == [("CA",)]


def test_an_unknown_type_is_404_listing_the_types(client, secret):
    response = upload(client, secret, "students", [{}])
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "not_found" and body["types"] == list(REQUIRED)
    assert "shop-keywords" in body["message"]


def test_five_thousand_records_are_stored_in_chunks_and_one_more_is_413(client, storage, secret):
    shops = [example("shops", shop_id=new_uuid(), name=f"Shop {n}") for n in range(5000)]
    response = upload(client, secret, "shops", shops)
    assert response.status_code == 200
    batches = response.get_json()["batches"]
    assert [b["batch"] for b in batches] == [1, 2, 3, 4, 5]
    assert all(b["data"]["counts"]["stored"] == 1000 for b in batches)
    assert storage.query("SELECT count(*) FROM cobi_shops")[1][0][0] == 5000
    response = upload(client, secret, "shops", shops + [example("shops", shop_id=new_uuid())])
    assert response.status_code == 413
    assert "5001" in response.get_json()["message"] and "5000" in response.get_json()["message"]


@pytest.mark.parametrize("body", [{"records": []}, {"records": "x"}, {"rows": [{}]}, [1, 2]])
def test_a_body_without_records_is_400(client, storage, secret, body):
    response = client.post("/v1/data/shops", json=body, headers=secret_header(secret))
    assert response.status_code == 400 and response.get_json()["code"] == "invalid_batch"
    assert storage.query("SELECT reason FROM rejected")[1] == [("invalid_batch",)]


def test_a_gzip_body_is_read(client, storage, secret):
    body = gzip.compress(json.dumps({"records": [EXAMPLES["shops"]]}).encode())
    response = client.post("/v1/data/shops", data=body, headers={
        **secret_header(secret), "Content-Type": "application/json", "Content-Encoding": "gzip"})
    assert response.status_code == 200


def test_the_body_limit_is_its_own_setting(make_app, storage, key):
    from collector.access import server_keys

    app = make_app(MAX_DATA_BYTES=2000)
    secret = server_keys.create_server_key(app.extensions["collector.storage"], key)
    shops = [example("shops", shop_id=new_uuid()) for _ in range(20)]
    response = upload(app.test_client(), secret, "shops", shops)
    assert response.status_code == 413 and response.get_json()["code"] == "payload_too_large"


@pytest.mark.parametrize("type_name", ["branches", "offers", "transactions", "shop-categories", "shop-tags",
                                       "shop-keywords", "student-favourites"])
def test_a_missing_dependency_is_refused_naming_it_and_later_satisfied(client, storage, secret, type_name):
    response = upload(client, secret, type_name, [EXAMPLES[type_name]])
    assert response.status_code == 400
    error = response.get_json()["batches"][0]["data"]["errors"][0]
    assert error["code"] == "missing_reference"
    # The first reference that is missing, named with its id and type.
    assert "does not exist" in error["message"] and "send it to" in error["message"]
    assert storage.query("SELECT reason FROM rejected")[1] == [("missing_reference",)]
    load_dependencies(client, secret, type_name)
    assert upload(client, secret, type_name, [EXAMPLES[type_name]]).status_code == 200


def test_the_dependency_message_names_the_id_and_type(client, secret):
    error = upload(client, secret, "branches", [EXAMPLES["branches"]]).get_json()["batches"][0]["data"]["errors"][0]
    assert error["message"] == (f"shop_id {SHOP} names a record of shops that does not exist; send it to shops first.")


def test_a_transactions_offer_must_be_of_its_shop(client, secret):
    load_dependencies(client, secret, "transactions")
    other = new_uuid()
    upload(client, secret, "shops", [example("shops", shop_id=other)])
    response = upload(client, secret, "transactions", [example("transactions", shop_id=other, branch_id=...)])
    assert response.status_code == 400
    assert "belongs to shop_id" in response.get_json()["batches"][0]["data"]["errors"][0]["message"]
    # The student of a transaction may be unknown (as on interactions); the offer and branch may be absent.
    assert upload(client, secret, "transactions", [example(
        "transactions", shop_id=other, offer_id=..., branch_id=..., student_id=new_uuid())]).status_code == 200


def test_a_favourite_without_its_own_id_is_one_per_student_and_shop(client, storage, secret):
    load_dependencies(client, secret, "student-favourites")
    favourite = example("student-favourites", favourite_id=...)
    assert upload(client, secret, "student-favourites", [favourite]).status_code == 200
    assert upload(client, secret, "student-favourites", [favourite]).status_code == 200
    assert storage.query("SELECT record_id FROM records WHERE type = 'student-favourites'")[1] == [
        (f"{CUSTOMER}:{SHOP}",)]


def _versions(storage, record_id):
    name = storage.dialect.json_field.format(column="payload", field="name")
    return storage.query(f"SELECT {name} FROM record_versions WHERE record_id = ? ORDER BY id", (record_id,))[1]


def test_upserts_go_by_updated_and_history_keeps_every_version(client, storage, secret):
    shop = example("shops", updated="2024-01-02T00:00:00Z")
    assert upload(client, secret, "shops", [shop]).status_code == 200
    newer = {**shop, "name": "Newer", "updated": "2024-03-01T00:00:00Z"}
    assert upload(client, secret, "shops", [newer]).get_json()["batches"][0]["data"]["counts"]["stored"] == 1
    older = {**shop, "name": "Older", "updated": "2024-02-01T00:00:00Z"}
    body = upload(client, secret, "shops", [older]).get_json()
    assert body["batches"][0]["data"]["counts"]["stale"] == 1
    assert "stale" in body["batches"][0]["data"]["message"]
    assert storage.query("SELECT name, updated FROM cobi_shops")[1] == [("Newer", "2024-03-01T00:00:00.000Z")]
    tie = {**newer, "name": "Tie"}  # the same updated time: the later request wins
    upload(client, secret, "shops", [tie])
    assert storage.query("SELECT name FROM cobi_shops")[1] == [("Tie",)]
    undated = {**shop, "name": "Undated", "updated": ...}
    upload(client, secret, "shops", [{k: v for k, v in undated.items() if v is not ...}])
    assert storage.query("SELECT name FROM cobi_shops")[1] == [("Undated",)]
    assert _versions(storage, shop["shop_id"]) == [("Campus Bookstore",), ("Newer",), ("Older",), ("Tie",),
                                                  ("Undated",)]


def test_the_later_of_two_versions_in_one_request_wins(client, storage, secret):
    first = example("shops", name="First", updated="2024-01-01T00:00:00Z")
    second = example("shops", name="Second", updated="2024-01-01T00:00:00Z")
    upload(client, secret, "shops", [first, second])
    assert storage.query("SELECT name FROM cobi_shops")[1] == [("Second",)]


def test_is_deleted_leaves_the_view_stays_in_history_and_blocks_dependants(client, storage, secret):
    upload(client, secret, "shops", [EXAMPLES["shops"]])
    body = upload(client, secret, "shops", [example("shops", is_deleted=True,
                                                    updated="2024-01-01T00:00:00Z")]).get_json()
    assert body["batches"][0]["data"]["counts"]["deleted"] == 1
    assert storage.query("SELECT count(*) FROM cobi_shops")[1][0][0] == 0
    assert storage.query("SELECT count(*) FROM record_versions WHERE type = 'shops'")[1][0][0] == 2
    error = upload(client, secret, "branches", [EXAMPLES["branches"]]).get_json()["batches"][0]["data"]["errors"][0]
    assert "was deleted" in error["message"]


def _without_ids(body: dict) -> dict:
    text = json.dumps(body)
    for batch in body["batches"]:
        text = text.replace(batch["data"]["batch_id"], "B")
    return json.loads(text.replace(body["request_id"], "R"))


def test_resending_a_request_changes_nothing_and_answers_the_same(make_app, storage, secret):
    client = make_app(DATA_CHUNK=2).test_client()
    shops = [example("shops", shop_id=new_uuid(), name=f"S{n}") for n in range(3)] + [example("shops", region="XX")]
    shops.append(example("shops", shop_id=shops[0]["shop_id"], updated="2020-01-01T00:00:00Z"))  # stale
    shops.append(example("shops", shop_id=shops[1]["shop_id"], is_deleted=True))
    first = upload(client, secret, "shops", shops)
    kept = storage.query("SELECT count(*) FROM record_versions")[1][0][0]
    current = storage.query("SELECT record_id, version_id, is_deleted FROM records ORDER BY record_id")[1]
    second = upload(client, secret, "shops", shops)
    assert second.status_code == first.status_code == 207
    assert _without_ids(second.get_json()) == _without_ids(first.get_json())
    assert [b["data"]["counts"] for b in second.get_json()["batches"]] == [
        {"received": 2, "stored": 2, "deleted": 0, "stale": 0, "refused": 0},
        {"received": 2, "stored": 1, "deleted": 0, "stale": 0, "refused": 1},
        {"received": 2, "stored": 0, "deleted": 1, "stale": 1, "refused": 0}]
    assert storage.query("SELECT count(*) FROM record_versions")[1][0][0] == kept == 5
    assert storage.query("SELECT record_id, version_id, is_deleted FROM records ORDER BY record_id")[1] == current


def test_a_partial_chunk_is_207_in_cobis_exact_shape(make_app, secret):
    client = make_app(DATA_CHUNK=2).test_client()
    shops = [example("shops", shop_id=new_uuid()) for _ in range(2)]
    shops += [example("shops", shop_id=new_uuid()), example("shops", shop_id=new_uuid(), region="QQ")]
    shops += [example("shops", shop_id=new_uuid())]
    response = upload(client, secret, "shops", shops)
    assert response.status_code == 207
    body = response.get_json()
    assert list(body) == ["request_id", "type", "batches"]
    assert [(b["batch"], b["status"], b["data"]["status"]) for b in body["batches"]] == [
        (1, 200, "success"), (2, 207, "partial"), (3, 200, "success")]
    for batch in body["batches"]:
        assert list(batch) == ["batch", "status", "data"]
        data = batch["data"]
        assert list(data)[:6] == ["status", "type", "message", "request_id", "batch_id", "error"]
        assert data["type"] == "shops" and data["request_id"] == body["request_id"] and data["batch_id"]
    partial = body["batches"][1]["data"]
    assert partial["message"] == "1 of 2 records were refused"
    assert partial["error"].startswith(f"record 3 ({shops[3]['shop_id']}): The record is invalid: region:")
    assert partial["errors"] == [{"index": 3, "id": shops[3]["shop_id"], "status": "refused", "code": "invalid_record",
                                  "message": partial["errors"][0]["message"],
                                  "errors": {"region": ["Not an ISO 3166-1 alpha-2 country code (such as CA): 'QQ'."]}}]
    assert body["batches"][0]["data"]["error"] == ""
    assert len({b["data"]["batch_id"] for b in body["batches"]}) == 3


def test_every_record_refused_is_400_in_both_shapes(client, secret):
    response = upload(client, secret, "shops", [example("shops", region="QQ"), {"name": "no id"}])
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "invalid_batch" and body["message"] == "All 2 records were refused."
    assert set(body["errors"]) == {"0", "1"}
    assert body["batches"][0]["status"] == 400 and body["batches"][0]["data"]["status"] == "error"


def test_the_publishable_key_cannot_write(client, key):
    response = upload(client, key, "shops", [EXAMPLES["shops"]])
    assert response.status_code == 401
    assert "secret server key" in response.get_json()["message"]
    response = client.post("/v1/data/shops", json={"records": [EXAMPLES["shops"]]})
    assert response.status_code == 401 and response.get_json()["code"] == "unauthorized"


def test_a_revoked_secret_is_refused_and_a_revoked_key_takes_its_secrets(client, storage, key, secret):
    from collector.clock import now_iso

    [row] = storage.list_server_keys(key)
    assert row["prefix"] == secret[:12] and row["prefix"].startswith("sk_live_")
    assert storage.revoke_server_key(row["id"], now_iso())
    response = upload(client, secret, "shops", [EXAMPLES["shops"]])
    assert response.status_code == 401 and "revoked" in response.get_json()["message"]
    from collector.access import server_keys

    other = server_keys.create_server_key(storage, key)
    storage.revoke_key(key, now_iso())
    assert upload(client, other, "shops", [EXAMPLES["shops"]]).status_code == 403


def test_a_test_keys_secret_is_a_test_secret(storage):
    from collector.access import keys
    from collector.access import server_keys

    assert server_keys.create_server_key(storage, keys.create_key(storage, "t", [], test=True)).startswith("sk_test_")


def test_basic_key_and_secret_and_a_signed_body_are_accepted(client, storage, key, secret):
    import base64

    from collector.access import keys
    from collector.access import server_keys

    def basic(user, password):
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode(),
                "Content-Type": "application/json"}

    body = json.dumps({"records": [EXAMPLES["shops"]]}).encode()
    assert client.post("/v1/data/shops", data=body, headers=basic(key, secret)).status_code == 200
    signed = server_keys.signature(body, secret)
    assert client.post("/v1/data/shops", data=body, headers=basic(key, signed)).status_code == 200
    assert client.post("/v1/data/shops", data=body + b" ", headers=basic(key, signed)).status_code == 401
    other = keys.create_key(storage, "other", [])
    response = client.post("/v1/data/shops", data=body, headers=basic(other, secret))
    assert response.status_code == 401 and "different sites" in response.get_json()["message"]
    assert client.post("/v1/data/shops", data=body, headers=basic(key, "")).status_code == 401


def test_records_are_kept_per_key(client, storage, key, secret):
    from collector.access import keys
    from collector.access import server_keys

    other = server_keys.create_server_key(storage, keys.create_key(storage, "other", []))
    upload(client, secret, "shops", [EXAMPLES["shops"]])
    # The other site has no such shop: its branch is refused.
    assert upload(client, other, "branches", [EXAMPLES["branches"]]).status_code == 400
    assert storage.query("SELECT count(*) FROM cobi_shops WHERE key = ?", (key,))[1][0][0] == 1


def test_interactions_record_whether_their_item_and_student_were_known(client, storage, key, secret):
    from support.factories import bearer
    from support.factories import make_interaction

    upload(client, secret, "shops", [EXAMPLES["shops"]])
    upload(client, secret, "customers", [EXAMPLES["customers"]])
    for item_id, student in ((SHOP, CUSTOMER), (new_uuid(), new_uuid()), (SHOP, None)):
        interaction = make_interaction(item_id=item_id, student_id=student if student else ...)
        assert client.post("/user-interactions", json=interaction, headers=bearer(key)).status_code == 201
    rows = storage.query("SELECT item_known, student_known, item_name FROM interactions ORDER BY id")[1]
    assert rows == [(1, 1, "Campus Bookstore"), (0, 0, None), (1, None, "Campus Bookstore")]
    assert storage.query("SELECT count(*) FROM events WHERE source = 'datacue' AND item_known IS NOT NULL")[1] == [(0,)]


def test_forgetting_a_person_erases_their_customer_record_and_its_history(client, storage, secret):
    from collector.clock import now_iso

    customer = EXAMPLES["customers"]
    upload(client, secret, "customers", [customer])
    upload(client, secret, "customers", [example("customers", gender="other")])
    other = example("customers", customer_id=new_uuid(), user_id=new_uuid())
    upload(client, secret, "customers", [other])
    counts = storage.forget(customer["user_id"], None, False, now_iso())
    assert counts["customers"] == 2
    assert storage.query("SELECT customer_id FROM cobi_customers")[1] == [(other["customer_id"],)]
    assert storage.query("SELECT count(*) FROM record_versions")[1][0][0] == 1

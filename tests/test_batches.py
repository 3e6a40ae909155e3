"""Batches: all valid, partly valid, all invalid; dedupe of repeated event ids."""

from __future__ import annotations

import json

import pytest

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import new_id
from support.factories import stored_status

BAD_EVENT = {"user": {"anonymous_id": "a"}, "event": {"type": "pageview", "subtype": "product"}}
BAD_RECORD = make_interaction(item_type="BOOK")


def _details(path: str, body: dict) -> tuple[dict, list | None]:
    """A batch answer's counts and per-event results: at the top of DataCue's answer, in the one batch's
    `data` of Cobi's consistent format (whose `status` word says success, partial or error)."""
    if path == "/user-interactions":
        assert body["type"] == "interactions" and body["request_id"] == body["batches"][0]["data"]["request_id"]
        data = body["batches"][0]["data"]
        return data["counts"], data["results"]
    counts = {name: body[name] for name in ("received", "stored", "duplicates", "rejected")}
    return counts, body.get("results")


@pytest.mark.parametrize(("path", "field", "good", "bad", "auth"), [
    ("/v1/events", "events", make_event, BAD_EVENT, basic),
    ("/user-interactions", "records", make_interaction, BAD_RECORD, bearer),
])
class TestBatch:
    def test_all_valid(self, client, key, db, path, field, good, bad, auth):
        items = [dict(good(), event_id=new_id()) for _ in range(3)]
        response = client.post(path, json={field: items}, headers=auth(key))
        assert response.status_code == 200
        assert _details(path, response.json)[0] == {"received": 3, "stored": 3, "duplicates": 0, "rejected": 0}
        assert sorted(r["event_id"] for r in db("SELECT event_id FROM events")) == sorted(
            i["event_id"] for i in items)

    def test_partly_invalid(self, client, key, db, path, field, good, bad, auth):
        ids = [new_id(), new_id(), new_id()]
        items = [dict(good(), event_id=ids[0]), dict(bad, event_id=ids[1]), dict(good(), event_id=ids[2])]
        response = client.post(path, json={field: items}, headers=auth(key))
        assert response.status_code == 207
        counts, results = _details(path, response.json)
        assert (counts["stored"], counts["rejected"]) == (2, 1)
        assert [(r["index"], r["event_id"], r["status"]) for r in results] == [
            (0, ids[0], "stored"), (1, ids[1], "rejected"), (2, ids[2], "stored")]
        assert results[1]["errors"]
        assert sorted(r["event_id"] for r in db("SELECT event_id FROM events")) == sorted([ids[0], ids[2]])
        [rejected] = db("SELECT * FROM rejected")
        assert rejected["event_id"] == ids[1]
        assert json.loads(rejected["raw"])["event_id"] == ids[1]

    def test_all_invalid(self, client, key, db, path, field, good, bad, auth):
        response = client.post(path, json={field: [bad, bad, "nonsense"]}, headers=auth(key))
        assert response.status_code == 400
        body = response.json
        assert body["code"] == "invalid_batch" and body["message"]
        assert set(body["errors"]) == {"0", "1", "2"}
        assert [r["status"] for r in _details(path, body)[1]] == ["rejected"] * 3
        assert db("SELECT count(*) AS n FROM events") == [{"n": 0}]
        assert db("SELECT count(*) AS n FROM rejected") == [{"n": 3}]

    def test_batch_shape_errors(self, client, key, path, field, good, bad, auth):
        for body in ({field: []}, {field: "x"}, {field: [good()], "extra": 1}, {field: [good()], "sent_at": "x"}):
            response = client.post(path, json=body, headers=auth(key))
            assert (response.status_code, response.json["code"]) == (400, "invalid_batch"), body

    def test_repeated_batch_is_acknowledged_once(self, client, key, db, path, field, good, bad, auth):
        items = [dict(good(), event_id=new_id()) for _ in range(2)]
        first = client.post(path, json={field: items}, headers=auth(key))
        again = client.post(path, json={field: items}, headers=auth(key))
        assert first.status_code == again.status_code == 200
        assert _details(path, again.json)[0] == {"received": 2, "stored": 0, "duplicates": 2, "rejected": 0}
        assert db("SELECT count(*) AS n FROM events") == [{"n": 2}]

    def test_duplicate_inside_one_batch(self, client, key, db, path, field, good, bad, auth):
        item = dict(good(), event_id=new_id())
        response = client.post(path, json={field: [item, item, dict(bad)]}, headers=auth(key))
        assert response.status_code == 207
        assert [r["status"] for r in _details(path, response.json)[1]] == ["stored", "duplicate", "rejected"]
        assert db("SELECT count(*) AS n FROM events") == [{"n": 1}]


def test_repeated_datacue_event_is_answered_alike_and_stored_once(client, key, db):
    body = make_event(env_event_id=new_id())
    answers = [client.post("/v1/events", json=body, headers=basic(key)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200] * 3  # a home page view: its lists, each time
    assert len({a.get_data() for a in answers}) == 1
    assert db("SELECT count(*) AS n FROM events") == [{"n": 1}]


def test_repeated_cobi_record_gets_the_first_created_object(client, key, db):
    record = make_interaction(event_id=new_id())
    first = client.post("/user-interactions", json=record, headers=bearer(key))
    again = client.post("/user-interactions", json=dict(record, city="Changed"), headers=bearer(key))
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert db("SELECT count(*) AS n FROM events") == [{"n": 1}]


def test_event_ids_are_per_key(client, key, storage, db):
    from collector.access import keys

    other = keys.create_key(storage, "other", [])
    body = make_event(env_event_id=new_id())
    for k in (key, other):
        assert client.post("/v1/events", json=body, headers=basic(k)).status_code == stored_status(body)
    assert db("SELECT count(*) AS n FROM events") == [{"n": 2}]


def test_server_assigns_an_event_id(client, key, db):
    for _ in range(2):
        client.post("/v1/events", json=make_event(), headers=basic(key))
    ids = [r["event_id"] for r in db("SELECT event_id FROM events")]
    assert len(set(ids)) == 2 and all(len(i) == 36 for i in ids)


def test_test_keys_store_test_mode(client, storage, db):
    from collector.access import keys

    test_key = keys.create_key(storage, "staging", [], test=True)
    assert test_key.startswith("test_")
    client.post("/v1/events", json=make_event(), headers=basic(test_key))
    assert db("SELECT mode FROM events") == [{"mode": "test"}]


def test_an_event_id_reused_across_the_two_apis_is_409_not_a_duplicate(client, key, db):
    shared = new_id()
    shared_event = make_event(env_event_id=shared)
    assert client.post("/v1/events", json=shared_event, headers=basic(key)).status_code == stored_status(shared_event)
    single = client.post("/user-interactions", json=make_interaction(event_id=shared), headers=bearer(key))
    assert (single.status_code, single.json["code"]) == (409, "event_id_conflict")
    batch = client.post("/user-interactions", json={"records": [make_interaction(event_id=shared),
                                                                make_interaction(event_id=new_id())]},
                        headers=bearer(key))
    assert batch.status_code == 207
    _, results = _details("/user-interactions", batch.json)
    assert [r["status"] for r in results] == ["rejected", "stored"]
    assert results[0]["code"] == "event_id_conflict"
    assert db("SELECT source, count(*) AS n FROM events GROUP BY source ORDER BY source") == [
        {"source": "cobi", "n": 1}, {"source": "datacue", "n": 1}]

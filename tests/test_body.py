"""Parsing and limits: content types, gzip, malformed JSON, and every size limit."""

from __future__ import annotations

import gzip
import json

import pytest

from support.factories import basic
from support.factories import make_event


def _post(client, key, data: bytes, **headers):
    """Post raw bytes with the key."""
    return client.post("/v1/events", data=data, headers={**basic(key), **headers})


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "text/plain", "text/plain;charset=UTF-8", None])
def test_accepted_content_types(client, key, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = _post(client, key, json.dumps(make_event()).encode(), **headers)
    assert response.status_code == 200  # a home page view, answered with its lists


@pytest.mark.parametrize("content_type", [
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml",
    "text/plain; charset=latin-1"])
def test_other_content_types_are_415(client, key, db, content_type):
    response = _post(client, key, json.dumps(make_event()).encode(), **{"Content-Type": content_type})
    assert (response.status_code, response.json["code"]) == (415, "unsupported_media_type")
    assert db("SELECT reason FROM rejected") == [{"reason": "unsupported_media_type"}]


@pytest.mark.parametrize("encoding", ["br", "deflate", "compress", "gzip, br"])
def test_other_encodings_are_415(client, key, encoding):
    response = _post(client, key, json.dumps(make_event()).encode(), **{"Content-Encoding": encoding,
                                                                        "Content-Type": "application/json"})
    assert response.status_code == 415


def test_gzip_body(client, key, db):
    data = gzip.compress(json.dumps(make_event("search", None, term="gz")).encode())
    response = _post(client, key, data, **{"Content-Encoding": "gzip", "Content-Type": "text/plain"})
    assert response.status_code == 200  # a search, answered with its list
    assert db("SELECT term FROM events") == [{"term": "gz"}]


@pytest.mark.parametrize(("data", "code"), [
    (b"\x1f\x8b\x08\x00garbage", "bad_gzip"),
    (gzip.compress(b'{"user":{}}', mtime=0)[:-6], "bad_gzip"),
    (b"plain text, not gzip", "bad_gzip"),
])
def test_bad_gzip_is_400(client, key, data, code):
    response = _post(client, key, data, **{"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert (response.status_code, response.json["code"]) == (400, code)


def test_gzip_limit_applies_to_decompressed_size(make_app, key):
    client = make_app(MAX_BODY_BYTES=1000, MAX_BATCH_BYTES=2000).test_client()
    bomb = gzip.compress(b'{"user": {"anonymous_id": "' + b"a" * 5_000_000 + b'"}}')
    assert len(bomb) < 10_000
    response = _post(client, key, bomb, **{"Content-Encoding": "gzip", "Content-Type": "application/json"})
    assert (response.status_code, response.json["code"]) == (413, "payload_too_large")


@pytest.mark.parametrize(("data", "fragment"), [
    (b"{", "line 1 column 2"),
    (b'{"user": }', "Expecting value"),
    (b"", "empty"),
    (b"   ", "empty"),
    (b'{"user": NaN}', "NaN"),
    (b"\xff\xfe{}", "UTF-8"),
    (b"[" * 100_000 + b"]" * 100_000, "Malformed JSON"),
])
def test_malformed_json_is_400_and_kept(client, key, db, data, fragment):
    response = _post(client, key, data, **{"Content-Type": "application/json"})
    assert (response.status_code, response.json["code"]) == (400, "malformed_json")
    assert fragment in response.json["message"]
    [row] = db("SELECT reason, raw, raw_bytes FROM rejected")
    assert row["reason"] == "malformed_json" and row["raw_bytes"] == len(data)


@pytest.mark.parametrize("document", ["event", 3, None])
def test_body_must_be_an_object(client, key, document):
    response = _post(client, key, json.dumps(document).encode(), **{"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "JSON object" in response.json["message"]


def test_a_json_array_of_events_is_a_batch(client, key, db):
    """DataCue's client batches events as a bare array; an empty one is an empty batch, refused."""
    response = _post(client, key, json.dumps([make_event(), make_event()]).encode(),
                     **{"Content-Type": "application/json"})
    assert response.status_code == 200, response.json
    assert len(db("SELECT event_id FROM events")) == 2
    empty = _post(client, key, b"[]", **{"Content-Type": "application/json"})
    assert (empty.status_code, empty.json["code"]) == (400, "invalid_batch")


def test_cobi_interactions_take_no_bare_array(client, key):
    response = client.post("/v1/user-interactions", data=b"[]",
                           headers={**basic(key), "Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON object" in response.json["message"]


def _padded(size: int) -> dict:
    """A valid event whose compact JSON is about size bytes."""
    event = make_event("search", None, term="t")
    event["user"]["profile"] = {}
    pad = size - len(json.dumps(event, separators=(",", ":")))
    event["context"] = {f"k{i}": "x" * 900 for i in range(pad // 910)}
    return event


@pytest.mark.parametrize(("settings", "body", "status"), [
    ({"MAX_EVENT_BYTES": 2000}, _padded(1500), 200),
    ({"MAX_EVENT_BYTES": 2000}, _padded(4000), 413),
    ({"MAX_EVENT_BYTES": 100_000, "MAX_BODY_BYTES": 3000}, _padded(5000), 413),
    ({"MAX_BATCH_BYTES": 3000}, {"events": [_padded(1000) for _ in range(4)]}, 413),
    ({"MAX_BATCH_BYTES": 30000}, {"events": [_padded(1000) for _ in range(4)]}, 200),
    ({"MAX_BATCH_EVENTS": 3}, {"events": [make_event()] * 4}, 413),
    ({"MAX_BATCH_EVENTS": 4}, {"events": [make_event() for _ in range(4)]}, 200),
])
def test_limits(make_app, key, settings, body, status):
    client = make_app(**settings).test_client()
    response = _post(client, key, json.dumps(body).encode(), **{"Content-Type": "application/json"})
    assert response.status_code == status, response.json
    if status == 413:
        assert response.json["code"] == "payload_too_large"


def test_default_limits_are_the_documented_ones(client, key):
    too_many = {"events": [make_event() for _ in range(501)]}
    response = _post(client, key, json.dumps(too_many).encode())
    assert (response.status_code, "500" in response.json["message"]) == (413, True)
    single = _padded(70_000)
    assert _post(client, key, json.dumps(single).encode()).status_code == 413
    big_event = _padded(40_000)
    response = _post(client, key, json.dumps({"events": [big_event, make_event()]}).encode())
    assert response.status_code == 207
    assert response.json["results"][0]["code"] == "payload_too_large"


def test_oversized_body_is_refused_before_reading(client, key, db):
    response = _post(client, key, b"x" * 600_000)
    assert response.status_code == 413
    assert db("SELECT raw, raw_bytes FROM rejected") == [{"raw": "", "raw_bytes": 600_000}]


@pytest.mark.parametrize("where", ["profile", "event", "context", "batch"])
@pytest.mark.parametrize("depth", [33, 500, 968, 990])
def test_deep_nesting_is_400_not_500(client, key, where, depth):
    inner = '{"a":' * depth + "1" + "}" * depth
    body = {
        "profile": '{"user":{"anonymous_id":"a","profile":INNER},"event":{"type":"login"}}',
        "event": '{"user":{"anonymous_id":"a"},"event":{"type":"login","x":INNER}}',
        "context": '{"user":{"anonymous_id":"a"},"event":{"type":"login"},"context":{"x":INNER}}',
        "batch": '{"events":[INNER]}',
    }[where].replace("INNER", inner)
    response = _post(client, key, body.encode(), **{"Content-Type": "application/json"})
    assert (response.status_code, response.json["code"]) == (400, "malformed_json")


def test_nesting_within_the_limit_is_fine(client, key):
    inner = '{"a":' * 20 + "1" + "}" * 20
    body = '{"user":{"anonymous_id":"a","profile":INNER},"event":{"type":"login"}}'.replace("INNER", inner)
    assert _post(client, key, body.encode(), **{"Content-Type": "application/json"}).status_code == 204


def test_number_out_of_float_range_is_400(client, key, db):
    body = b'{"user": {"anonymous_id": "a", "profile": {"n": 1e999}}, "event": {"type": "login"}}'
    response = client.post("/v1/events", data=body, headers=basic(key), content_type="application/json")
    assert (response.status_code, response.json["code"]) == (400, "malformed_json")
    assert "out of range" in response.json["message"]
    assert db("SELECT count(*) AS n FROM events") == [{"n": 0}]

"""Rate limits per key and per client IP: 429 in the error shape with Retry-After, nothing stored."""

from __future__ import annotations

import pytest

from collector.access import keys
from collector.errors import ConfigError

from support.factories import basic
from support.factories import make_event
from support.factories import post_event
from support.factories import stored_status

#: What each accepted post is answered: a home page view, with its lists.
STORED = stored_status(make_event())
#: The limits' period in these tests: windows are fixed, so a test's few posts straddling two windows would
#: all be allowed; an hour's boundary is far less likely to fall inside a test than a minute's.
PER = "hour"


def _post(client, key, address="198.51.100.7"):
    """Post one event from an address."""
    return post_event(client, key, make_event(), status=None, environ_base={"REMOTE_ADDR": address})


def _count(db):
    return db("SELECT count(*) AS n FROM events")[0]["n"]


def test_per_ip_limit_answers_429_and_stores_nothing(make_app, db):
    app = make_app(RATE_LIMIT_PER_IP=f"3/{PER}")
    key = keys.create_key(app.extensions["collector.storage"], "shop", [])
    client = app.test_client()
    statuses = [_post(client, key).status_code for _ in range(5)]
    assert statuses == [STORED, STORED, STORED, 429, 429]
    refused = client.post("/v1/events", json=make_event(), environ_base={"REMOTE_ADDR": "198.51.100.7"},
                          headers={**basic(key), "Origin": "https://shop.example"})
    assert refused.json["code"] == "rate_limited" and "this address" in refused.json["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3601
    # A page's tracker can read the answer and its Retry-After.
    assert refused.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Retry-After" in refused.headers["Access-Control-Expose-Headers"]
    assert _count(db) == 3
    assert _post(client, key, address="198.51.100.8").status_code == STORED  # another visitor is not affected


def test_per_key_limit_leaves_other_keys_alone(make_app, db):
    app = make_app(RATE_LIMIT_PER_KEY=f"2/{PER}")
    storage = app.extensions["collector.storage"]
    busy, quiet = keys.create_key(storage, "busy", []), keys.create_key(storage, "quiet", [])
    client = app.test_client()
    assert [_post(client, busy, f"203.0.113.{i}").status_code for i in range(3)] == [STORED, STORED, 429]
    assert "this key" in _post(client, busy, "203.0.113.9").json["message"]
    assert _post(client, quiet).status_code == STORED
    assert _count(db) == 3


@pytest.mark.parametrize("apply_to_test_keys, expected", [(0, [STORED] * 4), (1, [STORED, 429, 429, 429])])
def test_test_keys_are_exempt_unless_asked(make_app, apply_to_test_keys, expected):
    app = make_app(RATE_LIMIT_PER_IP=f"1/{PER}", RATE_LIMIT_TEST_KEYS=apply_to_test_keys)
    key = keys.create_key(app.extensions["collector.storage"], "ci", [], test=True)
    client = app.test_client()
    assert [_post(client, key).status_code for _ in range(4)] == expected


def test_empty_setting_turns_a_limit_off_and_preflights_never_count(make_app):
    app = make_app(RATE_LIMIT_PER_IP="", RATE_LIMIT_PER_KEY=f"1/{PER}")
    key = keys.create_key(app.extensions["collector.storage"], "shop", [])
    client = app.test_client()
    for _ in range(5):
        preflight = client.options("/v1/events", headers={"Origin": "https://shop.example",
                                                          "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 204
    assert [_post(client, key, f"192.0.2.{i}").status_code for i in range(3)] == [STORED, 429, 429]


def test_a_bad_limit_stops_the_start(make_app):
    for bad in ("lots", "0/second", "5/fortnight"):
        with pytest.raises(ConfigError, match="RATE_LIMIT_PER_IP must look like"):
            make_app(RATE_LIMIT_PER_IP=bad)

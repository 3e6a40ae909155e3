"""Key rotation: a key's successor and the key itself both work during the overlap, the old one is refused
with 403 after it; the site stays one (events, records, targets, secrets, reports); secrets rotate alike."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

from collector.access import keys
from collector.access import server_keys
from collector.access import sites
from collector.analytics.store import open_analytics
from collector.clock import iso
from collector.clock import now_iso
from collector.clock import utcnow
from collector.reports import registry

from support.factories import basic
from support.factories import make_event
from support.factories import new_id
from support.factories import stored_status
from support.upstream import Upstream

SHOP_ID = "550e8400-e29b-41d4-a716-446655440000"


def _expire(db, table: str, where: str, params: tuple) -> None:
    """End an overlap now (instead of waiting it out), as the clock would."""
    db(f"UPDATE {table} SET expires_at = ? WHERE {where}", (iso(utcnow() - timedelta(seconds=1)), *params))


def test_both_keys_work_during_the_overlap_and_the_old_is_refused_after(make_app, db):
    app = make_app(KEY_CACHE_SECONDS=0)
    client, storage = app.test_client(), app.extensions["collector.storage"]
    old = keys.create_key(storage, "shop", ["https://shop.example"])
    new = keys.rotate_key(storage, old, timedelta(days=7))
    assert new != old and new.startswith("live_")
    for key in (old, new, old):
        answer = client.post("/v1/events", json=make_event(env_event_id=new_id()), headers={
            **basic(key), "Origin": "https://shop.example"})
        assert answer.status_code == 200  # a home page view, answered with its lists
    assert client.post("/v1/events", json=make_event(), headers={**basic(new), "Origin": "https://evil.example"}
                       ).status_code == 403  # the successor keeps the origins
    _expire(db, "keys", "key = ?", (old,))
    refused = client.post("/v1/events", json=make_event(), headers=basic(old))
    assert refused.status_code == 403 and refused.json["code"] == "key_rotated"
    assert "rotated" in refused.json["message"]
    body = make_event(env_event_id=new_id())
    assert client.post("/v1/events", json=body, headers=basic(new)).status_code == stored_status(body)
    # One site: every event is kept under the site's first key, and reports by either key read all four.
    assert db("SELECT DISTINCT key FROM events") == [{"key": old}]
    since, until = iso(utcnow() - timedelta(hours=1)), iso(utcnow() + timedelta(hours=1))
    for site in (old, new, "shop"):
        scope = sites.choose(storage, None, site, None)
        assert scope.keys == (old,)
        columns, rows = registry.run(open_analytics(storage), "events", since, until, "live", scope.keys)
        assert sum(row[columns.index("events")] for row in rows) == 4
    assert [row["key"] for row in sites.readable(storage, None)] == [old]


def test_a_token_for_the_site_reads_what_the_new_key_sent(make_app, db):
    from collector.access import tokens

    app = make_app(KEY_CACHE_SECONDS=0)
    client, storage = app.test_client(), app.extensions["collector.storage"]
    old = keys.create_key(storage, "shop", [])
    other = keys.create_key(storage, "other", [])
    token = tokens.create_token(storage, "ana", [old])
    new = keys.rotate_key(storage, old, timedelta(days=1))
    client.post("/v1/events", json=make_event(env_event_id=new_id()), headers=basic(new))
    client.post("/v1/events", json=make_event(env_event_id=new_id()), headers=basic(other))
    for site in (old, new):
        answer = client.get(f"/v1/reports/events?site={site}&since=1d", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.json
        body = answer.json
        assert sum(row[body["columns"].index("events")] for row in body["rows"]) == 1
    assert client.get(f"/v1/reports/events?site={other}&since=1d",
                      headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_the_site_keeps_its_targets_records_and_secrets(make_app, db):
    app = make_app(KEY_CACHE_SECONDS=0)
    client, storage = app.test_client(), app.extensions["collector.storage"]
    old = keys.create_key(storage, "shop", [])
    secret = server_keys.create_server_key(storage, old)
    with Upstream() as upstream:
        storage.add_target(old, "datacue", upstream.url, "k", now_iso())
        new = keys.rotate_key(storage, old, timedelta(days=1))
        client.post("/v1/events", json=make_event(env_event_id=new_id()), headers=basic(new))
    assert db("SELECT count(*) AS n FROM outbox") == [{"n": 1}]  # the site's target takes the new key's events
    shop = {"shop_id": SHOP_ID, "name": "Shop", "region": "CA"}
    for key in (old, new):  # the site's secret goes with either of its keys, and the records are one set
        auth = base64.b64encode(f"{key}:{secret}".encode()).decode()
        answer = client.post("/v1/data/shops", json={"records": [shop]}, headers={"Authorization": f"Basic {auth}"})
        assert answer.status_code == 200, answer.json
    assert db("SELECT key, record_id FROM records") == [{"key": old, "record_id": SHOP_ID}]
    # A secret made with the new key belongs to the same site.
    later = server_keys.create_server_key(storage, new)
    assert {row["key"] for row in storage.list_server_keys()} == {old}
    assert client.post("/v1/data/shops", json={"records": [shop]}, headers={"Authorization": f"Bearer {later}"}
                       ).status_code == 200


def test_secrets_rotate_the_same_way(make_app, db):
    app = make_app(KEY_CACHE_SECONDS=0)
    client, storage = app.test_client(), app.extensions["collector.storage"]
    key = keys.create_key(storage, "shop", [])
    old = server_keys.create_server_key(storage, key)
    [row] = storage.list_server_keys()
    new = server_keys.rotate_server_key(storage, row["id"], timedelta(hours=1))
    shop = {"shop_id": SHOP_ID, "name": "Shop", "region": "CA"}
    for secret in (old, new):
        assert client.post("/v1/data/shops", json={"records": [shop]}, headers={"Authorization": f"Bearer {secret}"}
                           ).status_code == 200
    _expire(db, "server_keys", "id = ?", (row["id"],))
    refused = client.post("/v1/data/shops", json={"records": [shop]}, headers={"Authorization": f"Bearer {old}"})
    assert refused.status_code == 403 and refused.json["code"] == "key_rotated"
    # Signed the DataCue client's way with the old secret: refused too; with the new one, taken.
    body = json.dumps({"records": [shop]}).encode()
    for secret, status in ((old, 403), (new, 200)):
        auth = base64.b64encode(f"{key}:{server_keys.signature(body, secret)}".encode()).decode()
        answer = client.post("/v1/data/shops", data=body, headers={"Authorization": f"Basic {auth}",
                                                                    "Content-Type": "application/json"})
        assert answer.status_code == status, answer.json


def test_rotation_from_the_command_line(key, db, cli):
    rotated = cli("keys", "rotate", key, "--overlap", "2h")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert new.startswith("live_") and "works until" in rotated.stderr
    [old_row] = db("SELECT expires_at FROM keys WHERE key = ?", (key,))
    left = (time.mktime(time.strptime(old_row["expires_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.mktime(
        time.strptime(now_iso()[:19], "%Y-%m-%dT%H:%M:%S")))
    assert 7100 < left <= 7200
    assert db("SELECT site FROM keys WHERE key = ?", (new,)) == [{"site": key}]
    assert cli("keys", "rotate", key, check=False).returncode == 1  # rotated already
    assert cli("keys", "rotate", key, "--overlap", "soon", check=False).returncode == 2
    listing = cli("keys", "list").stdout
    assert new in listing and old_row["expires_at"] in listing
    created = cli("keys", "secret", "create", new)
    assert created.returncode == 0
    secret_rotated = cli("keys", "secret", "rotate", "1", "--overlap", "0")
    assert secret_rotated.returncode == 0 and secret_rotated.stdout.strip().startswith("sk_live_")
    assert created.stdout.strip() not in cli("keys", "secret", "list").stdout

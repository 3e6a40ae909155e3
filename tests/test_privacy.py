"""Privacy: forget a person (and optionally refuse their later events), prune by age, logs without ids."""

from __future__ import annotations

import io
import logging
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from collector.clock import iso
from collector.clock import now_iso
from collector.clock import utcnow

from support.factories import basic
from support.factories import make_event
from support.factories import new_id
from support.factories import post_event

CART = [{"product_id": "p1", "quantity": 2, "price": 10.0, "currency": "USD"}]


def _post(client, key, anonymous_id, user_id=None, **event):
    """Post one event for a visitor; return its event id."""
    event_id = new_id()
    user = {"anonymous_id": anonymous_id, **({"user_id": user_id} if user_id else {})}
    body = make_event(user=user, env_event_id=event_id, **event)
    post_event(client, key, body)
    return event_id


def _person_and_stranger(client, key, storage):
    """u1 browsed anonymously as a1, then logged in; a2 is someone else. One webhook target."""
    storage.add_target(key, "webhook", "http://127.0.0.1:9/hook", "whsec_" + "a" * 43 + "=", now_iso())
    _post(client, key, "a1")
    _post(client, key, "a1", type_="viewcart", subtype=None, cart=CART)
    _post(client, key, "a1", user_id="u1", type_="login", subtype=None)
    _post(client, key, "a9", user_id="u1")  # u1 on another device
    _post(client, key, "a2")
    # A refused body that names a1 is kept for repair until the person is forgotten.
    client.post("/v1/events", json={"user": {"anonymous_id": "a1"}, "event": {"type": "nope"}}, headers=basic(key))


def test_forget_erases_the_person_and_the_ids_linked_to_them(client, key, storage, db):
    _person_and_stranger(client, key, storage)
    counts = storage.forget("u1", None, False, now_iso())
    assert counts == {"user_ids": 1, "anonymous_ids": 2, "events": 4, "lines": 1, "outbox": 4, "rejected": 1,
                      "customers": 0}
    left = db("SELECT anonymous_id, user_id FROM events")
    assert left == [{"anonymous_id": "a2", "user_id": None}]
    assert len(db("SELECT * FROM outbox")) == 1 and db("SELECT * FROM event_lines") == []
    assert db("SELECT * FROM rejected") == [] and db("SELECT * FROM identities") == []
    # Not suppressed: the same visitor coming back is stored again.
    _post(client, key, "a1")
    assert len(db("SELECT * FROM events WHERE anonymous_id = 'a1'")) == 1


def test_forget_by_anonymous_id_follows_the_login(client, key, storage, db):
    _person_and_stranger(client, key, storage)
    counts = storage.forget(None, "a9", False, now_iso())
    assert (counts["user_ids"], counts["anonymous_ids"], counts["events"]) == (1, 2, 4)


def test_suppressed_person_is_refused_and_kept_nowhere(client, key, storage, db):
    _person_and_stranger(client, key, storage)
    storage.forget("u1", None, True, now_iso())
    assert {row["kind"] for row in db("SELECT kind FROM suppressed")} == {"user_id", "anonymous_id"}
    assert "u1" not in str(db("SELECT * FROM suppressed"))  # only hashes are kept
    response = client.post("/v1/events", json=make_event(user={"anonymous_id": "a1"}), headers=basic(key))
    assert (response.status_code, response.json["code"]) == (403, "suppressed")
    batch = {"events": [make_event(user={"anonymous_id": "a9"}), make_event(user={"anonymous_id": "a3"})]}
    response = client.post("/v1/events", json=batch, headers=basic(key))
    assert response.status_code == 207
    assert [r["status"] for r in response.json["results"]] == ["rejected", "stored"]
    assert response.json["results"][0]["code"] == "suppressed" and response.json["rejected"] == 1
    assert {row["anonymous_id"] for row in db("SELECT anonymous_id FROM events")} == {"a2", "a3"}
    assert db("SELECT * FROM rejected") == []  # a forgotten person's body is not kept for repair either


def test_prune_deletes_by_age(client, key, storage, db):
    import io

    from collector.imports import jobs

    _person_and_stranger(client, key, storage)
    db("UPDATE events SET received_at = '2020-01-01T00:00:00.000Z' WHERE anonymous_id = 'a1'")
    db("UPDATE rejected SET received_at = '2020-01-01T00:00:00.000Z'")
    db("UPDATE outbox SET state = 'delivered', created_at = 1000")
    made = [jobs.create(storage, storage.get_key(key), "shops", io.BytesIO(b"x"), "s.csv", 1)["id"] for _ in range(3)]
    db("UPDATE import_jobs SET status = 'COMPLETED', finished_at = '2020-01-01T00:00:00.000Z' WHERE id = ?", (made[0],))
    db("UPDATE import_jobs SET status = 'COMPLETED', finished_at = '2026-01-01T00:00:00.000Z' WHERE id = ?", (made[1],))
    counts = storage.prune(datetime(2025, 1, 1, tzinfo=UTC), batch=2)  # in batches of two rows
    assert counts == {"lines": 1, "events": 3, "rejected": 1, "outbox": 5, "import_jobs": 1}
    assert len(db("SELECT * FROM events")) == 2
    assert [row["id"] for row in db("SELECT id FROM import_jobs ORDER BY id")] == made[1:]


def test_cli_forget_and_prune_log_counts_never_ids(cli, client, key, storage, db):
    _person_and_stranger(client, key, storage)
    result = cli("forget", "--user-id", "u1", "--suppress")
    assert '"events": 4' in result.stdout and '"suppressed": true' in result.stdout
    assert "forget: erased" in result.stderr and "u1" not in result.stderr and "a1" not in result.stderr
    pruned = cli("prune", "--older-than", "30")
    assert '"events": 0' in pruned.stdout and "retention: deleted" in pruned.stderr
    assert cli("forget", check=False).returncode == 2


def test_the_worker_applies_retention_by_the_settings(client, key, storage, db):
    from collector.web.logs import log
    from collector.worker.process import Worker

    _person_and_stranger(client, key, storage)
    client.post("/v1/events", json={"user": {"anonymous_id": "a5"}, "event": {"type": "nope"}}, headers=basic(key))
    db("UPDATE events SET received_at = '2020-01-01T00:00:00.000Z' WHERE anonymous_id = 'a1'")
    rejected = [row["id"] for row in db("SELECT id FROM rejected ORDER BY id")]
    db("UPDATE rejected SET received_at = ? WHERE id = ?", (iso(utcnow() - timedelta(days=10)), rejected[0]))
    db("UPDATE rejected SET received_at = ? WHERE id = ?", (iso(utcnow() - timedelta(days=3)), rejected[1]))
    lines = io.StringIO()
    handler, level = logging.StreamHandler(lines), log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)  # the test app logs warnings only
    try:
        Worker(storage, {"RETENTION_DAYS": 30, "REJECTED_RETENTION_DAYS": 7}, forward=False, jobs=False).run(once=True)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    assert sorted(row["anonymous_id"] for row in db("SELECT anonymous_id FROM events")) == ["a2", "a9"]
    assert [row["id"] for row in db("SELECT id FROM rejected")] == rejected[1:]  # its own, shorter retention
    logged = lines.getvalue()
    assert "retention: deleted 3 events, 1 lines, 1 rejected" in logged and "a1" not in logged
    # Nothing configured: nothing deleted.
    db("UPDATE events SET received_at = '2020-01-01T00:00:00.000Z'")
    Worker(storage, {}, forward=False, jobs=False).run(once=True)
    assert len(db("SELECT id FROM events")) == 2

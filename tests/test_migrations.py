"""Migrations: a store made by an earlier version keeps every row, and gains what the new ones bring."""

from __future__ import annotations

import pytest

from collector import create_app
from collector.clock import now_iso
from collector.storage import base


def test_forward_targets_lose_their_kind_constraint_and_keep_their_rows(backend, database_url, monkeypatch, db):
    every = base.migrations
    # The store as the version before kinds moved into code left it: migrations up to 0007.
    monkeypatch.setattr(base, "migrations", lambda name: [m for m in every(name) if m[0] <= 7])
    if backend == "postgres":  # a fresh database comes migrated from a template: undo 0008
        db("DELETE FROM schema_migrations WHERE version > 7")
        db("ALTER TABLE forward_targets ADD CONSTRAINT forward_targets_kind_check "
           "CHECK (kind IN ('datacue', 'cobi', 'webhook'))")
    app = create_app({"DATABASE_URL": database_url, "RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_KEY": ""})
    storage = app.extensions["collector.storage"]
    storage.migrate()
    # A key and a target, as that version added them (today's code writes columns it did not have).
    key = "live_" + "o" * 24
    db("INSERT INTO keys (key, name, mode, origins, created_at) VALUES (?, 'old', 'live', '[]', ?)", (key, now_iso()))
    # The target (today's code writes columns it did not have).
    db("INSERT INTO forward_targets (key, kind, url, secret, created_at) "
       "VALUES (?, 'webhook', 'http://127.0.0.1:9/hook', 'whsec_x', ?)", (key, now_iso()))
    target_id = db("SELECT id FROM forward_targets")[0]["id"]
    # A pending delivery, as that version queued it (today's code writes columns it did not have).
    db("INSERT INTO outbox (target_id, key, event_id, source, payload, next_attempt_at, created_at) "
       "VALUES (?, ?, 'e1', 'datacue', '{}', 0, 0)", (target_id, key))
    with pytest.raises(Exception, match="(?i)check"):
        db("INSERT INTO forward_targets (key, kind, url, secret, created_at) VALUES (?, 'new', 'u', 's', 't')",
           (key,))
    storage.close()

    # The upgrade to the version after (later migrations are other tests' business).
    monkeypatch.setattr(base, "migrations", lambda name: [m for m in every(name) if m[0] <= 8])
    upgraded = create_app({"DATABASE_URL": database_url}).extensions["collector.storage"]
    assert upgraded.migrate() == ["0008_target_kinds_in_code.sql"]
    upgraded.close()
    assert db("SELECT id, kind FROM forward_targets") == [{"id": target_id, "kind": "webhook"}]
    assert db("SELECT target_id, state FROM outbox") == [{"target_id": target_id, "state": "pending"}]
    # A kind the registry knows is all a target needs now; references are still enforced.
    db("INSERT INTO forward_targets (key, kind, url, secret, created_at) VALUES (?, 'new', 'u', 's', 't')", (key,))
    with pytest.raises(Exception, match="(?i)foreign key"):
        db("INSERT INTO outbox (target_id, key, event_id, source, payload, next_attempt_at, created_at) "
           "VALUES (9999, ?, 'e', 'datacue', '{}', 0, 0)", (key,))


def test_every_backend_has_the_same_migrations():
    names = {backend: [name for _, name, _ in base.migrations(backend)] for backend in ("sqlite", "postgres")}
    assert names["sqlite"] == names["postgres"]
    assert [version for version, _, _ in base.migrations("sqlite")] == list(range(1, len(names["sqlite"]) + 1))

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


def test_a_store_with_neighbour_rows_gets_every_product_s_lists_worked_out(tmp_path, monkeypatch):
    from collector.recommendations.upkeep import keep_up

    every = base.migrations
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    # The store as the version before rec_lists left it: migrations up to 0020, with counts and neighbours.
    monkeypatch.setattr(base, "migrations", lambda name: [m for m in every(name) if m[0] <= 20])
    storage = create_app({"DATABASE_URL": url}).extensions["collector.storage"]
    storage.migrate()
    with storage.shared_transaction() as conn:
        conn.executemany("INSERT INTO rec_items (key, mode, product_id, orders, bought, views, viewed) "
                         "VALUES ('k', 'live', ?, 3, 3, 5, 5)", [("p1",), ("p2",)])
        conn.execute("INSERT INTO rec_totals (key, mode, orders, bought, latest) VALUES ('k', 'live', 3, 3, 1)")
        conn.executemany("INSERT INTO rec_pairs (key, mode, kind, product_id, other_id, n, weight) "
                         "VALUES ('k', 'live', ?, ?, ?, 3, 3)",
                         [(kind, *pair) for kind in ("bought", "viewed") for pair in (("p1", "p2"), ("p2", "p1"))])
        conn.execute("INSERT INTO rec_neighbours (key, mode, kind, product_id, other_id, lift, base) "
                     "VALUES ('k', 'live', 'bought', 'p1', 'p2', 0.5, 0.5)")
    storage.close()

    monkeypatch.setattr(base, "migrations", every)
    upgraded = create_app({"DATABASE_URL": url}).extensions["collector.storage"]
    assert "0021_recommendation_lists.sql" in upgraded.migrate()
    marks = upgraded.shared_read("SELECT kind, product_id FROM rec_dirty ORDER BY kind, product_id")
    assert [tuple(m.values()) for m in marks] == [("bought", "p1"), ("bought", "p2"), ("viewed", "p1"),
                                                   ("viewed", "p2")]
    keep_up(upgraded, settle=0)
    lists = {row["product_id"]: row for row in upgraded.shared_read("SELECT * FROM rec_lists")}
    assert lists["p1"]["sold"] == 1 and lists["p1"]["viewed"] == '[["p2",1.0]]'
    assert upgraded.shared_read("SELECT count(*) AS n FROM rec_dirty")[0]["n"] == 0
    upgraded.close()

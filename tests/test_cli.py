"""The collector command: keys, migrate, query; run as a real subprocess, as a user would."""

from __future__ import annotations

import csv
import io
import json

import pytest

from collector.storage.base import migrations

from support.factories import basic
from support.factories import make_event


def test_keys_create_prints_the_key_alone(cli, client):
    out = cli("keys", "create", "--name", "Main shop", "--origin", "https://shop.example").stdout
    key = out.strip()
    assert out == key + "\n" and key.startswith("live_") and len(key) == 29
    test_key = cli("keys", "create", "--name", "staging", "--test").stdout.strip()
    assert test_key.startswith("test_")
    listing = cli("keys", "list").stdout
    assert "Main shop" in listing and "https://shop.example" in listing and "staging" in listing
    response = client.post("/v1/events", json=make_event(), headers={**basic(key), "Origin": "https://shop.example"})
    assert response.status_code == 200  # a home page view, answered with its lists


def test_live_key_without_origins_warns_on_stderr(cli):
    result = cli("keys", "create", "--name", "open")
    assert "any origin" in result.stderr and result.stdout.startswith("live_")


def test_bad_origin_is_refused(cli):
    result = cli("keys", "create", "--name", "x", "--origin", "shop.example/path", check=False)
    assert result.returncode != 0 and "not an origin" in result.stderr


def test_revoke(cli, client):
    key = cli("keys", "create", "--name", "old").stdout.strip()
    cli("keys", "revoke", key)
    assert client.post("/v1/events", json=make_event(), headers=basic(key)).status_code == 403
    [row] = [line for line in cli("keys", "list").stdout.splitlines() if line.startswith(key)]
    assert row.rstrip().endswith("Z")  # the revoked column is filled
    again = cli("keys", "revoke", key, check=False)
    assert again.returncode != 0 and "no such active key" in again.stderr


def test_keys_ensure_is_idempotent(cli):
    first = cli("keys", "ensure", "--name", "development").stdout
    assert cli("keys", "ensure", "--name", "development").stdout == first


def test_migrate_is_idempotent(cli):
    cli("migrate")  # applies what is missing (a PostgreSQL test database starts migrated)
    assert "up to date" in cli("migrate").stderr
    names = cli("query", "SELECT name FROM schema_migrations ORDER BY version", "--format", "csv").stdout.split()
    assert names == ["name"] + [name for _, name, _ in migrations("sqlite")]
    assert names[1:3] == ["0001_init.sql", "0002_forwarding.sql"]


@pytest.fixture
def stored(client, key):
    """Three stored events."""
    for term in ("sofa", "lamp", "rug"):
        response = client.post("/v1/events", json=make_event("search", None, term=term), headers=basic(key))
        assert response.status_code == 200  # a search, answered with its list


SQL = "SELECT term, type FROM events ORDER BY id"


def test_query_formats(cli, stored):
    table = cli("query", SQL).stdout
    assert table.splitlines()[0].split() == ["term", "type"] and "lamp" in table
    rows = list(csv.reader(io.StringIO(cli("query", SQL, "--format", "csv").stdout)))
    assert rows == [["term", "type"], ["sofa", "search"], ["lamp", "search"], ["rug", "search"]]
    assert json.loads(cli("query", SQL, "--format", "json").stdout) == [
        {"term": t, "type": "search"} for t in ("sofa", "lamp", "rug")]
    lines = cli("query", SQL, "--format", "ndjson").stdout.splitlines()
    assert [json.loads(line) for line in lines] == [{"term": t, "type": "search"} for t in ("sofa", "lamp", "rug")]


@pytest.mark.parametrize("sql", ["DELETE FROM events", "UPDATE events SET term = 'x'", "DROP TABLE events",
                                 "INSERT INTO keys (key, name, mode, created_at) VALUES ('a', 'b', 'live', 't')"])
def test_query_refuses_writes(cli, stored, db, sql):
    result = cli("query", sql, check=False)
    assert result.returncode == 1
    assert "read-only" in result.stderr
    assert db("SELECT count(*) AS n FROM events") == [{"n": 3}]


def test_query_reports_sql_errors(cli, stored):
    result = cli("query", "SELECT nope FROM events", check=False)
    assert result.returncode == 1 and ("no such column" in result.stderr or "does not exist" in result.stderr)
    assert "nope" in result.stderr


@pytest.mark.sqlite_only
def test_copy_sqlite_to_postgres_without_loss_and_idempotently(cli, client, key, storage, db, postgres_server):
    from collector.clock import now_iso

    storage.add_target(key, "webhook", "http://127.0.0.1:9/hook", "whsec_" + "a" * 43 + "=", now_iso())
    storage.add_token("Ana", "0" * 64, now_iso())
    storage.forget("gone-user", None, True, now_iso())  # a suppressed id must stay suppressed in the new store
    cart = [{"product_id": "p1", "unit_price": 2, "quantity": 3, "currency": "USD"},
            {"product_id": "p2", "unit_price": 1, "currency": "USD"}]
    client.post("/v1/events", json={"events": [make_event("order", "completed", order_id="o1", cart=cart),
                                               make_event("search", None, term="lamp"), {"user": {}}]},
                headers=basic(key))
    target = postgres_server.fresh_database()
    first = cli("copy", "--from", f"sqlite:///{storage.path}", "--to", target)
    assert "events: 2 added" in first.stderr and "event_lines: 2 added" in first.stderr
    assert "rejected: 1 added" in first.stderr and "outbox: 2 added" in first.stderr
    assert "analyst_tokens: 1 added" in first.stderr and "suppressed: 1 added" in first.stderr
    client.post("/v1/events", json=make_event("login", None), headers=basic(key))
    again = cli("copy", "--from", f"sqlite:///{storage.path}", "--to", target)
    assert "keys: 0 added" in again.stderr and "events: 1 added" in again.stderr and "rejected: 0 added" in again.stderr
    assert "analyst_tokens: 0 added" in again.stderr and "suppressed: 0 added" in again.stderr
    import psycopg

    with psycopg.connect(target) as conn:
        copied = conn.execute("SELECT e.type, e.revenue, count(l.id) FROM events e LEFT JOIN event_lines l "
                              "ON l.event_pk = e.id GROUP BY e.id ORDER BY e.id").fetchall()
        outbox = conn.execute("SELECT count(*) FROM outbox o JOIN forward_targets t ON t.id = o.target_id").fetchone()
    assert copied == [("order", 7.0, 2), ("search", None, 0), ("login", None, 0)]
    assert outbox == (3,)
    source_ids = sorted(r["event_id"] for r in db("SELECT event_id FROM events"))
    with psycopg.connect(target) as conn:
        assert sorted(r[0] for r in conn.execute("SELECT event_id FROM events")) == source_ids

"""The collector command: keys, migrate, query; run as a real subprocess, as a user would."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import json
import os
import re
import subprocess
import sys
import uuid

import pytest

from collector.reports import registry
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


def _collector(*args, cwd, database_url=None):
    """Run `collector ARGS` in `cwd` with no COLLECTOR_* setting but (when given) the store's URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    if database_url:
        env["COLLECTOR_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "collector.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60)


def test_version_is_the_installed_package_s():
    result = _collector("--version", cwd=None)
    assert result.returncode == 0
    assert result.stdout.strip() == f"collector, version {importlib.metadata.version('storefront-collector')}"


@pytest.mark.parametrize("command", [("export", "--since", "1d"), ("query", "SELECT 1"), ("keys", "list"),
                                     ("report", "overview"), ("worker", "--once")])
def test_no_command_but_migrate_creates_a_store(tmp_path, command):
    """Run in the wrong directory, a command says which store it looked for instead of making an empty one."""
    result = _collector(*command, cwd=tmp_path)
    assert result.returncode == 1
    assert f"There is no store at {tmp_path / 'collector.sqlite3'}" in result.stderr
    assert "`collector migrate` creates one" in result.stderr
    assert list(tmp_path.iterdir()) == []
    assert _collector("migrate", cwd=tmp_path).returncode == 0
    assert (tmp_path / "collector.sqlite3").is_file()
    assert _collector("export", "--since", "1d", cwd=tmp_path).stderr.startswith("0 events exported")


def test_an_empty_postgresql_database_is_not_migrated_by_a_command(postgres_server):
    name = "t_empty_" + uuid.uuid4().hex[:8]
    postgres_server.admin(f"CREATE DATABASE {name}")
    url = f"{postgres_server.url}/{name}"
    result = _collector("keys", "list", cwd=None, database_url=url)
    assert result.returncode == 1 and f"There is no store at {url}" in result.stderr
    assert _collector("migrate", cwd=None, database_url=url).returncode == 0
    assert _collector("keys", "list", cwd=None, database_url=url).returncode == 0


def test_report_help_lists_every_report_with_whole_words(cli):
    """Names are never cut by the wrapping, and the help does not send the reader to itself."""
    text = cli("report", "--help").stdout
    assert "see `collector report --help`" not in text
    assert text.startswith("Usage: ") and " report [OPTIONS] NAME\n" in text.splitlines(keepends=True)[0]
    reports = text.split("Reports:\n", 1)[1]
    listed = [line.split()[0] for line in reports.splitlines() if line.startswith("  ") and not line.startswith("   ")]
    assert listed == sorted(registry.REPORTS)
    # Lines break between words (or after a hyphen), never inside one: joined again, every title reads whole.
    joined = re.sub(r"-\s+", "-", " ".join(reports.split()))
    for title in (report.title for report in registry.REPORTS.values()):
        assert " ".join(title.split()) in joined


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

"""Fixtures: an app over a fresh SQLite file per test, keys, and valid-event factories."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import uuid

import pytest

from collector import create_app
from collector import keys

import pg


def pytest_addoption(parser):
    """--long also runs the tests marked long (minutes each); TESTS_LONG=1 does the same (CI sets it)."""
    parser.addoption("--long", action="store_true", help="also run the tests marked long")


def pytest_collection_modifyitems(config, items):
    """Leave the long tests out of the default run: deselected, not skipped, so CI's no-skip rule holds."""
    if config.getoption("--long") or os.environ.get("TESTS_LONG") == "1":
        return
    long_tests = [item for item in items if item.get_closest_marker("long")]
    if long_tests:
        config.hook.pytest_deselected(items=long_tests)
        items[:] = [item for item in items if not item.get_closest_marker("long")]


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch):
    """Keep the developer's COLLECTOR_* variables out of every test."""
    for name in list(os.environ):
        if name.startswith("COLLECTOR_"):
            monkeypatch.delenv(name)


def pytest_generate_tests(metafunc):
    """Run every test that touches storage on both backends, unless it is marked sqlite_only."""
    if "backend" in metafunc.fixturenames:
        sqlite_only = metafunc.definition.get_closest_marker("sqlite_only")
        metafunc.parametrize("backend", ["sqlite"] if sqlite_only else ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def backend(request):
    """The storage backend this run of the test uses."""
    return request.param


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server for the session, or a loud skip where none can run."""
    reason = pg.available()
    if reason:
        pytest.skip(f"SKIPPED LOUDLY: PostgreSQL tests cannot run: {reason}")
    server = pg.PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def db_path(tmp_path):
    """Path of the test's SQLite file."""
    return str(tmp_path / "collector.sqlite3")


@pytest.fixture
def database_url(backend, db_path, request):
    """The test's own empty store: a SQLite file, or a fresh PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{db_path}"
    return request.getfixturevalue("postgres_server").fresh_database()


@pytest.fixture
def make_app(database_url):
    """Build an app over the test's database with extra settings; close its storage afterwards."""
    made = []

    def make(**settings):
        # Rate limits off unless a test sets them: many tests post faster than a visitor would.
        app = create_app({"TESTING": True, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING",
                          "RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_KEY": "", **settings})
        app.extensions["collector.storage"].migrate()
        made.append(app.extensions["collector.storage"])
        return app

    yield make
    for storage in made:
        storage.close()


@pytest.fixture
def app(make_app):
    """An app with default settings."""
    return make_app()


@pytest.fixture
def client(app):
    """A test client of app."""
    return app.test_client()


@pytest.fixture
def storage(app):
    """The app's storage."""
    return app.extensions["collector.storage"]


@pytest.fixture
def key(storage):
    """A live key with no origin restriction."""
    return keys.create_key(storage, "shop", [])


@pytest.fixture
def shop_key(storage):
    """A live key restricted to https://shop.example and its subdomains."""
    return keys.create_key(storage, "restricted", ["https://shop.example", "https://*.shop.example"])


@pytest.fixture
def db(database_url):
    """Run SQL (with ? placeholders) against the test database, committed; rows come back as dicts.

    JSON columns come back as JSON text on both backends, as SQLite stores them.
    """

    def run(sql, params=()):
        if database_url.startswith("sqlite:///"):
            conn = sqlite3.connect(database_url[len("sqlite:///"):])
            conn.row_factory = sqlite3.Row
            try:
                rows = [dict(r) for r in conn.execute(sql, params).fetchall()]
                conn.commit()
                return rows
            finally:
                conn.close()
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as conn:
            cursor = conn.execute(sql.replace("?", "%s"), params)
            rows = cursor.fetchall() if cursor.description else []
        return [{k: json.dumps(v) if isinstance(v, (dict, list)) else v for k, v in row.items()} for row in rows]

    return run


def basic(key: str) -> dict:
    """Authorization header the DataCue way: base64('KEY:')."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def bearer(key: str) -> dict:
    """Authorization header the Cobi way."""
    return {"Authorization": f"Bearer {key}"}


def make_event(type_="pageview", subtype="home", user=None, **fields) -> dict:
    """A valid DataCue envelope; event fields and envelope keys (prefixed env_) can be overridden."""
    envelope = {k[4:]: fields.pop(k) for k in list(fields) if k.startswith("env_")}
    event = {"type": type_}
    if subtype is not None:
        event["subtype"] = subtype
    event.update(fields)
    return {"user": user or {"anonymous_id": "anon-1"}, "event": event, **envelope}


def make_interaction(**overrides) -> dict:
    """A valid Cobi interaction with every required field."""
    record = {"interaction_type": "PAGE_VIEW", "item_type": "SHOP",
              "item_id": "550e8400-e29b-41d4-a716-446655440000", "event_timestamp": "2026-11-20T10:00:00Z"}
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not ...}


def new_id() -> str:
    """A fresh event id."""
    return str(uuid.uuid4())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Where TESTS_NO_SKIP is set (CI), a skipped test fails: a missing tool must not pass silently."""
    report = yield
    if report.skipped and os.environ.get("TESTS_NO_SKIP") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where TESTS_NO_SKIP forbids skipping: {report.longrepr}"
    return report

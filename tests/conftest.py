"""Fixtures: an app over a fresh store per test (SQLite and PostgreSQL), keys, the CLI, the analysts'
dataset and a browser. Helpers that are not fixtures live in tests/support/."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from collector import config
from collector import create_app
from collector.access import keys
from collector.access import server_keys
from collector.clock import now_iso
from collector.storage import open_storage

from support import pg
from support.chromium import CHROMIUM
from support.chromium import CHROMIUM_ARGS
from support.chromium import watched_page
from support.dataset import dataset_requests


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
def secret(storage, key):
    """A secret server key of `key`'s site."""
    return server_keys.create_server_key(storage, key)


@pytest.fixture
def target(storage, key):
    """Add a target for `key` to an upstream: target(kind, upstream) -> target id."""

    def add(kind: str, upstream, secret: str = "upstream-secret") -> int:
        return storage.add_target(key, kind, upstream.url, secret, now_iso())

    return add


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
            conn.execute("PRAGMA foreign_keys=ON")  # as the collector's own connections have it
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


@pytest.fixture
def cli(database_url):
    """Run `collector ARGS` as a real subprocess against the test database (set up, as `collector migrate`
    leaves it: no other command creates a store); return the completed process."""
    storage = open_storage({**config.DEFAULTS, "DATABASE_URL": database_url})
    storage.migrate()
    storage.close()

    def run(*args, check=True):
        env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
        env["COLLECTOR_DATABASE_URL"] = database_url
        result = subprocess.run([sys.executable, "-m", "collector.cli", *args], env=env, capture_output=True,
                                text=True, timeout=60)
        if check:
            assert result.returncode == 0, result.stderr
        return result

    return run


@pytest.fixture
def dataset(client, storage):
    """Send the analysts' dataset through the public API; return the live and test keys."""
    live = keys.create_key(storage, "shop", [])
    test = keys.create_key(storage, "staging", [], test=True)
    for path, body, headers, status in dataset_requests(live, test):
        assert client.post(path, json=body, headers=headers).status_code == status
    return {"live": live, "test": test}


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module, driven by Playwright, or a loud skip where there is none."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="SKIPPED LOUDLY: playwright is not installed")
    if not shutil.which(CHROMIUM):
        pytest.skip(f"SKIPPED LOUDLY: no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page, with CSP violations and page errors recorded."""
    context = browser.new_context()
    yield watched_page(context)
    context.close()


def _passed_total(terminalreporter, prop: str) -> int:
    """A user property added up over the passed tests of every test process."""
    return sum(value for report in terminalreporter.stats.get("passed", [])
               for name, value in getattr(report, "user_properties", ()) if name == prop)


def pytest_terminal_summary(terminalreporter):
    """At the end of the run: how many generated requests the long fuzz run sent, and how many example
    scripts of DataCue's PHP client ran (added up over every test process), so a run shows they ran."""
    sent = _passed_total(terminalreporter, "fuzz_requests")
    if sent:
        terminalreporter.write_line(f"long fuzz run: {sent:,} generated requests, none answered 5xx")
    scripts = _passed_total(terminalreporter, "php_scripts")
    if scripts:
        runs = _passed_total(terminalreporter, "php_runs")
        terminalreporter.write_line(f"DataCue's PHP client: {scripts} example scripts run, unchanged, in {runs} "
                                    "release and backend pairs")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Where TESTS_NO_SKIP is set (CI), a skipped test fails: a missing tool must not pass silently."""
    report = yield
    if report.skipped and os.environ.get("TESTS_NO_SKIP") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped where TESTS_NO_SKIP forbids skipping: {report.longrepr}"
    return report

"""DataCue's official PHP client (DataCueCo/datacue-php, its 2019 release), unchanged but for its base
URLs, runs its own example scripts against the collector under real gunicorn; what they sent is in the views.

The client's source is not in this repository (it is DataCue's, and no registry this project installs
from carries it): the test clones it from the git bundle beside the project, `../shared/vendor/
datacue-php.bundle` (or `DATACUE_PHP_BUNDLE`), and extracts the pinned commit. PHP with curl comes from
Debian.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from collector import create_app
from collector.access import server_keys

from support.servers import Gunicorn
from support.servers import prepare_store

#: The 2019-07 release (composer version 1.0.4): PUT to cancel orders, PUT /v1/batch/<type>, the overview.
COMMIT = "02c076aadad0ed8b9c0a300c1bedcce6ab0dd736"
BUNDLE = Path(os.environ.get("DATACUE_PHP_BUNDLE",
                           Path(__file__).resolve().parents[2] / "shared" / "vendor" / "datacue-php.bundle"))
#: Autoload the client's classes the way its composer.json says (PSR-4, DataCue\ in src/).
AUTOLOAD = """<?php
spl_autoload_register(function ($class) {
    $prefix = 'DataCue\\\\';
    if (strncmp($class, $prefix, strlen($prefix)) === 0) {
        require __DIR__ . '/../src/' . str_replace('\\\\', '/', substr($class, strlen($prefix))) . '.php';
    }
});
"""
CONFIG = """<?php
$env = 'development';
$apiKey = '{key}';
$apiSecret = '{secret}';
$options = ['max_try_times' => 2, 'pow_base' => 2, 'debug' => false];
"""
#: The example scripts, in an order in which each finds what it names; the last ones leave the state checked.
SCRIPTS = [
    "events/track.php",
    "products/create.php", "products/update.php", "products/deleteVariant.php", "products/deleteProduct.php",
    "products/batchCreate.php", "products/batchUpdate.php", "products/batchDelete.php",
    "users/create.php", "users/batchCreate.php", "users/batchUpdate.php", "users/delete.php",
    "users/batchDelete.php", "users/update.php",
    "orders/create.php", "orders/batchCreate.php", "orders/cancel.php", "orders/batchCancel.php", "orders/delete.php",
    "overview/products.php", "overview/users.php", "overview/orders.php",
    "exceptions/exceedBodySizeLimitation.php", "exceptions/exceedListDataSizeLimitation.php",
    "client/clear.php",
    "products/batchCreate.php", "users/create.php",
]


def _client(source: Path, folder: Path, url: str, key: str, secret: str) -> Path:
    """The client at COMMIT in `folder`, its base URLs pointed at `url`, with an autoloader and a config."""
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(source), "archive", COMMIT], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    constants = folder / "src" / "Constants.php"
    text = constants.read_text()
    for host, path in (("https://staging-api.datacue.co/v1/", "/v1/"), ("https://staging-events.datacue.co/", "/")):
        assert host in text, f"{host} not in Constants.php"
        text = text.replace(host, url + path)
    constants.write_text(text)
    (folder / "vendor").mkdir()
    (folder / "vendor" / "autoload.php").write_text(AUTOLOAD)
    (folder / "examples" / "config.php").write_text(CONFIG.format(key=key, secret=secret))
    return folder


@pytest.fixture
def php():
    """The php binary with curl, or a loud skip."""
    binary = shutil.which("php")
    if binary is None:
        pytest.skip("php is missing: apt-get install php-cli php-curl")
    modules = subprocess.run([binary, "-m"], capture_output=True, text=True).stdout.split()
    if "curl" not in modules:
        pytest.skip("php has no curl module: apt-get install php-curl")
    return binary


@pytest.fixture
def source(tmp_path):
    """A clone of the client's bundle (no work tree: the test extracts one commit), or a loud skip."""
    if not BUNDLE.is_file():
        pytest.skip(f"DataCue's PHP client was looked for at {BUNDLE} (set DATACUE_PHP_BUNDLE)")
    clone = tmp_path / "datacue-php.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(BUNDLE), str(clone)], check=True, capture_output=True)
    return clone


def _rows(path: str, sql: str) -> list[tuple]:
    """Rows from the store, read while the server runs (WAL lets a reader in)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_the_official_php_client_examples(tmp_path, php, source):
    store = str(tmp_path / "php.sqlite3")
    key = prepare_store(store, "php-shop")
    storage = create_app({"DATABASE_URL": f"sqlite:///{store}"}).extensions["collector.storage"]
    secret = server_keys.create_server_key(storage, key)
    storage.close()
    listed = subprocess.run(["git", "-C", str(source), "ls-tree", "-r", "--name-only", COMMIT, "examples/"],
                            check=True, capture_output=True, text=True).stdout.split()
    # Every example script of the release runs: every call the client makes.
    assert set(SCRIPTS) == {name.removeprefix("examples/") for name in listed} - {"config.php"}
    with Gunicorn(store, workers=1) as server:
        client = _client(source, tmp_path / "datacue-php", server.url, key, secret)
        # users/update.php updates a user "p1" that no other example creates: the shop has it already.
        seed = subprocess.run(["curl", "-sf", "-u", f"{key}:{secret}", "-H", "Content-Type: application/json",
                               "-d", json.dumps({"user_id": "p1", "email": "p1@abc.com"}),
                               f"{server.url}/v1/users"], capture_output=True, text=True)
        assert seed.returncode == 0, seed.stderr
        outputs = {}
        for script in SCRIPTS:
            done = subprocess.run([php, str(client / "examples" / script)], capture_output=True, text=True,
                                  timeout=60, cwd=client)
            assert done.returncode == 0 and "Fatal" not in done.stdout + done.stderr, \
                f"{script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            outputs[script] = done.stdout
    assert "throw ExceedListDataSizeLimitationException" in outputs["exceptions/exceedListDataSizeLimitation.php"]
    assert "throw ExceedBodySizeLimitationException" in outputs["exceptions/exceedBodySizeLimitation.php"]
    # print_r of the client's Response: its private httpCode and the decoded body.
    assert "httpCode:DataCue\\Core\\Response:private] => 200" in outputs["overview/products.php"]
    assert "[products] => Array" in outputs["overview/products.php"]
    # The event, with the key alone, at the events host's root.
    assert _rows(store, "SELECT type, subtype, user_id FROM events") == [("pageview", "home", "019mr8mf4r")]
    # Products: the last batch create after clear; every version before is in history.
    assert _rows(store, "SELECT product_id, variant_id, name, color, full_price FROM datacue_products "
                        "ORDER BY product_id") == [
        ("p1", "v1", "cool jeans", "blue", 30000.0), ("p2", "v2", "hot jeans", "black", 30000.0)]
    history = _rows(store, "SELECT record_id, is_deleted FROM record_versions WHERE type = 'products' ORDER BY id")
    assert ("p1/v1", 1) in history and ("p2/v2", 1) in history and len(history) >= 6
    # Users: cleared, then the create example again; the update of p1 kept its email and set the location.
    assert _rows(store, "SELECT user_id, email, first_name, location FROM datacue_users") == [
        ("u1", "xyz@abc.com", "John", "santiago")]
    [(p1,)] = _rows(store, "SELECT payload FROM record_versions WHERE record_id = 'p1' AND type = 'users' "
                           "AND is_deleted = 0 ORDER BY id DESC LIMIT 1")
    assert json.loads(p1)["profile"] == {"location": "singapore"} and json.loads(p1)["email"] == "p1@abc.com"
    # Orders: created, then cancelled three ways; clear leaves orders alone.
    assert _rows(store, "SELECT order_id, status, sources FROM orders ORDER BY order_id") == [
        ("o1", "cancelled", "backend"), ("o2", "cancelled", "backend")]

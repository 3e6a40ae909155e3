"""DataCue's official PHP client (DataCueCo/datacue-php), unchanged but for its base URLs, runs every
example script of its 2019-07 release and of each tagged release (1.0.11, 1.0.12, 1.0.13) against the
collector under real gunicorn, on SQLite and PostgreSQL; what they sent is in the views.

The client's source is not in this repository (it is DataCue's, and no registry this project installs
from carries it): the test clones it from the git bundle beside the project, `../shared/vendor/
datacue-php.bundle` (or `DATACUE_PHP_BUNDLE`), and extracts each release. PHP with curl comes from
Debian.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from collector import create_app
from collector.access import server_keys

from support.servers import Gunicorn
from support.servers import prepare_store

pytestmark = [pytest.mark.processes, pytest.mark.slow]

#: The releases run, by name: the 2019-07 one (composer version 1.0.4: PUT to cancel orders, PUT
#: /v1/batch/<type>, the overview), and each tag, checked to be the commit named (1.0.11 adds categories,
#: PATCH to cancel, batches as bare arrays, delete-all per type, client/sync; 1.0.12 Event::batchTrack;
#: 1.0.13 orders' batchDelete).
RELEASES = {"2019-07": "02c076aadad0ed8b9c0a300c1bedcce6ab0dd736",
            "1.0.11": "238f1c52f41f05dceffdaa59daa4e0f3671a8664",
            "1.0.12": "9ff0bb1877bb8f964f59a8e11d8ac6873101dee9",
            "1.0.13": "4035ded36c9ed876df4f49ada1b85178da5ae8f3"}
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
#: The 2019-07 release's example scripts, in an order in which each finds what it names.
FIRST = [
    "events/track.php",
    "products/create.php", "products/update.php", "products/deleteVariant.php", "products/deleteProduct.php",
    "products/batchCreate.php", "products/batchUpdate.php", "products/batchDelete.php",
    "users/create.php", "users/batchCreate.php", "users/batchUpdate.php", "users/delete.php",
    "users/batchDelete.php", "users/update.php",
    "orders/create.php", "orders/batchCreate.php", "orders/cancel.php", "orders/batchCancel.php", "orders/delete.php",
    "overview/products.php", "overview/users.php", "overview/orders.php",
    "exceptions/exceedBodySizeLimitation.php", "exceptions/exceedListDataSizeLimitation.php",
    "client/clear.php",
]
#: The scripts the tagged releases add, in such an order too.
LATER = [
    "categories/create.php", "categories/update.php", "categories/batchCreate.php", "categories/batchUpdate.php",
    "categories/delete.php", "categories/batchDelete.php", "overview/categories.php", "categories/deleteAll.php",
    "products/deleteAll.php", "users/deleteAll.php", "orders/deleteAll.php", "client/sync.php",
]
#: `Event::batchTrack` (1.0.12 on) has no example script: this one calls it through the client, as a shop's
#: code would, with two events of the docs' examples.
BATCH_TRACK = """<?php
require_once __DIR__ . '/config.php';
require_once dirname(__DIR__) . '/vendor/autoload.php';
$datacue = new \\DataCue\\Client($apiKey, $apiSecret, $options, $env);
$user = ["user_id" => "019mr8mf4r"];
$res = $datacue->events->batchTrack([
    ["user" => $user, "event" => ["type" => "click", "subtype" => "banner", "banner_id" => "b1"]],
    ["user" => $user, "event" => ["type" => "login"]],
]);
print_r($res);
"""
#: Run last, to leave the state checked: the catalogue and a user sent again after `clear`.
FINAL = ["products/batchCreate.php", "users/create.php"]


def _client(source: Path, commit: str, folder: Path, url: str, key: str, secret: str) -> Path:
    """The client at `commit` in `folder`, its base URLs pointed at `url`, with an autoloader and a config."""
    folder.mkdir()
    archive = subprocess.run(["git", "-C", str(source), "archive", commit], check=True, capture_output=True).stdout
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


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A clone of the client's bundle (no work tree: the test extracts each release), or a loud skip."""
    if not BUNDLE.is_file():
        pytest.skip(f"SKIPPED LOUDLY: DataCue's PHP client was looked for at {BUNDLE} (set DATACUE_PHP_BUNDLE)")
    clone = tmp_path_factory.mktemp("php") / "datacue-php.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(BUNDLE), str(clone)], check=True, capture_output=True)
    return clone


def test_each_tag_is_the_release_named(source):
    for name, commit in RELEASES.items():
        if name != "2019-07":
            found = subprocess.run(["git", "-C", str(source), "rev-parse", f"refs/tags/{name}^{{commit}}"],
                                   check=True, capture_output=True, text=True).stdout.strip()
            assert found == commit, name


@pytest.mark.parametrize("release", list(RELEASES))
def test_the_official_php_client_examples(tmp_path, php, source, database_url, db, release, record_property):
    commit = RELEASES[release]
    key = prepare_store(database_url, "php-shop")
    storage = create_app({"DATABASE_URL": database_url}).extensions["collector.storage"]
    secret = server_keys.create_server_key(storage, key)
    storage.close()
    listed = subprocess.run(["git", "-C", str(source), "ls-tree", "-r", "--name-only", commit, "examples/"],
                            check=True, capture_output=True, text=True).stdout.split()
    later = release != "2019-07"
    scripts = FIRST + (LATER if later else [])
    # Every example script of the release runs: every call the client makes.
    assert set(scripts) == {name.removeprefix("examples/") for name in listed} - {"config.php"}
    with Gunicorn(database_url, workers=1) as server:
        client = _client(source, commit, tmp_path / "datacue-php", server.url, key, secret)
        # users/update.php updates a user "p1" that no other example creates: the shop has it already.
        seed = subprocess.run(["curl", "-sf", "-u", f"{key}:{secret}", "-H", "Content-Type: application/json",
                               "-d", json.dumps({"user_id": "p1", "email": "p1@abc.com"}),
                               f"{server.url}/v1/users"], capture_output=True, text=True)
        assert seed.returncode == 0, seed.stderr
        outputs = {}
        tracks_batches = release not in ("2019-07", "1.0.11")
        if tracks_batches:
            (client / "examples" / "batchTrack.php").write_text(BATCH_TRACK)
        extra = (["categories/batchCreate.php"] if later else []) + (["batchTrack.php"] if tracks_batches else [])
        for script in scripts + FINAL + extra:
            done = subprocess.run([php, str(client / "examples" / script)], capture_output=True, text=True,
                                  timeout=60, cwd=client)
            assert done.returncode == 0 and "Fatal" not in done.stdout + done.stderr, \
                f"{release} {script} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            outputs[script] = done.stdout
    record_property("php_scripts", len(scripts))  # every example script of the release, each run
    record_property("php_runs", 1)
    assert "throw ExceedListDataSizeLimitationException" in outputs["exceptions/exceedListDataSizeLimitation.php"]
    assert "throw ExceedBodySizeLimitationException" in outputs["exceptions/exceedBodySizeLimitation.php"]
    # print_r of the client's Response: its private httpCode and the decoded body.
    assert "httpCode:DataCue\\Core\\Response:private] => 200" in outputs["overview/products.php"]
    assert "[products] => Array" in outputs["overview/products.php"]
    # The event, with the key alone, at the events host's root; batchTrack's two as one batch there.
    assert [tuple(r.values()) for r in db("SELECT type, subtype, user_id FROM events ORDER BY id")] == [
        ("pageview", "home", "019mr8mf4r"),
        *([("click", "banner", "019mr8mf4r"), ("login", None, "019mr8mf4r")] if tracks_batches else [])]
    if tracks_batches:
        assert "httpCode:DataCue\\Core\\Response:private] => 200" in outputs["batchTrack.php"]
        assert "[stored] => 2" in outputs["batchTrack.php"]
    # Products: the last batch create after clear; every version before is in history.
    assert [tuple(r.values()) for r in db("SELECT product_id, variant_id, name, color, full_price FROM "
                                           "datacue_products ORDER BY product_id")] == [
        ("p1", "v1", "cool jeans", "blue", 30000.0), ("p2", "v2", "hot jeans", "black", 30000.0)]
    history = [tuple(r.values()) for r in db("SELECT record_id, is_deleted FROM record_versions "
                                             "WHERE type = 'products' ORDER BY id")]
    assert ("p1/v1", 1) in history and ("p2/v2", 1) in history and len(history) >= 6
    # Users: cleared, then the create example again; the update of p1 kept its email and set the location.
    assert [tuple(r.values()) for r in db("SELECT user_id, email, first_name, location FROM datacue_users")] == [
        ("u1", "xyz@abc.com", "John", "santiago")]
    [p1] = db("SELECT payload FROM record_versions WHERE record_id = 'p1' AND type = 'users' AND is_deleted = 0 "
              "ORDER BY id DESC LIMIT 1")
    assert json.loads(p1["payload"])["profile"] == {"location": "singapore"}
    assert json.loads(p1["payload"])["email"] == "p1@abc.com"
    orders = [tuple(r.values()) for r in db("SELECT order_id, status, sources FROM orders ORDER BY order_id")]
    if not later:
        # Orders: created, then cancelled three ways; clear leaves orders alone.
        assert orders == [("o1", "cancelled", "backend"), ("o2", "cancelled", "backend")]
        return
    # The later releases: orders cancelled (PATCH), then every order deleted (history keeps them).
    assert orders == []
    cancelled = db("SELECT DISTINCT record_id FROM record_versions WHERE type = 'orders' "
                   "AND CAST(payload AS TEXT) LIKE ? ORDER BY record_id", ("%cancelled%",))
    assert [row["record_id"] for row in cancelled] == ["o1", "o2"]
    # Categories: made, changed, deleted one by one, in a batch and all at once; then the batch again.
    assert [tuple(r.values()) for r in db("SELECT category_id, name, link FROM datacue_product_categories "
                                           "ORDER BY category_id")] == [
        ("c1", "category 1", "http://example.com/c1"), ("c2", "category 2", "http://example.com/c2")]
    assert "[categories] => Array" in outputs["overview/categories.php"]
    # client/sync: what the store holds of each type when it ran (everything deleted just before it).
    synced = json.loads(outputs["client/sync.php"].split("--- get sync requirement response ---\n", 1)[1]
                        .split("--- get sync requirement end ---", 1)[0])
    assert synced["products"] == {"records": 0, "sync": True} and set(synced) >= {"users", "orders", "categories"}



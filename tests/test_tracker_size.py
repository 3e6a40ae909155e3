"""What GET /t.js serves: its size budget, its encodings and caching headers, and no eval."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import subprocess

import brotli
import pytest

from collector.web import tracker
from collector.web.tracker import MINIFIED
from collector.web.tracker import RECORD
from collector.web.tracker import SOURCE

from support.servers import ROOT

pytestmark = pytest.mark.sqlite_only  # the tracker does not depend on the store

#: The budget for the gzipped tracker, in bytes, with every feature it has.
BUDGET = 2600


@pytest.fixture
def served(client):
    """The tracker as a browser that takes gzip but not brotli receives it."""
    return client.get("/t.js", headers={"Accept-Encoding": "gzip, deflate"})


def test_size_within_budget(client, served):
    assert served.headers["Content-Encoding"] == "gzip"
    minified = gzip.decompress(served.data)
    brotli_size = len(client.get("/t.js", headers={"Accept-Encoding": "br"}).data)
    print(f"\ntracker: source {len(SOURCE.read_bytes())} B, minified {len(minified)} B, gzip {len(served.data)} B, "
          f"brotli {brotli_size} B (budget {BUDGET} B gzip)")
    assert len(served.data) <= BUDGET


@pytest.mark.parametrize(("accept", "encoding"), [
    ("gzip, deflate, br", "br"), ("br;q=0.5, gzip", "br"), ("gzip, br;q=0", "gzip"), ("br;q=0, gzip;q=0", None),
    ("", None), ("identity", None), ("deflate", None),
])
def test_each_encoding_is_its_own_representation(client, accept, encoding):
    response = client.get("/t.js", headers={"Accept-Encoding": accept} if accept else {})
    assert response.headers.get("Content-Encoding") == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    body = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[encoding](response.data)
    assert body == client.get("/t.js").data == MINIFIED.read_bytes()
    etags = {client.get("/t.js", headers={"Accept-Encoding": e}).headers["ETag"] for e in ("br", "gzip", "")}
    assert len(etags) == 3 and response.headers["ETag"] in etags


def test_caching_headers(client, served):
    assert served.headers["Content-Type"].startswith("application/javascript")
    assert "max-age" in served.headers["Cache-Control"]
    again = client.get("/t.js", headers={"Accept-Encoding": "gzip", "If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    # The gzip ETag does not revalidate the brotli representation: the browser gets the body.
    other = client.get("/t.js", headers={"Accept-Encoding": "br", "If-None-Match": served.headers["ETag"]})
    assert other.status_code == 200 and other.headers["Content-Encoding"] == "br"
    br_again = client.get("/t.js", headers={"Accept-Encoding": "br", "If-None-Match": other.headers["ETag"]})
    assert br_again.status_code == 304


def test_the_minified_build_is_of_the_current_source(client):
    record = json.loads(RECORD.read_text())
    assert record["source_sha256"] == hashlib.sha256(SOURCE.read_bytes()).hexdigest(), \
        "tracker.js changed since tracker.min.js was built: run ./dev build-tracker"
    assert client.get("/t.js").data == MINIFIED.read_bytes()


def test_the_minified_build_is_reproducible():
    if not shutil.which("node"):
        pytest.skip("SKIPPED LOUDLY: node is not installed")
    if not (ROOT / "tools" / "tracker" / "node_modules" / "terser").is_dir():
        pytest.skip("SKIPPED LOUDLY: terser is not installed (npm ci --prefix tools/tracker)")
    result = subprocess.run(["node", str(ROOT / "tools" / "tracker" / "build.mjs"), "--check"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_an_edited_source_is_served_as_it_is_until_rebuilt(client, tmp_path, monkeypatch, caplog):
    edited = tmp_path / "tracker.js"
    edited.write_text(SOURCE.read_text().replace("storefront: ", "storefront (edited): "))
    monkeypatch.setattr(tracker, "SOURCE", edited)
    monkeypatch.setattr(tracker, "_built", None)
    assert client.get("/t.js").data == edited.read_bytes()
    assert "not built from tracker.js" in caplog.text


def test_no_eval_or_function_constructor():
    source = SOURCE.read_text()
    assert not re.search(r"\beval\s*\(|new\s+Function\b|setTimeout\(\s*['\"]", source)

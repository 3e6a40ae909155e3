"""What GET /t.js serves: its size budget, caching headers, and no eval."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from collector.tracker import SOURCE

pytestmark = pytest.mark.sqlite_only  # the tracker does not depend on the store

#: The budget issue 3 sets for the gzipped tracker, in bytes; not met yet (see test_issue_budget).
BUDGET = 2000
#: What the tracker may not grow past meanwhile: today's size plus a little room.
CEILING = 2600


@pytest.fixture
def served(client):
    """The tracker as a browser accepting gzip receives it."""
    return client.get("/t.js", headers={"Accept-Encoding": "gzip, deflate, br"})


def test_size_does_not_grow(served):
    assert served.headers["Content-Encoding"] == "gzip"
    minified = gzip.decompress(served.data)
    source = SOURCE.read_bytes()
    print(f"\ntracker: source {len(source)} B, minified {len(minified)} B, gzip {len(served.data)} B, "
          f"brotli {len(brotli.compress(minified, quality=11))} B (budget {BUDGET} B gzip, ceiling {CEILING} B)")
    assert len(served.data) <= CEILING


@pytest.mark.xfail(strict=True, reason="issue 3's 2,000-byte budget is not met yet; strict, so meeting it "
                                       "fails this test until the xfail is removed")
def test_issue_budget(served):
    assert len(served.data) <= BUDGET


def test_caching_headers(client, served):
    assert served.headers["Content-Type"].startswith("application/javascript")
    assert "max-age" in served.headers["Cache-Control"]
    assert "Accept-Encoding" in served.headers["Vary"]
    again = client.get("/t.js", headers={"Accept-Encoding": "gzip", "If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    plain = client.get("/t.js")
    assert "Content-Encoding" not in plain.headers and plain.headers["ETag"] != served.headers["ETag"]
    assert plain.data == gzip.decompress(served.data)


def test_no_eval_or_function_constructor():
    source = SOURCE.read_text()
    assert not re.search(r"\beval\s*\(|new\s+Function\b|setTimeout\(\s*['\"]", source)

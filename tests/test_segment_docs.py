"""docs/segment.md tried as a new user would: each Python block, as written but for the collector's address
and the write key, run on its own against the collector under gunicorn, its messages stored."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys

import pytest

from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import prepare_store

pytestmark = pytest.mark.processes

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs/segment.md").read_text(), flags=re.S)


def test_the_guide_has_a_block_per_python_sdk():
    assert [re.search(r"^import (\S+)", block, flags=re.M).group(1) for block in BLOCKS] == [
        "segment.analytics", "rudderstack.analytics"]


@pytest.mark.parametrize("block", BLOCKS, ids=["segment", "rudderstack"])
def test_a_python_block_of_the_guide_sends_its_messages(tmp_path, block):
    pytest.importorskip(re.search(r"^import (\S+)", block, flags=re.M).group(1),
                        reason="SKIPPED LOUDLY: the SDK is not installed (pip install -e '.[test]')")
    path = str(tmp_path / "guide.sqlite3")
    key = prepare_store(path, "guide")
    with Gunicorn(path, workers=1) as server:
        script = block.replace("https://collector.example.com", server.url).replace("WRITE_KEY", key)
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert "error" not in run.stderr.lower(), run.stderr
    conn = sqlite3.connect(path)
    try:
        stored = conn.execute("SELECT type, event_name FROM events WHERE source = 'segment' ORDER BY id").fetchall()
    finally:
        conn.close()
    calls = re.findall(r"^\w+\.(identify|track)\(", block, flags=re.M)
    assert len(stored) == len(calls) >= 1
    names = re.findall(r'\.track\("[^"]*", "([^"]+)"', block)
    assert [name for _, name in stored if name] == names

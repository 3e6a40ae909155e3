"""The tracker's unit tests (node's built-in runner, no npm packages) run as part of the suite."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).resolve().parent / "js"


def test_tracker_unit_tests_pass():
    node = shutil.which("node")
    if node is None:
        pytest.skip("SKIPPED LOUDLY: node is not installed, so the tracker's unit tests cannot run")
    result = subprocess.run([node, "--test", str(JS_TESTS)], capture_output=True, text=True, timeout=300)
    summary = [line for line in result.stdout.splitlines() if line.startswith(("# pass", "# fail"))]
    print("\n".join(summary))
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert summary and not summary[0].endswith(" 0"), "no tracker unit test ran"

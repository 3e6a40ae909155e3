"""The wheel works on its own: built, installed without -e into a fresh virtual environment, run elsewhere."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
import requests

from support.servers import ROOT
from support.servers import free_port

pytestmark = [pytest.mark.processes, pytest.mark.sqlite_only]


def _run(args: list[str], cwd, env: dict, timeout: float = 600) -> str:
    """Run a command; fail the test with its output when it fails."""
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


def test_installed_wheel_serves_tracker_demo_dashboard_and_openapi(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_") and k != "PYTHONPATH"}
    source, wheels, venv, elsewhere = (tmp_path / name for name in ("source", "wheels", "venv", "elsewhere"))
    elsewhere.mkdir()
    # Built from a copy of the sources: setuptools reuses a build/ folder, which may hold files deleted since.
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__",
                                                                "*.sqlite3*", "test-artifacts"))
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(source)],
         cwd=tmp_path, env=env)
    [wheel] = wheels.glob("storefront_collector-*.whl")
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path, env=env)
    _run([str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(wheel)],
         cwd=tmp_path, env=env)
    # The package imported is the installed one, not the checkout.
    location = _run([str(venv / "bin" / "python"), "-c", "import collector; print(collector.__file__)"],
                    cwd=elsewhere, env=env)
    assert str(venv) in location and str(ROOT) not in location

    env["COLLECTOR_DATABASE_URL"] = f"sqlite:///{elsewhere / 'shop.sqlite3'}"
    _run([str(venv / "bin" / "collector"), "migrate"], cwd=elsewhere, env=env)
    key = _run([str(venv / "bin" / "collector"), "keys", "create", "--name", "demo"], cwd=elsewhere, env=env).strip()
    port = free_port()
    log = tmp_path / "gunicorn.log"
    with open(log, "wb") as stderr:  # the child keeps its own copy of the descriptor
        server = subprocess.Popen([str(venv / "bin" / "gunicorn"), "-c", "python:collector.gunicorn_config",
                                   "--bind", f"127.0.0.1:{port}", "--workers", "1"], cwd=elsewhere,
                                  env={**env, "COLLECTOR_DEMO_KEY": key}, stdout=subprocess.DEVNULL, stderr=stderr,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(base + "/healthz", timeout=1)
                break
            except requests.ConnectionError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        tracker = requests.get(base + "/t.js", timeout=10)
        assert tracker.status_code == 200 and tracker.text.startswith("!function(") and "datacue" in tracker.text
        demo = requests.get(base + "/demo/", timeout=10)
        assert demo.status_code == 200 and f'data-key="{key}"' in demo.text
        for asset in ("shop.css", "spa.js", "order-config.js", "spa.html", "events.html"):
            assert requests.get(f"{base}/demo/{asset}", timeout=10).status_code == 200, asset
        signin = requests.get(base + "/dashboard", timeout=10)
        assert signin.status_code == 200 and 'name="token"' in signin.text
        assert requests.get(base + "/dashboard/style.css", timeout=10).status_code == 200
        spec = requests.get(base + "/openapi.json", timeout=10)
        assert spec.status_code == 200 and "/v1/events" in spec.json()["paths"]
    finally:
        server.terminate()
        server.wait(timeout=30)

"""Real gunicorn processes for end-to-end tests."""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent.parent


def database_url(store: str) -> str:
    """A DATABASE_URL for a SQLite path, or the URL itself."""
    return store if "://" in store else f"sqlite:///{store}"


def prepare_store(store: str, key_name: str) -> str:
    """Create and migrate a store (a SQLite path or a database URL) with one live key; return the key."""
    from collector import create_app
    from collector.access import keys

    storage = create_app({"DATABASE_URL": database_url(store)}).extensions["collector.storage"]
    try:
        storage.migrate()
        return keys.create_key(storage, key_name, [])
    finally:
        storage.close()


def collector_import(store: str, key: str, path, kind: str) -> None:
    """`collector import PATH --kind KIND --key KEY` against a store, in this process (a second saved)."""
    from click.testing import CliRunner

    from collector.cli import main

    result = CliRunner().invoke(main, ["import", str(path), "--kind", kind, "--key", key],
                                env={"COLLECTOR_DATABASE_URL": database_url(store)})
    assert result.exit_code == 0, result.output


def load_demo_catalogue(store: str, key: str) -> None:
    """Import the demo shop's products and banners for a key, as `./dev run` does."""
    for kind in ("products", "banners"):
        collector_import(store, key, ROOT / "collector" / "data" / "demo" / f"{kind}.ndjson", kind)


def collector_cli(path: str, *args: str) -> str:
    """Run the collector's CLI against a SQLite store, as an operator would; its stdout (exit 0 asserted)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env["COLLECTOR_DATABASE_URL"] = f"sqlite:///{path}"
    result = subprocess.run([sys.executable, "-m", "collector.cli", *args], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def stored_event_ids(path: str) -> set[str]:
    """The event ids a SQLite store holds, read after the server is gone."""
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT event_id FROM events")}
    finally:
        conn.close()


def free_port() -> int:
    """Return a TCP port on loopback that nothing uses right now, below the ephemeral range.

    A port from the ephemeral range can be taken, while its server is down, by a client's own outgoing
    connection to it (TCP self-connect), and then the server cannot listen there again.
    """
    for _ in range(100):
        port = random.randint(20000, 32000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 20000 and 32000")


class Gunicorn:
    """The collector under gunicorn with gunicorn.conf.py, on a free loopback port."""

    def __init__(self, store: str, workers: int = 2, user: str | None = None, log_path: str | None = None,
                 app: str | None = None, cpus: str | None = None, port: int | None = None, **settings):
        """Remember how to start (store: a SQLite path or a database URL); settings become COLLECTOR_*.

        `app` runs another WSGI app under the same settings; `cpus` pins the processes (taskset -c);
        `port` reuses a port (a restart after a crash), else a free one is picked.
        """
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = ["taskset", "-c", cpus] if cpus else []
        self.args += [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                      "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)] + ([app] if app else [])
        if user:
            self.args += ["--user", user, "--group", user if user != "nobody" else "nogroup"]
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
        # Rate limits off unless asked for: the load these tests and benchmarks make is the point.
        settings = {"RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_KEY": "", **settings}
        self.env.update({f"COLLECTOR_{k}": str(v) for k, v in settings.items()})
        self.env["COLLECTOR_DATABASE_URL"] = database_url(store)
        self.env["PYTHONPATH"] = str(ROOT)
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        """Start and wait until /healthz answers."""
        if self.log_path:
            with open(self.log_path, "ab") as log:  # the child keeps its own copy of the descriptor
                self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=log, stderr=log,
                                                start_new_session=True)
        else:
            # Its own process group, so a test can SIGKILL master and workers at once (os.killpg).
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, start_new_session=True,
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except (requests.ConnectionError, requests.Timeout):
                # Not listening yet, or a worker still booting on a busy machine (CI runs a process per core).
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz within 30 s")

    def __exit__(self, *exc) -> None:
        """Stop on leaving the block."""
        self.stop()

    def stop(self) -> None:
        """Ask gunicorn to finish its requests and exit; kill it if it does not."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_worker(url: str, *args: str, **settings) -> subprocess.Popen:
    """`collector worker` as an operator starts it, in its own process group, logging to a pipe."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env.update({f"COLLECTOR_{k}": str(v) for k, v in settings.items()})
    env["COLLECTOR_DATABASE_URL"] = url
    return subprocess.Popen([sys.executable, "-m", "collector.cli", "worker", *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def stop_worker(worker: subprocess.Popen) -> None:
    """SIGTERM a worker; it must exit 0 (having given its work back), and say nothing untoward."""
    worker.send_signal(signal.SIGTERM)
    _, errors = worker.communicate(timeout=30)
    assert worker.returncode == 0, errors.decode()

"""Import jobs with real processes: docs/imports.md's curl commands against gunicorn and `collector worker`,
the CLI's import, a worker SIGKILLed three times mid-import, and two workers over one PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from collector import create_app
from collector.access import keys
from collector.access import server_keys
from collector.imports import jobs

from support.imports import SAMPLES
from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import database_url
from support.servers import start_worker
from support.servers import stop_worker

pytestmark = pytest.mark.processes
DOC = ROOT / "docs" / "imports.md"


def _commands(block: str) -> list[str]:
    """The commands of a ```sh block of the docs: continuation lines joined."""
    text = DOC.read_text().split(f"```sh {block}\n", 1)[1].split("```", 1)[0]
    return [command.strip() for command in text.replace("\\\n", " ").splitlines() if command.strip()]


def _store(url: str) -> tuple[object, str, str]:
    """A migrated store with one live key and its secret: (storage, key, secret)."""
    storage = create_app({"DATABASE_URL": url}).extensions["collector.storage"]
    storage.migrate()
    key = keys.create_key(storage, "shop", [])
    return storage, key, server_keys.create_server_key(storage, key)


def _wait(storage, job_id: int, until, seconds: float = 120) -> dict:
    """Poll a job until `until(job)` holds; the job."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = storage.get_job(job_id)
        if until(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} never got there: {storage.get_job(job_id)}")


def test_the_docs_tour_works_as_written(tmp_path):
    if not shutil.which("curl"):
        pytest.skip("SKIPPED LOUDLY: curl is not installed (apt-get install curl)")
    path = str(tmp_path / "tour.sqlite3")
    storage, key, _ = _store(database_url(path))
    worker = start_worker(database_url(path))
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")},
           "COLLECTOR_DATABASE_URL": database_url(path)}
    try:
        with Gunicorn(path) as server:
            def run(command: str) -> str:
                """One command of the docs in bash, with the test's key, server and the repository's venv."""
                command = command.replace("live_YOURKEY", key).replace("http://127.0.0.1:8000", server.url)
                command = command.replace(".venv/bin/collector", f"{sys.executable} -m collector.cli")
                done = subprocess.run(["bash", "-c", f"set -e; SECRET=$(cat secret 2>/dev/null || true); {command}"],
                                      cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
                assert done.returncode == 0, done.stderr
                return done.stdout

            (tmp_path / "docs").symlink_to(ROOT / "docs")
            make_secret, post, poll, fetch_errors = _commands("tour")
            run(make_secret.replace("SECRET=$(", "").removesuffix(")") + " > secret")
            answer = json.loads(run(post))
            assert (answer["id"], answer["status"], answer["kind"]) == (1, "STARTED", "events")
            deadline = time.monotonic() + 60
            while (job := json.loads(run(poll)))["status"] in ("STARTED", "PROCESSING"):
                assert time.monotonic() < deadline, job
                time.sleep(0.2)
            assert job["status"] == "COMPLETED_WITH_ERRORS"
            assert job["counts"] == {"rows": 5, "processed": 5, "stored": 3, "duplicates": 0, "refused": 2}
            run(fetch_errors)
            written = (tmp_path / "errors.csv").read_text()
            documented = DOC.read_text().split("```csv\n", 1)[1].split("```", 1)[0]
            assert written.replace("\r\n", "\n") == documented
            # Capillary's routes, as the docs show them, on the same server and worker.
            upload, status = _commands("capillary")
            assert json.loads(run(upload))["result"]["uploadJobStatuses"][0]["uploadStatus"] == "STARTED"
            deadline = time.monotonic() + 60
            while (body := json.loads(run(status)))["result"]["uploadJobStatuses"][0]["uploadStatus"] != "COMPLETED":
                assert time.monotonic() < deadline, body
                time.sleep(0.2)
            assert body["result"]["uploadJobStatuses"][0]["totalUploadedCount"] == 2
    finally:
        stop_worker(worker)
        storage.close()


def test_the_cli_imports_a_file_and_shows_its_jobs(cli, database_url, tmp_path):
    key = cli("keys", "create", "--name", "shop").stdout.strip()
    done = cli("import", str(SAMPLES / "events-with-mistakes.csv"), "--kind", "events", "--key", "shop")
    counts = dict(re.findall(r"^(\w+) +(\S+)$", done.stdout, re.M))
    assert (counts["status"], counts["rows"], counts["stored"], counts["refused"]) == (
        "COMPLETED_WITH_ERRORS", "5", "3", "2")
    assert "collector jobs errors 1 > errors.csv" in done.stderr
    errors = list(csv.DictReader(io.StringIO(cli("jobs", "errors", "1").stdout)))
    assert [e["row_number"] for e in errors] == ["2", "4"]
    listed = [json.loads(line) for line in cli("jobs", "list", "--json").stdout.splitlines()]
    assert [(j["id"], j["kind"], j["counts"]["stored"]) for j in listed] == [(1, "events", 3)]
    assert json.loads(cli("jobs", "status", "1", "--json").stdout)["status"] == "COMPLETED_WITH_ERRORS"
    assert cli("jobs", "status", "9", check=False).returncode == 1
    # A file that cannot be read: exit status 1 and the reason.
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"shop_id,region\n1,CA\n")
    failed = cli("import", str(bad), "--kind", "shops", "--key", key, check=False)
    assert failed.returncode == 1 and "no 'name' column" in failed.stdout


def _events_file(path: Path, rows: int, orders: str = "o") -> None:
    """A CSV of `rows` distinct DataCue order events (order ids `orders`0, `orders`1, ...), as a shop's
    export would be."""
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["user.user_id", "event.type", "event.subtype", "event.order_id", "event.cart", "timestamp"])
        for n in range(rows):
            cart = json.dumps([{"product_id": f"p{n % 97}", "quantity": 1 + n % 3, "unit_price": 9.5,
                                "currency": "USD"}])
            writer.writerow([f"u{n % 5000}", "order", "completed", f"{orders}{n}", cart, 1_700_000_000 + n])


def _kill(worker: subprocess.Popen) -> None:
    """SIGKILL a worker: no chance to release its job or finish its chunk."""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.communicate(timeout=10)


@pytest.mark.slow
@pytest.mark.long
def test_a_worker_killed_three_times_mid_import_stores_every_row_once(tmp_path):
    rows = 200_000
    url = database_url(str(tmp_path / "crash.sqlite3"))
    storage, key, _ = _store(url)
    source = tmp_path / "orders.csv"
    _events_file(source, rows)
    with open(source, "rb") as upload:
        job = jobs.create(storage, storage.get_key(key), "events", upload, "orders.csv", source.stat().st_size)
    # Two processes prepare chunks beside each worker: SIGKILL of the process group takes them too.
    settings = {"IMPORT_LEASE_SECONDS": 2, "IMPORT_CHUNK": 1000, "IMPORT_PROCESSES": 2, "LOG_LEVEL": "WARNING"}
    seen = []
    for stop_after in (30_000, 90_000, 150_000):
        worker = start_worker(url, "--no-forward", **settings)
        found = _wait(storage, job["id"], lambda j, n=stop_after: j["position"] >= n, seconds=300)
        _kill(worker)
        seen.append(storage.get_job(job["id"])["position"])
        assert found["status"] == "PROCESSING"
    worker = start_worker(url, "--no-forward", **settings)
    try:
        done = _wait(storage, job["id"], lambda j: j["status"] not in ("STARTED", "PROCESSING"), seconds=600)
    finally:
        stop_worker(worker)
    assert seen == sorted(seen) and seen[0] < rows
    assert done["status"] == "COMPLETED" and done["attempts"] == 4
    assert (done["total_rows"], done["position"], done["stored"], done["duplicates"], done["refused"]) == (
        rows, rows, rows, 0, 0)
    (total, distinct, orders), = storage.query("SELECT count(*), count(DISTINCT event_id), count(DISTINCT order_id) "
                                              "FROM events")[1]
    assert (total, distinct, orders) == (rows, rows, rows)
    assert storage.query("SELECT count(*) FROM event_lines")[1][0][0] == rows
    assert not list((tmp_path / "crash.sqlite3-uploads").iterdir())  # the file went with the job's end
    storage.close()


def test_two_workers_over_one_postgresql_take_different_jobs(request, tmp_path):
    server = request.getfixturevalue("postgres_server")
    url = server.fresh_database()
    storage, key, _ = _store(url)
    key_row = storage.get_key(key)
    # Both workers wait for work first, so that each can take some of it.
    workers = [start_worker(url, "--no-forward", IMPORT_CHUNK=250, LOG_LEVEL="WARNING") for _ in range(2)]
    time.sleep(3)
    made = []
    try:
        for n in range(8):
            source = tmp_path / f"part-{n}.csv"
            _events_file(source, 2000, orders=f"o{n}-")
            with open(source, "rb") as upload:
                made.append(jobs.create(storage, key_row, "events", upload, source.name, source.stat().st_size)["id"])
        for job_id in made:
            _wait(storage, job_id, lambda j: j["status"] not in ("STARTED", "PROCESSING"), seconds=300)
    finally:
        for worker in workers:
            stop_worker(worker)
    done = [storage.get_job(job_id) for job_id in made]
    assert all(j["status"] == "COMPLETED" and j["attempts"] == 1 for j in done), done
    assert all((j["stored"], j["duplicates"]) == (2000, 0) for j in done)
    assert len({j["worker"] for j in done}) == 2  # both took jobs; attempts == 1: none was taken twice
    assert storage.query("SELECT count(*), count(DISTINCT order_id) FROM events")[1] == [(16_000, 16_000)]
    assert storage.query("SELECT count(*) FROM import_files")[1] == [(0,)]
    storage.close()

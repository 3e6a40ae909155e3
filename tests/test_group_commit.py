"""Group commit: concurrent writes share a transaction, each gets its own answer, and an acknowledged
event survives the worker being killed right after the response."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import pytest
import requests

from collector.errors import StorageError
from collector.storage.group import GroupCommit

from support.factories import bearer
from support.factories import make_event
from support.factories import new_id
from support.factories import stored_status
from support.servers import Gunicorn
from support.servers import prepare_store
from support.servers import stored_event_ids

#: What a stored home page view is answered: 200, with its lists.
STORED = stored_status(make_event())


def _slow_commit(groups: list[int], fail_on=None):
    """A commit function that takes a while (so groups form) and records each group's size."""
    def commit(works):
        groups.append(len(works))
        time.sleep(0.005)
        if fail_on is not None and fail_on in works:
            raise ValueError("bad write")
        return [work * 10 for work in works]
    return commit


def _submit_all(group: GroupCommit, works) -> dict:
    """Submit each work from its own thread at once; return work -> result or the exception."""
    results = {}
    barrier = threading.Barrier(len(works))

    def one(work):
        barrier.wait()
        try:
            results[work] = group.submit(work)
        except Exception as exc:  # noqa: BLE001 (the test inspects it)
            results[work] = exc

    threads = [threading.Thread(target=one, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_each_writer_gets_its_own_result_and_groups_form():
    groups: list[int] = []
    results = _submit_all(GroupCommit(_slow_commit(groups)), list(range(40)))
    assert results == {work: work * 10 for work in range(40)}
    assert sum(groups) == 40 and max(groups) > 1  # fewer transactions than writes


def test_one_bad_write_fails_alone():
    groups: list[int] = []
    results = _submit_all(GroupCommit(_slow_commit(groups, fail_on=7)), list(range(20)))
    assert isinstance(results.pop(7), ValueError)
    assert results == {work: work * 10 for work in range(20) if work != 7}


def test_an_unavailable_store_fails_the_whole_group():
    def commit(works):
        time.sleep(0.005)
        raise StorageError("database is locked")
    results = _submit_all(GroupCommit(commit), list(range(10)))
    assert all(isinstance(r, StorageError) for r in results.values())


def test_max_group_bounds_a_transaction():
    groups: list[int] = []
    _submit_all(GroupCommit(_slow_commit(groups), max_group=4), list(range(30)))
    assert max(groups) <= 4 and sum(groups) == 30


@pytest.mark.processes
@pytest.mark.sqlite_only
def test_acknowledged_events_survive_kill_right_after_the_response(tmp_path):
    """Many clients at once, so commits are shared; SIGKILL the worker and its master the moment enough
    answers are in: every acknowledged event is in the file, and some went out in shared commits."""
    path = str(tmp_path / "g.sqlite3")
    key = prepare_store(path, "group")
    log_path = str(tmp_path / "gunicorn.log")
    acknowledged: list[str] = []
    stop = threading.Event()
    with Gunicorn(path, workers=1, log_path=log_path, LOG_LEVEL="DEBUG") as server:
        worker = int(subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True,
                                    text=True).stdout.split()[0])

        def client():
            session = requests.Session()
            while not stop.is_set():
                event = make_event(env_event_id=new_id())
                try:
                    status = session.post(server.url + "/v1/events", json=event, headers=bearer(key),
                                          timeout=10).status_code
                except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                    # Killed before or while answering: a page view's answer has a body (its lists), and a
                    # kill between its status line and its end leaves the client an unfinished body.
                    return
                if status == STORED:
                    acknowledged.append(event["event_id"])
            session.close()

        threads = [threading.Thread(target=client) for _ in range(16)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 500 and time.monotonic() < deadline:
            time.sleep(0.001)
        os.kill(worker, signal.SIGKILL)
        server.process.send_signal(signal.SIGKILL)
        killed_after = len(acknowledged)
        stop.set()
        for thread in threads:
            thread.join()
        server.process.wait()
    stored = stored_event_ids(path)
    with open(log_path) as log:
        sizes = [int(n) for n in re.findall(r"group commit: (\d+) writes", log.read())]
    missing = set(acknowledged) - stored
    print(f"\nkilled after {killed_after} acknowledgements: {len(acknowledged)} acknowledged, {len(stored)} stored, "
          f"{len(missing)} missing; {len(sizes)} commits, largest group {max(sizes, default=0)}")
    assert killed_after >= 500
    assert not missing
    assert max(sizes, default=0) > 1, "no commit was shared, so this did not test group commit"

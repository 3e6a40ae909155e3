"""SQLite's write-ahead log is checkpointed by a thread of its own, never inside a request's commit."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time

from collector import create_app
from collector.access import keys
from collector.storage.checkpoints import BACKSTOP_PAGES
from collector.storage.checkpoints import JOURNAL_SIZE_LIMIT
from collector.storage.checkpoints import Checkpointer

from support.factories import make_event
from support.factories import new_id
from support.factories import post_event


def _until(condition, seconds: float = 10.0) -> bool:
    """Whether `condition()` came true within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _file_alone(path, copy, sql: str):
    """A query's one value in a copy of the database file without its log, or None while a checkpoint is
    writing the file (a copy taken then can be torn)."""
    shutil.copy(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


def test_a_commit_reaches_the_database_file_through_the_thread(tmp_path):
    """One small commit is far below any automatic checkpoint, yet the database file alone (its log left
    behind) holds the event shortly after: the thread copied it; request connections only keep a backstop."""
    path = tmp_path / "collector.sqlite3"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{path}", "LOG_LEVEL": "WARNING"})
    storage = app.extensions["collector.storage"]
    storage.migrate()
    try:
        key = keys.create_key(storage, "shop", [])
        event = make_event(env_event_id=new_id())
        post_event(app.test_client(), key, event)

        assert _until(lambda: _file_alone(path, tmp_path / "file-alone.sqlite3", "SELECT max(event_id) FROM events")
                      == event["event_id"])
        with storage._connection() as conn:
            assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == BACKSTOP_PAGES
            assert conn.execute("PRAGMA journal_size_limit").fetchone()[0] == JOURNAL_SIZE_LIMIT
    finally:
        storage.close()
    assert storage.checkpointer._thread is None or not storage.checkpointer._thread.is_alive()


def test_the_thread_ends_when_idle_and_the_next_commit_starts_another(tmp_path):
    """No thread lingers in a process that stopped writing; writing again brings checkpoints back."""
    path = str(tmp_path / "log.sqlite3")
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("PRAGMA wal_autocheckpoint=0")
    setup.execute("CREATE TABLE t (n INTEGER)")
    checkpointer = Checkpointer(lambda: sqlite3.connect(path, isolation_level=None), pause=0.01, idle=0.2)
    try:
        setup.execute("INSERT INTO t VALUES (1)")
        checkpointer.committed()
        first = checkpointer._thread
        assert _until(lambda: checkpointer.done == 1)
        assert _until(lambda: not first.is_alive())
        setup.execute("INSERT INTO t VALUES (2)")
        checkpointer.committed()
        assert checkpointer._thread is not first
        assert _until(lambda: checkpointer.done == 2)
        assert _until(lambda: _file_alone(path, tmp_path / "copy.sqlite3", "SELECT count(*) FROM t") == 2)
    finally:
        checkpointer.stop()
        setup.close()


def test_a_failing_checkpoint_waits_for_the_next_commit(tmp_path):
    """A database that cannot be opened costs the thread nothing but a log line; it keeps serving."""
    opened = []

    def connect():
        """Fail the first time, then open the real file."""
        opened.append(1)
        if len(opened) == 1:
            raise sqlite3.OperationalError("unable to open database file")
        return sqlite3.connect(str(tmp_path / "later.sqlite3"), isolation_level=None)

    checkpointer = Checkpointer(connect, pause=0.01, idle=1.0)
    try:
        checkpointer.committed()
        assert _until(lambda: len(opened) == 1)
        assert checkpointer.done == 0
        checkpointer.committed()
        assert _until(lambda: checkpointer.done == 1)
    finally:
        checkpointer.stop()


def test_a_thread_that_cannot_start_costs_the_commit_nothing(tmp_path, monkeypatch):
    """The commit is already done when the thread is asked for: a process out of threads still answers it."""
    checkpointer = Checkpointer(lambda: sqlite3.connect(str(tmp_path / "x.sqlite3")), pause=0.01, idle=0.2)

    def refuse(self):
        """Fail as a process at its thread limit does."""
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    checkpointer.committed()  # no exception
    assert checkpointer._thread is None


def test_a_reader_s_older_snapshot_only_delays_the_checkpoint(tmp_path):
    """A checkpoint a reader held back (its snapshot older than the last commit) is tried again without
    waiting for another commit, and completes once the reader is done."""
    path = str(tmp_path / "held.sqlite3")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE t (n INTEGER)")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM t").fetchone()  # a snapshot before the insert below
    checkpointer = Checkpointer(lambda: sqlite3.connect(path, isolation_level=None), pause=0.01, idle=5.0)
    try:
        writer.execute("INSERT INTO t VALUES (1)")
        checkpointer.committed()
        assert _until(lambda: checkpointer.done >= 2)  # held back, then tried again with no commit since
        reader.execute("COMMIT")
        assert _until(lambda: _file_alone(path, tmp_path / "copy.sqlite3", "SELECT count(*) FROM t") == 1)
    finally:
        checkpointer.stop()
        reader.close()
        writer.close()

"""Import jobs in the store: created with their upload, read, listed, leased to one worker at a time,
advanced in the same transaction as each chunk's rows, finished; and the rows a job refused.

Where the upload itself is kept differs by backend (uploads.py); everything else is here, once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ..clock import now_iso
from ..errors import JobLeaseLost
from .base import SQLBase
from .columns import JOB_COLUMNS
from .columns import REJECTED_COLUMNS
from .columns import insert_sql
from .ingest import INSERT_REJECTED
from .records import loaded_payload

#: A job no worker has finished after this many takes is failed: something in it stops every worker.
MAX_ATTEMPTS = 5
#: The statuses of a job still to be worked on.
_PENDING_SQL = "('STARTED', 'PROCESSING')"
#: What a job row is read as (the options column decoded by _job).
_SELECT = ("SELECT id, key, mode, kind, format, file_name, file_ref, file_bytes, options, series_id, sent_by, status, "
           "reason, total_rows, position, stored, refused, duplicates, attempts, lease_owner, lease_until, worker, "
           "created_at, updated_at, started_at, finished_at FROM import_jobs")
_INSERT_JOB = insert_sql("import_jobs", JOB_COLUMNS) + " RETURNING id"


@dataclass
class Progress:
    """A chunk's advance of an import job, committed in the same transaction as the chunk's rows, so that
    a chunk is either stored and counted, or neither, and never twice."""

    job_id: int
    owner: str
    #: The job's position (rows done) before and after this chunk.
    start: int
    end: int
    lease_until: float
    #: The chunk's write outcomes -> how many rows were stored and how many were duplicates, and the rejected
    #: rows the outcomes add (an event id another API used). Every rejected row counts as a refused row.
    settle: Callable[[list], tuple[int, int, list[dict]]] | None = None


def _job(row: dict | None) -> dict | None:
    """A job row with its options decoded."""
    if row is not None:
        row["options"] = json.loads(row["options"] or "{}")
    return row


def _job_in(conn, job_id: int) -> dict:
    """A job row, read inside a transaction."""
    cursor = conn.execute(_SELECT + " WHERE id = ?", (job_id,))
    names = [d[0] for d in cursor.description]
    return _job(dict(zip(names, cursor.fetchone(), strict=True)))


class JobsMixin(SQLBase):
    """The import_jobs table; a backend's upload mixin keeps the files (`create_job`, `open_upload`)."""

    def _insert_job(self, conn, row: dict) -> int:
        """Insert a job row (inside the transaction that keeps its upload); its id."""
        values = {**row, "options": json.dumps(row.get("options") or {}, separators=(",", ":"))}
        return conn.execute(_INSERT_JOB, [values.get(c) for c in JOB_COLUMNS]).fetchone()[0]

    def _drop_upload(self, conn, job: dict) -> Callable[[], None] | None:
        """Remove a finished job's upload inside `conn`'s transaction, or return what removes it after the
        commit (a backend's upload mixin decides)."""
        raise NotImplementedError

    def get_job(self, job_id: int) -> dict | None:
        """One job, or None."""
        rows = self._read(_SELECT + " WHERE id = ?", (job_id,))
        return _job(rows[0]) if rows else None

    def list_jobs(self, key: str | None, limit: int, before: int | None = None,
                  series_id: str | None = None) -> list[dict]:
        """A site's jobs (every site's, without `key`), newest first: those older than `before`, of one
        coupon series if named."""
        where, params = ["1 = 1"], []
        if key is not None:
            where.append("key = ?")
            params.append(key)
        if before is not None:
            where.append("id < ?")
            params.append(before)
        if series_id is not None:
            where.append("series_id = ?")
            params.append(series_id)
        return [_job(row) for row in self._read(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ?",
                                                (*params, limit))]

    def claim_job(self, owner: str, lease: float, now: float, job_id: int | None = None) -> dict | None:
        """Lease the oldest job due (or job `job_id`) to `owner`, exclusively; None when there is none.

        A job is due when it has not ended and nobody holds a live lease on it (a worker that died lets
        its lease run out); `owner` may take again a job it holds. A job taken MAX_ATTEMPTS times without
        ending fails instead.
        """
        self.ensure_migrated()
        with self._transaction() as conn:
            found = conn.execute(
                f"SELECT id, attempts FROM import_jobs WHERE status IN {_PENDING_SQL} "
                "AND (lease_until IS NULL OR lease_until < ? OR lease_owner = ?) "
                + ("AND id = ? " if job_id is not None else "")
                + "ORDER BY id LIMIT 1" + self.dialect.skip_locked,
                (now, owner, *(() if job_id is None else (job_id,)))).fetchone()
            if found is None:
                return None
            at = now_iso()
            if found[1] >= MAX_ATTEMPTS:
                conn.execute("UPDATE import_jobs SET status = 'FAILED', reason = ?, lease_owner = NULL, "
                             "lease_until = NULL, updated_at = ?, finished_at = ? WHERE id = ?",
                             (f"Workers took this job {found[1]} times and none finished it; the rows committed "
                              "before are kept. Split the file, or look for what stops the worker in its log.",
                              at, at, found[0]))
                after = self._drop_upload(conn, _job_in(conn, found[0]))
            else:
                conn.execute("UPDATE import_jobs SET lease_owner = ?, lease_until = ?, worker = ?, "
                             "attempts = attempts + 1, status = 'PROCESSING', started_at = coalesce(started_at, ?), "
                             "updated_at = ? WHERE id = ?", (owner, now + lease, owner, at, at, found[0]))
                after = None
        if after is not None:
            after()
        return self.get_job(found[0])

    def renew_job(self, job_id: int, owner: str, lease_until: float, **changes) -> bool:
        """Extend `owner`'s lease on a job and set `changes` (format, total_rows); False when it lost it."""
        names = sorted(changes)
        assignments = "".join(f", {name} = ?" for name in names)
        return self._change(f"UPDATE import_jobs SET lease_until = ?, updated_at = ?{assignments} "
                            "WHERE id = ? AND lease_owner = ?",
                            (lease_until, now_iso(), *(changes[n] for n in names), job_id, owner)) == 1

    def finish_job(self, job_id: int, owner: str, status: str, reason: str | None = None) -> bool:
        """End `owner`'s job with a status (and why it failed) and drop its upload; False when another
        worker holds it now."""
        self.ensure_migrated()
        at = now_iso()
        with self._transaction() as conn:
            if conn.execute("UPDATE import_jobs SET status = ?, reason = ?, lease_owner = NULL, lease_until = NULL, "
                            "updated_at = ?, finished_at = ? WHERE id = ? AND lease_owner = ?",
                            (status, reason, at, at, job_id, owner)).rowcount != 1:
                return False
            after = self._drop_upload(conn, _job_in(conn, job_id))
        if after is not None:
            after()
        return True

    def release_job(self, job_id: int, owner: str) -> bool:
        """Give a job back (a worker stopping): another worker may take it at once."""
        return self._change("UPDATE import_jobs SET lease_owner = NULL, lease_until = NULL WHERE id = ? "
                            "AND lease_owner = ?", (job_id, owner)) == 1

    def job_errors(self, job_id: int, after: tuple[int, int], limit: int) -> list[dict]:
        """The rows a job refused, in the file's order, `limit` of them after (row_no, rejected id) `after`."""
        return self._read("SELECT id, row_no, reason, message, CAST(errors AS TEXT) AS errors, raw FROM rejected "
                          "WHERE job_id = ? AND (row_no > ? OR row_no = ? AND id > ?) ORDER BY row_no, id LIMIT ?",
                          (job_id, after[0], after[0], after[1], limit))

    def job_versions(self, job_id: int, after: int, limit: int) -> list[dict]:
        """The record versions a job stored (its success file), in the order stored, `limit` after id `after`."""
        return [{**row, "payload": loaded_payload(row["payload"])} for row in self._read(
            "SELECT id, record_id, payload FROM record_versions WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?",
            (job_id, after, limit))]

    def worker_seen(self, owner: str, takes_jobs: bool, started_at: str, now: float) -> None:
        """Note that a worker is alive now (and forget workers silent for a day)."""
        self.ensure_migrated()
        with self._transaction() as conn:
            conn.execute("INSERT INTO workers (owner, takes_jobs, started_at, seen_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at",
                         (owner, int(takes_jobs), started_at, now))
            conn.execute("DELETE FROM workers WHERE seen_at < ?", (now - 86400,))

    def worker_last_seen(self, takes_jobs: bool = False) -> float | None:
        """When a worker (one that takes import jobs, with `takes_jobs`) was last seen, in epoch seconds."""
        rows = self._read("SELECT max(seen_at) AS seen FROM workers WHERE takes_jobs >= ?", (int(takes_jobs),))
        return None if rows[0]["seen"] is None else float(rows[0]["seen"])

    def job_totals(self) -> dict[str, dict[str, int]]:
        """Import jobs by status, and the rows they processed by outcome (stored, duplicates, refused)."""
        rows = self._read("SELECT status, count(*) AS jobs, coalesce(sum(stored), 0) AS stored, "
                          "coalesce(sum(duplicates), 0) AS duplicates, coalesce(sum(refused), 0) AS refused "
                          "FROM import_jobs GROUP BY status")
        return {"jobs": {row["status"]: int(row["jobs"]) for row in rows},
                "rows": {outcome: sum(int(row[outcome]) for row in rows) for outcome in ("stored", "duplicates",
                                                                                         "refused")}}

    def _advance(self, conn, progress: Progress, outcomes: list, refused: int) -> None:
        """Count a chunk into its job inside the chunk's transaction (`refused`: the rejected rows it wrote);
        JobLeaseLost, which rolls the chunk back, when another worker holds the job now or the chunk was
        committed before."""
        stored, duplicates, rejected = progress.settle(outcomes)
        if rejected:
            conn.cursor().executemany(INSERT_REJECTED, [[row[c] for c in REJECTED_COLUMNS] for row in rejected])
        if conn.execute(
                "UPDATE import_jobs SET position = ?, stored = stored + ?, duplicates = duplicates + ?, "
                "refused = refused + ?, lease_until = ?, updated_at = ? "
                "WHERE id = ? AND lease_owner = ? AND position = ?",
                (progress.end, stored, duplicates, refused + len(rejected), progress.lease_until,
                 now_iso(), progress.job_id, progress.owner, progress.start)).rowcount != 1:
            raise JobLeaseLost(f"import job {progress.job_id}: another worker holds it now, or rows "
                               f"{progress.start + 1}-{progress.end} were committed before; this chunk is rolled back")

"""Import jobs as their users see them: made from an uploaded file (by the API, Capillary's route or the
CLI), shown with their status and counts, and their refused rows as a CSV error file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from collections.abc import Iterator
from typing import BinaryIO

from ..clock import now_iso
from ..clock import parse
from ..errors import BadParameter
from . import kinds
from .files import FORMATS

#: The error file's columns: where the row was, why it was refused, and the row as the file had it.
ERROR_COLUMNS = ("row_number", "reason", "message", "errors", "row")
#: A coupon upload's success file's columns: each code stored, and whom it was given to.
SUCCESS_COLUMNS = ("series_id", "code", "customer_identifier", "customer_value")
#: Refused rows read per query while an error file streams (and stored rows, a success file).
_ERROR_PAGE = 1000
#: A job no worker has taken this long after its upload says why it waits.
WAIT_SECONDS = 10
#: A worker not seen this long is taken for gone: it says it is alive every 10 s (worker/process.py).
WORKER_GONE_SECONDS = 30


def check_kind(kind: str | None) -> str:
    """A kind the collector imports, or BadParameter naming them all."""
    if not kind:
        raise BadParameter(f"Say what the file holds: kind is one of {', '.join(kinds.KINDS)}.",
                           errors={"kind": ["Missing data for required field."]})
    if kinds.get(kind) is None:
        raise BadParameter(f"Unknown kind {kind!r}; kind is one of {', '.join(kinds.KINDS)}.",
                           errors={"kind": [f"Must be one of: {', '.join(kinds.KINDS)}."]})
    return kind


def check_format(fmt: str | None) -> str | None:
    """A format the collector reads (None: decided from the file's name or content), or BadParameter."""
    if fmt and fmt not in FORMATS:
        raise BadParameter(f"Unknown format {fmt!r}; format is {' or '.join(FORMATS)}, or leave it out to have it "
                           "read from the file's name or content.", errors={"format": [f"Must be one of: "
                                                                                       f"{', '.join(FORMATS)}."]})
    return fmt or None


def create(storage, key_row: dict, kind: str, upload: BinaryIO, file_name: str, file_bytes: int,
           sent_by: int | None = None, fmt: str | None = None, options: dict | None = None,
           series_id: str | None = None, owner: str | None = None, lease_until: float | None = None) -> dict:
    """Keep an uploaded file and its job durably (the job STARTED: queued for a worker); return the job.

    `owner` makes the job held from the start by the one who will run it (the CLI), so that no worker
    takes it first.
    """
    at = now_iso()
    job_id = storage.create_job({
        "key": key_row["key"], "mode": key_row["mode"], "kind": kind, "format": fmt, "file_name": file_name,
        "file_bytes": file_bytes, "options": options or {}, "series_id": series_id, "sent_by": sent_by,
        "status": "STARTED", "lease_owner": owner, "lease_until": lease_until, "created_at": at, "updated_at": at,
    }, upload)
    return storage.get_job(job_id)


def waiting(storage, job: dict, now: float) -> str | None:
    """Why a job that no worker has taken after WAIT_SECONDS still waits, or None (taken, ended, or new):
    no worker that takes import jobs was seen lately, or those running are busy with earlier jobs."""
    if job["status"] != "STARTED" or job["lease_owner"] is not None:
        return None
    age = now - parse(job["created_at"]).timestamp()
    if age < WAIT_SECONDS:
        return None
    seen = storage.worker_last_seen(takes_jobs=True)
    if seen is None or now - seen > WORKER_GONE_SECONDS:
        last = "no worker has ever run here" if seen is None else f"the last one was seen {now - seen:.0f} s ago"
        return (f"No worker has taken this job in {age:.0f} s: {last}. Workers store import jobs; start one beside "
                "the server with `collector worker` (docs/imports.md); the job starts as soon as one runs.")
    return f"Queued for {age:.0f} s: the running workers are busy with earlier jobs; it starts when one is free."


def public(job: dict, waits: str | None = None) -> dict:
    """A job as the API shows it: what it imports, where it is, what became of its rows, where to look, and
    (`waits`, from waiting()) why no worker has taken it yet."""
    link = f"/v1/imports/{job['id']}"
    return {
        "id": job["id"], "kind": job["kind"], "status": job["status"], "reason": job["reason"], "waiting": waits,
        "file_name": job["file_name"], "file_bytes": job["file_bytes"], "format": job["format"],
        "counts": {"rows": job["total_rows"], "processed": job["position"], "stored": job["stored"],
                   "duplicates": job["duplicates"], "refused": job["refused"]},
        "created_at": job["created_at"], "updated_at": job["updated_at"], "started_at": job["started_at"],
        "finished_at": job["finished_at"],
        "links": {"self": link, "errors": f"{link}/errors"},
    }


def _csv_pages(header: tuple, pages: Callable[[object], list[dict]], cells: Callable[[dict], tuple],
               position: Callable[[dict], object], start) -> Iterator[str]:
    """A CSV streamed a page at a time: the header, then the cells of each row of each page read after the
    last row's position (so memory holds one page, whatever the file's size)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    after = start
    while True:
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        page = pages(after)
        if not page:
            return
        writer.writerows(cells(row) for row in page)
        after = position(page[-1])


def _error_cells(row: dict) -> tuple:
    """A refused row as the error file writes it."""
    errors = row["errors"]
    return (row["row_no"], row["reason"], row["message"],
            json.dumps(json.loads(errors), separators=(",", ":")) if errors else "", row["raw"] or "")


def error_lines(storage, job_id: int) -> Iterator[str]:
    """A job's error file, a CSV line at a time: a header, then each refused row in the order met."""
    return _csv_pages(ERROR_COLUMNS, lambda after: storage.job_errors(job_id, after, _ERROR_PAGE), _error_cells,
                      lambda row: (row["row_no"], row["id"]), (0, 0))


def _stored_cells(row: dict) -> tuple:
    """A stored coupon as the success file writes it."""
    return tuple(row["payload"].get(name) or "" for name in SUCCESS_COLUMNS)


def success_lines(storage, job_id: int) -> Iterator[str]:
    """A coupon upload's success file (Capillary's `successFileUrl`): a header, then each code it stored."""
    return _csv_pages(SUCCESS_COLUMNS, lambda after: storage.job_versions(job_id, after, _ERROR_PAGE), _stored_cells,
                      lambda row: row["id"], 0)

"""Import jobs as their users see them: made from an uploaded file (by the API, Capillary's route or the
CLI), shown with their status and counts, and their refused rows as a CSV error file."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import BinaryIO

from ..clock import now_iso
from ..errors import BadParameter
from . import kinds
from .files import FORMATS

#: The error file's columns: where the row was, why it was refused, and the row as the file had it.
ERROR_COLUMNS = ("row_number", "reason", "message", "errors", "row")
#: Refused rows read per query while an error file streams.
_ERROR_PAGE = 1000


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


def public(job: dict) -> dict:
    """A job as the API shows it: what it imports, where it is, what became of its rows, where to look."""
    link = f"/v1/imports/{job['id']}"
    return {
        "id": job["id"], "kind": job["kind"], "status": job["status"], "reason": job["reason"],
        "file_name": job["file_name"], "file_bytes": job["file_bytes"], "format": job["format"],
        "counts": {"rows": job["total_rows"], "processed": job["position"], "stored": job["stored"],
                   "duplicates": job["duplicates"], "refused": job["refused"]},
        "created_at": job["created_at"], "updated_at": job["updated_at"], "started_at": job["started_at"],
        "finished_at": job["finished_at"],
        "links": {"self": link, "errors": f"{link}/errors"},
    }


def error_lines(storage, job_id: int) -> Iterator[str]:
    """A job's error file, a CSV line at a time: a header, then each refused row in the order met."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ERROR_COLUMNS)
    after = (0, 0)
    while True:
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        page = storage.job_errors(job_id, after, _ERROR_PAGE)
        if not page:
            return
        for row in page:
            errors = row["errors"]
            writer.writerow((row["row_no"], row["reason"], row["message"],
                             json.dumps(json.loads(errors), separators=(",", ":")) if errors else "", row["raw"] or ""))
        after = (page[-1]["row_no"], page[-1]["id"])

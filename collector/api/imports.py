"""Import jobs: `POST /v1/imports` (a file, its kind), `GET /v1/imports[/<id>[/errors]]`, with a secret key.

The upload is answered 202 once the file and its job are committed; a worker stores the rows
(imports/runner.py), and the job's status says how far it got.
"""

from __future__ import annotations

import time

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from ..errors import ApiError
from ..errors import BadParameter
from ..errors import NotFound
from ..imports import jobs
from ..web.context import current_storage
from .files import authenticate
from .files import keep_refusal
from .files import uploaded_file

bp = Blueprint("imports", __name__)
#: Jobs a listing shows at most, and by default.
_MOST, _DEFAULT = 200, 50
#: The largest job id a store can hold (a 64-bit integer).
_LARGEST = 2**63 - 1


@bp.post("/v1/imports")
def create():
    """Keep an uploaded file as an import job; 202 with the job."""
    key_row, server_key = authenticate()
    try:
        upload = uploaded_file()
        kind = jobs.check_kind(request.form.get("kind"))
        fmt = jobs.check_format(request.form.get("format"))
    except ApiError as error:
        keep_refusal(key_row, "imports", error)
        raise
    job = jobs.create(current_storage(), key_row, kind, upload.stream, upload.name, upload.size,
                      sent_by=server_key["id"], fmt=fmt)
    response = jsonify(jobs.public(job))
    response.status_code = 202
    response.headers["Location"] = f"/v1/imports/{job['id']}"
    return response


def own_job(key_row: dict, job_id: int) -> dict:
    """The job with this id if it is the site's, else NotFound (another site's jobs do not exist here)."""
    job = current_storage().get_job(job_id) if job_id <= _LARGEST else None
    if job is None or job["key"] != key_row["key"]:
        raise NotFound(f"This key has no import job {job_id}.")
    return job


@bp.get("/v1/imports/<int:job_id>")
def status(job_id: int):
    """A job's status and counts."""
    key_row, _ = authenticate()
    job = own_job(key_row, job_id)
    return jsonify(jobs.public(job, jobs.waiting(current_storage(), job, time.time())))


@bp.get("/v1/imports")
def listing():
    """The site's jobs, newest first, `limit` at a time; `next` names the following page."""
    key_row, _ = authenticate()
    limit = _number("limit", _DEFAULT, 1, _MOST)
    before = _number("before", None, 1, _LARGEST)
    found = current_storage().list_jobs(key_row["key"], limit, before)
    more = len(found) == limit
    now = time.time()
    return jsonify({"jobs": [jobs.public(job, jobs.waiting(current_storage(), job, now)) for job in found],
                    "next": f"/v1/imports?limit={limit}&before={found[-1]['id']}" if more else None})


def _number(name: str, default: int | None, low: int, high: int) -> int | None:
    """A whole-number query parameter within bounds, or BadParameter."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise BadParameter(f"{name} must be a whole number, {low} to {high}; got {raw!r}.",
                           errors={name: [f"Must be a whole number, {low} to {high}."]})
    return int(raw)


def error_file(job: dict) -> Response:
    """A job's refused rows as a CSV download, streamed (read a page at a time)."""
    storage = current_storage()
    return Response(jobs.error_lines(storage, job["id"]), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-{job["id"]}-errors.csv"'})


@bp.get("/v1/imports/<int:job_id>/errors")
def errors(job_id: int):
    """The rows a job refused: row number, reason, message, field errors, and the row as the file had it."""
    key_row, _ = authenticate()
    return error_file(own_job(key_row, job_id))

"""Capillary's coupon upload, on its wire: `POST /coupon/api/v1/upload/file/<couponSeriesId>` and
`GET /coupon/api/v1/upload/getUploadStatus/<couponSeriesId>`, with the secret in `X-CAP-API-OAUTH-TOKEN`.

Both answer Capillary's documented body (`success`, `status`, `result` with `orgId`, `couponSeriesId`,
`uploadJobStatuses[]` and `fileName`); the uploads are import jobs of kind `coupons`, run by the same
workers. Errors keep the collector's shape and add Capillary's `success` and `status`.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import PurePosixPath

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request

from ..clock import parse
from ..errors import ApiError
from ..errors import BadParameter
from ..errors import CollectorError
from ..imports import jobs
from ..schemas.capillary import FAMILY
from ..schemas.capillary import IDENTIFIERS
from ..schemas.capillary import NOT_TAGGED
from ..web.context import current_storage
from ..web.error_answers import error_response
from .files import authenticate
from .files import keep_refusal
from .files import uploaded_file
from .imports import error_file
from .imports import own_job

bp = Blueprint("capillary", __name__, url_prefix="/coupon/api/v1/upload")
#: The token header Capillary's clients send: the site's secret here.
TOKEN_HEADER = "X-CAP-API-OAUTH-TOKEN"


@bp.errorhandler(CollectorError)
def _error(error: CollectorError):
    """The collector's error shape, with Capillary's `success` and `status` beside it."""
    return error_response(error, {"success": False, "status": error.status})


def _authenticate() -> tuple[dict, dict]:
    """The site of the request's token header (or Authorization, as the other APIs take it)."""
    return authenticate(request.headers.get(TOKEN_HEADER))


def org_id(key: str) -> int:
    """The site as Capillary's integer orgId: stable, from the key, within 31 bits."""
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) & 0x7FFFFFFF


def _series(series: str) -> int:
    """The coupon series id of the path: an integer, as Capillary's are."""
    if not (series.isascii() and series.isdigit()) or len(series) > 18:
        raise BadParameter(f"couponSeriesId must be a whole number; got {series!r}.")
    return int(series)


def _millis(moment: str | None) -> str | None:
    """Collector time text as Capillary's epoch milliseconds, written as a string."""
    if moment is None:
        return None
    return str(int(parse(moment).timestamp() * 1000))


def stored_name(job: dict) -> str:
    """The name Capillary gives an uploaded file: its stem, the upload's epoch milliseconds, the series."""
    name = PurePosixPath(job["file_name"])
    return f"{name.stem}_{_millis(job['created_at'])}_{job['series_id']}{name.suffix or '.csv'}"


def upload_status(job: dict, waits: str | None = None) -> dict:
    """One entry of `uploadJobStatuses`, with every field Capillary documents, and the collector's
    `waitingReason` (why no worker has taken the job yet: imports/jobs.py's waiting)."""
    ended = job["status"] in ("COMPLETED", "COMPLETED_WITH_ERRORS", "FAILED")
    files = f"{request.host_url}coupon/api/v1/upload"
    return {
        "jobId": job["id"], "uploadStatus": job["status"], "createdOn": _millis(job["created_at"]),
        "updatedOn": _millis(job["updated_at"]),
        "errorFileUrl": f"{files}/errorFile/{job['id']}" if ended and job["refused"] else None,
        "successFileUrl": f"{files}/successFile/{job['id']}" if ended and job["stored"] else None,
        "uploadedFileUrl": stored_name(job),
        "totalUploadedCount": job["stored"] + job["duplicates"], "actualRowCount": job["total_rows"] or 0,
        "errorCount": job["refused"], "uploadTableName": None, "uploadedFileName": job["file_name"],
        "audienceGroupId": 0, "audienceGroupVersionId": 0, "waitingReason": waits,
    }


def _answer(key_row: dict, series: int, found: list[dict]):
    """Capillary's body: the site, the series, the jobs, and the latest job's stored file name."""
    storage, now = current_storage(), time.time()
    return jsonify({"success": True, "status": 200, "result": {
        "orgId": org_id(key_row["key"]), "couponSeriesId": series,
        "uploadJobStatuses": [upload_status(job, jobs.waiting(storage, job, now)) for job in found],
        "fileName": stored_name(found[0]) if found else None}})


def _options(series: int) -> dict:
    """How the coupon file is read: the series, the identifier and, for tagged coupons, its column."""
    identifier = (request.form.get("customerIdentifier") or "").strip().upper()
    if not identifier:
        raise BadParameter("customerIdentifier is required: " + ", ".join(IDENTIFIERS) + ".",
                           errors={"customerIdentifier": ["Missing data for required field."]})
    if identifier not in IDENTIFIERS:
        raise BadParameter(f"Unknown customerIdentifier {identifier!r}; it is one of {', '.join(IDENTIFIERS)}.",
                           errors={"customerIdentifier": [f"Must be one of: {', '.join(IDENTIFIERS)}."]})
    options = {"layout": "capillary", "series_id": str(series), "customer_identifier": identifier}
    if identifier != NOT_TAGGED:
        column = (request.form.get("customerIdentifierColumn") or "").strip()
        if not (column.isascii() and column.isdigit()) or int(column) > 1000:
            raise BadParameter(f"customerIdentifierColumn must be the customer's column in the file, from 0; got "
                               f"{column!r}.", errors={"customerIdentifierColumn": ["Must be a column number."]})
        options["customer_column"] = int(column)
    return options


@bp.post("/file/<series>")
def upload(series: str):
    """Keep a coupon file as an import job of the series; Capillary's answer with the new job."""
    key_row, server_key = _authenticate()
    try:
        number = _series(series)
        options = _options(number)
        file = uploaded_file()
    except ApiError as error:
        keep_refusal(key_row, FAMILY, error)
        raise
    job = jobs.create(current_storage(), key_row, "coupons", file.stream, file.name, file.size,
                      sent_by=server_key["id"], fmt="csv", options=options, series_id=str(number))
    return _answer(key_row, number, [job])


@bp.get("/getUploadStatus/<series>")
def status(series: str):
    """Every upload job of the series, newest first."""
    key_row, _ = _authenticate()
    number = _series(series)
    found = current_storage().list_jobs(key_row["key"], 10_000, series_id=str(number))
    return _answer(key_row, number, found)


@bp.get("/errorFile/<int:job_id>")
def errors(job_id: int):
    """A coupon upload's refused rows (its `errorFileUrl`)."""
    key_row, _ = _authenticate()
    return error_file(own_job(key_row, job_id))


@bp.get("/successFile/<int:job_id>")
def successes(job_id: int):
    """A coupon upload's stored codes (its `successFileUrl`), as a CSV streamed a page at a time."""
    key_row, _ = _authenticate()
    job = own_job(key_row, job_id)
    return Response(jobs.success_lines(current_storage(), job["id"]), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="coupons-{job["id"]}-stored.csv"'})

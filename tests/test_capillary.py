"""Capillary's coupon upload on its wire: the documented routes, token header, form fields and answer body,
tagged and NOT_TAGGED files, and the status route listing every job of a series."""

from __future__ import annotations

import csv
import io

import pytest

from collector.api.capillary import org_id

from support.imports import run_jobs
from support.imports import sample

SERIES = 541854
#: Every field Capillary documents for one upload job, and its JSON type.
JOB_FIELDS = {"jobId": int, "uploadStatus": str, "createdOn": str, "updatedOn": str, "errorFileUrl": (str, type(None)),
              "successFileUrl": (str, type(None)), "uploadedFileUrl": str, "totalUploadedCount": int,
              "actualRowCount": int, "errorCount": int, "uploadTableName": (str, type(None)), "uploadedFileName": str,
              "audienceGroupId": int, "audienceGroupVersionId": int,
              # The collector's own: why no worker has taken the job yet (null once one has).
              "waitingReason": (str, type(None))}


def _upload(client, secret, content: bytes, identifier="MOBILE", column="0", series=SERIES,
            name="couponbatchupload.csv"):
    """POST a coupon file the way Capillary's documented curl does."""
    form = {"file": (io.BytesIO(content), name), "customerIdentifier": identifier}
    if column is not None:
        form["customerIdentifierColumn"] = column
    return client.post(f"/coupon/api/v1/upload/file/{series}", data=form, content_type="multipart/form-data",
                       headers={"X-CAP-API-OAUTH-TOKEN": secret, "cache-control": "no-cache"})


def _status(client, secret, series=SERIES):
    """GET the series' upload status."""
    return client.get(f"/coupon/api/v1/upload/getUploadStatus/{series}", headers={"X-CAP-API-OAUTH-TOKEN": secret})


def _check_shape(body: dict, key: str, series: int, jobs: int) -> list[dict]:
    """Capillary's documented body, every field with its type; the job entries."""
    assert set(body) == {"success", "status", "result"} and body["success"] is True and body["status"] == 200
    result = body["result"]
    assert set(result) == {"orgId", "couponSeriesId", "uploadJobStatuses", "fileName"}
    assert result["orgId"] == org_id(key) and isinstance(result["orgId"], int)
    assert result["couponSeriesId"] == series
    assert len(result["uploadJobStatuses"]) == jobs
    for job in result["uploadJobStatuses"]:
        assert set(job) == set(JOB_FIELDS)
        for name, kind in JOB_FIELDS.items():
            assert isinstance(job[name], kind), (name, job[name])
        assert job["createdOn"].isdigit() and job["updatedOn"].isdigit()
    return result["uploadJobStatuses"]


def test_a_tagged_upload_answers_capillarys_body_and_stores_the_coupons(app, client, secret, key, db):
    response = _upload(client, secret, sample("capillary-coupons.csv"))
    assert response.status_code == 200
    [job] = _check_shape(response.json, key, SERIES, 1)
    assert job["uploadStatus"] == "STARTED" and job["uploadedFileName"] == "couponbatchupload.csv"
    assert job["uploadedFileUrl"] == f"couponbatchupload_{job['createdOn']}_{SERIES}.csv"
    assert response.json["result"]["fileName"] == job["uploadedFileUrl"]
    assert (job["totalUploadedCount"], job["actualRowCount"], job["errorCount"]) == (0, 0, 0)
    run_jobs(app)
    [done] = _check_shape(_status(client, secret).json, key, SERIES, 1)
    assert done["uploadStatus"] == "COMPLETED" and done["jobId"] == job["jobId"]
    assert (done["totalUploadedCount"], done["actualRowCount"], done["errorCount"]) == (2, 2, 0)
    assert done["errorFileUrl"] is None
    coupons = db("SELECT series_id, code, customer_identifier, customer_value, job_id FROM capillary_coupons "
                 "ORDER BY code")
    assert coupons == [
        {"series_id": str(SERIES), "code": "WINTER-0001", "customer_identifier": "MOBILE",
         "customer_value": "9876543210", "job_id": job["jobId"]},
        {"series_id": str(SERIES), "code": "WINTER-0002", "customer_identifier": "MOBILE",
         "customer_value": "9876543211", "job_id": job["jobId"]}]


def test_codes_alone_not_tagged_and_files_without_a_header(app, client, secret, db):
    assert _upload(client, secret, b"CODE-1\nCODE-2\nCODE-3\n", identifier="NOT_TAGGED", column=None,
                   series=7).status_code == 200
    # The customer in the second column, no header: the code is the first other column.
    assert _upload(client, secret, b"CODE-4,ada@example.com\n", identifier="email", column="1",
                   series=7).status_code == 200
    run_jobs(app)
    coupons = db("SELECT code, customer_identifier, customer_value FROM capillary_coupons ORDER BY code")
    assert [(c["code"], c["customer_identifier"], c["customer_value"]) for c in coupons] == [
        ("CODE-1", "NOT_TAGGED", None), ("CODE-2", "NOT_TAGGED", None), ("CODE-3", "NOT_TAGGED", None),
        ("CODE-4", "EMAIL", "ada@example.com")]


def test_the_status_route_lists_every_job_of_the_series_newest_first(app, client, secret, key):
    ids = [_upload(client, secret, f"mobile,code\n98765432{n:02},C-{n}\n".encode()).json["result"]
           ["uploadJobStatuses"][0]["jobId"] for n in range(3)]
    _upload(client, secret, b"9876543299,OTHER\n", series=SERIES + 1)
    statuses = _check_shape(_status(client, secret).json, key, SERIES, 3)
    assert [s["jobId"] for s in statuses] == ids[::-1] and {s["uploadStatus"] for s in statuses} == {"STARTED"}
    run_jobs(app)
    statuses = _check_shape(_status(client, secret).json, key, SERIES, 3)
    assert {s["uploadStatus"] for s in statuses} == {"COMPLETED"}
    empty = _status(client, secret, series=99).json
    assert empty["result"]["uploadJobStatuses"] == [] and empty["result"]["fileName"] is None


def test_refused_rows_and_the_error_file(app, client, secret):
    content = b"mobile,code\n9876543210,OK-1\nnot-a-phone,BAD-1\n9876543212,\n"
    _upload(client, secret, content)
    run_jobs(app)
    [job] = _status(client, secret).json["result"]["uploadJobStatuses"]
    assert job["uploadStatus"] == "COMPLETED_WITH_ERRORS"
    assert (job["totalUploadedCount"], job["actualRowCount"], job["errorCount"]) == (1, 3, 2)
    assert job["errorFileUrl"] == f"http://localhost/coupon/api/v1/upload/errorFile/{job['jobId']}"
    response = client.get(job["errorFileUrl"], headers={"X-CAP-API-OAUTH-TOKEN": secret})
    errors = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert [(e["row_number"], e["row"]) for e in errors] == [("2", "not-a-phone,BAD-1"), ("3", "9876543212,")]
    assert "mobile number" in errors[0]["message"] and "code: Missing data" in errors[1]["message"]


def test_the_success_file_lists_the_codes_stored(app, client, secret):
    _upload(client, secret, b"mobile,code\n9876543210,OK-1\nnot-a-phone,BAD-1\n9876543211,OK-2\n")
    [waiting] = _status(client, secret).json["result"]["uploadJobStatuses"]
    assert waiting["successFileUrl"] is None  # nothing is stored before a worker runs the job
    run_jobs(app)
    [job] = _status(client, secret).json["result"]["uploadJobStatuses"]
    assert job["successFileUrl"] == f"http://localhost/coupon/api/v1/upload/successFile/{job['jobId']}"
    response = client.get(job["successFileUrl"], headers={"X-CAP-API-OAUTH-TOKEN": secret})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    stored = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert stored == [{"series_id": str(SERIES), "code": "OK-1", "customer_identifier": "MOBILE",
                       "customer_value": "9876543210"},
                      {"series_id": str(SERIES), "code": "OK-2", "customer_identifier": "MOBILE",
                       "customer_value": "9876543211"}]
    assert client.get(job["successFileUrl"], headers={"X-CAP-API-OAUTH-TOKEN": "sk_live_nope"}).status_code == 401


def test_the_same_codes_again_are_not_stored_twice(app, client, secret, db):
    for _ in range(2):
        _upload(client, secret, sample("capillary-coupons.csv"))
    run_jobs(app)
    second = _status(client, secret).json["result"]["uploadJobStatuses"][0]
    assert second["totalUploadedCount"] == 2 and second["errorCount"] == 0
    assert len(db("SELECT * FROM capillary_coupons")) == 2 and len(db("SELECT * FROM record_versions")) == 2


@pytest.mark.parametrize(("series", "form", "status", "word"), [
    ("abc", {"customerIdentifier": "MOBILE", "customerIdentifierColumn": "0"}, 400, "couponSeriesId"),
    ("1", {}, 400, "customerIdentifier is required"),
    ("1", {"customerIdentifier": "PASSPORT"}, 400, "Unknown customerIdentifier"),
    ("1", {"customerIdentifier": "MOBILE"}, 400, "customerIdentifierColumn"),
    ("1", {"customerIdentifier": "MOBILE", "customerIdentifierColumn": "x"}, 400, "customerIdentifierColumn"),
])
def test_a_bad_upload_is_refused_with_capillarys_success_and_status(client, secret, db, series, form, status, word):
    response = client.post(f"/coupon/api/v1/upload/file/{series}",
                           data={**form, "file": (io.BytesIO(b"1,2\n"), "c.csv")}, content_type="multipart/form-data",
                           headers={"X-CAP-API-OAUTH-TOKEN": secret})
    assert response.status_code == status and word in response.json["message"]
    assert response.json["success"] is False and response.json["status"] == status
    assert response.json["code"] == "bad_parameter"
    assert len(db("SELECT * FROM rejected WHERE source = 'capillary'")) == 1


def test_the_token_is_the_sites_secret(client, key, secret):
    for token in (key, "sk_live_nope", ""):
        response = _upload(client, token, b"1,2\n")
        assert response.status_code == 401 and response.json["success"] is False
    # Authorization: Bearer works as on the other server APIs.
    response = client.get(f"/coupon/api/v1/upload/getUploadStatus/{SERIES}",
                          headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_a_tagged_file_with_one_column_fails(app, client, secret):
    _upload(client, secret, b"9876543210\n", column="0")
    run_jobs(app)
    [job] = _status(client, secret).json["result"]["uploadJobStatuses"]
    assert job["uploadStatus"] == "FAILED"
    found = client.get(f"/v1/imports/{job['jobId']}", headers={"Authorization": f"Bearer {secret}"}).json
    assert "customerIdentifierColumn is 0" in found["reason"]


def test_a_nul_in_a_code_is_refused_in_its_row(app, client, secret, db):
    _upload(client, secret, b"9876543210,GOOD\n9876543211,B\x00AD\n")
    run_jobs(app)
    [job] = _status(client, secret).json["result"]["uploadJobStatuses"]
    assert (job["totalUploadedCount"], job["errorCount"]) == (1, 1)
    assert [c["code"] for c in db("SELECT code FROM capillary_coupons")] == ["GOOD"]

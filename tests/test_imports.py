"""Import jobs on both backends: every kind from its sample file, the file formats a shop's exports come in,
files that cannot be read, refused rows and their error file, no row stored twice, limits and keys."""

from __future__ import annotations

import csv
import gzip
import io
import json
import time

import pytest

from collector.imports.kinds import KINDS
from collector.imports.kinds import row_event_id
from collector.reference import record_types
from collector.worker.process import Worker

from support.factories import bearer
from support.imports import ORDER
from support.imports import error_rows
from support.imports import imported
from support.imports import run_jobs
from support.imports import sample
from support.imports import upload

SHOP = "550e8400-e29b-41d4-a716-446655440000"


def _data_rows(name: str) -> int:
    """The data rows of a sample CSV file (quoted line breaks are inside rows)."""
    return len(list(csv.reader(io.StringIO(sample(name).decode())))) - 1


def test_every_kind_has_a_sample_file():
    assert sorted(ORDER) == sorted(KINDS)


def test_every_kind_imports_from_its_sample_file(app, client, secret, key, storage):
    for kind in ORDER:
        job = imported(client, app, secret, kind, sample(f"{kind}.csv"), f"{kind}.csv")
        rows = _data_rows(f"{kind}.csv")
        assert (job["status"], job["reason"]) == ("COMPLETED", None), (kind, job)
        assert job["counts"] == {"rows": rows, "processed": rows, "stored": rows, "duplicates": 0, "refused": 0}, kind
        assert job["format"] == "csv" and job["file_name"] == f"{kind}.csv"
        view = {"events": "events", "interactions": "interactions"}.get(kind) or record_types.get(kind).view
        assert storage.query(f"SELECT count(*) FROM {view} WHERE key = ?", [key])[1][0][0] == rows, kind
    # The names reference data brings, on the events the files brought.
    named = storage.query("SELECT item_name FROM interactions WHERE interaction_type = 'DISCOUNT_CODE'")[1]
    assert named == [("Student 10% off",)]
    [(revenue, currency, event_time)] = storage.query(
        "SELECT revenue, currency, event_time FROM events WHERE type = 'order'")[1]
    assert (float(revenue), currency, event_time) == (25000.0, "KRW", "2026-10-02T18:22:00.000Z")


def test_ndjson_is_read_like_csv(app, client, secret, db):
    job = imported(client, app, secret, "events", sample("events.ndjson"), "history.ndjson")
    assert job["format"] == "ndjson" and job["status"] == "COMPLETED" and job["counts"]["stored"] == 3
    [order] = db("SELECT order_id, revenue FROM events WHERE type = 'order'")
    assert order == {"order_id": "o1002", "revenue": 34000.0}
    assert len(db("SELECT * FROM event_lines")) == 2


@pytest.mark.parametrize("name", ["history.jsonl", "history", "history.txt"])
def test_ndjson_is_recognised_by_name_or_content(app, client, secret, name):
    job = imported(client, app, secret, "events", sample("events.ndjson"), name)
    assert (job["format"], job["counts"]["stored"]) == ("ndjson", 3)


def test_format_given_in_the_form_wins(app, client, secret):
    job = imported(client, app, secret, "events", sample("events.ndjson"), "history.csv", format="ndjson")
    assert (job["format"], job["status"]) == ("ndjson", "COMPLETED")


@pytest.mark.parametrize("name", ["shops.csv.gz", "shops.bin"])
def test_gzip_files_are_read_whatever_their_name(app, client, secret, name):
    job = imported(client, app, secret, "shops", gzip.compress(sample("shops.csv")), name)
    assert job["status"] == "COMPLETED" and job["counts"]["stored"] == 2


def test_a_byte_order_mark_and_crlf_line_ends(app, client, secret, db):
    content = b"\xef\xbb\xbf" + sample("shops.csv").replace(b"\n", b"\r\n")
    job = imported(client, app, secret, "shops", content, "shops.csv")
    assert job["status"] == "COMPLETED" and job["counts"]["stored"] == 2
    names = {row["name"] for row in db("SELECT name FROM cobi_shops")}
    assert names == {"Campus Bookstore", "Café Lumière, Downtown"}


def test_quoted_fields_hold_commas_quotes_and_line_breaks(app, client, secret, db):
    content = (b'product_id,variant_id,category_1,name,price,stock,photo_url,link\r\n'
               b'p9,v9,men,"jeans, ""slim""\r\nsecond line",120,1,/p9.png,/p9\r\n'
               b'p10,v10,men,plain,130,2,/p10.png,/p10\r\n')
    job = imported(client, app, secret, "products", content, "products.csv")
    assert job["counts"] == {"rows": 2, "processed": 2, "stored": 2, "duplicates": 0, "refused": 0}
    names = {row["product_id"]: row["name"] for row in db("SELECT product_id, name FROM datacue_products")}
    assert names == {"p9": 'jeans, "slim"\r\nsecond line', "p10": "plain"}


def test_json_cells_and_dotted_columns_nest(app, client, secret, db):
    content = (b'user,event,timestamp,context.page_url\n'
               b'"{""anonymous_id"": ""a1""}","{""type"": ""search"", ""term"": ""lamp""}",1767225600,/s?q=lamp\n')
    job = imported(client, app, secret, "events", content, "events.csv")
    assert job["status"] == "COMPLETED", job
    [row] = db("SELECT anonymous_id, term, page_url, event_time FROM events")
    assert row == {"anonymous_id": "a1", "term": "lamp", "page_url": "/s?q=lamp",
                   "event_time": "2026-01-01T00:00:00.000Z"}


@pytest.mark.parametrize(("content", "reason"), [
    (b"shop_id,region\n550e8400-e29b-41d4-a716-446655440000,CA\n", "no 'name' column"),
    (b"shop_id,name,region,colour\n550e8400-e29b-41d4-a716-446655440000,a,CA,red\n", None),
    (b"\xff\xfeshop_id,name\n", "not UTF-8"),
    (b"shop_id,name,region\n\"550e8400-e29b-41d4-a716-446655440000,unclosed,CA\n", "not valid CSV"),
    (b"shop_id,name,region,name\n", "appears twice"),
    (b"shop_id,name,region\n", "no rows, only a header"),
    (b"", "empty"),
    (b"\x1f\x8b\x08\x00garbage", "gzip"),
])
def test_a_file_that_cannot_be_read_fails_with_the_reason(app, client, secret, db, content, reason):
    job = imported(client, app, secret, "shops", content, "shops.csv")
    if reason is None:  # Data API records keep fields they do not declare, so an extra column is kept too
        assert job["status"] == "COMPLETED"
        return
    assert job["status"] == "FAILED" and reason in job["reason"], job
    assert db("SELECT * FROM records") == []


def test_unknown_columns_fail_where_the_api_refuses_unknown_fields(app, client, secret):
    content = b"interaction_type,item_type,item_id,event_timestamp,colour\nPAGE_VIEW,SHOP," + SHOP.encode() + \
        b",2026-10-03T14:00:00Z,red\n"
    job = imported(client, app, secret, "interactions", content, "i.csv")
    assert job["status"] == "FAILED" and "Unknown column 'colour'" in job["reason"]


def test_events_need_their_timestamp_column(app, client, secret):
    content = b"user.anonymous_id,event.type,event.subtype\na1,pageview,home\n"
    job = imported(client, app, secret, "events", content, "e.csv")
    assert job["status"] == "FAILED" and "'timestamp'" in job["reason"]


def test_good_and_bad_rows_complete_with_errors_and_an_error_file(app, client, secret, db):
    content = (b"user.anonymous_id,event.type,event.subtype,event.product_id,timestamp\n"
               b"a1,pageview,home,,2026-10-01T10:00:00Z\n"
               b"a1,pageview,product,,2026-10-01T10:01:00Z\n"
               b"a1,pageview,home,,2026-10-01T10:02:00Z,extra\n"
               b"a1,pageview,hom,,2026-10-01T10:03:00Z\n"
               b"a1,pageview,product,p1,2026-10-01T10:04:00Z\n"
               b"a1,pageview,home,,\n")
    job = imported(client, app, secret, "events", content, "e.csv")
    assert job["status"] == "COMPLETED_WITH_ERRORS"
    assert job["counts"] == {"rows": 6, "processed": 6, "stored": 2, "duplicates": 0, "refused": 4}
    errors = error_rows(client, secret, job["id"])
    assert [(e["row_number"], e["reason"]) for e in errors] == [
        ("2", "invalid_event"), ("3", "bad_row"), ("4", "invalid_event"), ("6", "invalid_event")]
    assert "event.product_id: Missing data" in errors[0]["message"]
    assert json.loads(errors[0]["errors"]) == {"event": {"product_id": ["Missing data for required field."]}}
    assert "6 cells; the header has 5" in errors[1]["message"]
    assert "Unknown subtype 'hom'" in errors[2]["message"] and "needs its timestamp" in errors[3]["message"]
    assert errors[2]["row"] == "a1,pageview,hom,,2026-10-01T10:03:00Z"
    # Refused rows are in `rejected` like any refused item, with their job and row.
    kept = db("SELECT job_id, row_no, source, raw FROM rejected ORDER BY row_no")
    assert [(r["job_id"], r["row_no"], r["source"]) for r in kept] == [(job["id"], n, "datacue") for n in (2, 3, 4, 6)]


def test_ndjson_lines_that_are_not_objects_are_refused_alone(app, client, secret):
    lines = [json.dumps({"user": {"anonymous_id": "a1"}, "event": {"type": "login"}, "timestamp": 1767225600}),
             "{not json", "[1, 2]", "", json.dumps({"user": {"anonymous_id": "a2"}, "event": {"type": "login"},
                                                    "timestamp": 1767225601})]
    job = imported(client, app, secret, "events", "\n".join(lines).encode(), "e.ndjson")
    assert job["counts"] == {"rows": 4, "processed": 4, "stored": 2, "duplicates": 0, "refused": 2}
    errors = error_rows(client, secret, job["id"])
    assert [(e["row_number"], e["reason"], e["row"]) for e in errors] == [
        ("2", "malformed_json", "{not json"), ("3", "malformed_json", "[1, 2]")]


def test_duplicate_rows_and_a_file_sent_again_store_nothing_twice(app, client, secret, db):
    events = sample("events.csv")
    rows = events.splitlines()
    with_repeat = b"\n".join([*rows, rows[1], rows[2]]) + b"\n"
    first = imported(client, app, secret, "events", with_repeat, "e.csv")
    assert first["counts"] == {"rows": 7, "processed": 7, "stored": 5, "duplicates": 2, "refused": 0}
    again = imported(client, app, secret, "events", events, "e.csv")
    assert again["counts"] == {"rows": 5, "processed": 5, "stored": 0, "duplicates": 5, "refused": 0}
    assert len(db("SELECT * FROM events")) == 5 and len(db("SELECT * FROM event_lines")) == 1
    twice = sample("shops.csv") + sample("shops.csv").split(b"\n", 1)[1]
    shops = imported(client, app, secret, "shops", twice, "s.csv")
    assert shops["counts"] == {"rows": 4, "processed": 4, "stored": 2, "duplicates": 2, "refused": 0}
    shops = imported(client, app, secret, "shops", sample("shops.csv"), "s.csv")
    assert shops["counts"]["duplicates"] == 2 and len(db("SELECT * FROM record_versions")) == 2


def test_an_event_id_in_the_file_is_kept(app, client, secret, db):
    content = (b"event_id,user.anonymous_id,event.type,timestamp\n"
               b"7a1d4b8e-63b8-4f0e-8a39-2c1ef1d2b111,a1,login,2026-10-01T10:00:00Z\n"
               b"7a1d4b8e-63b8-4f0e-8a39-2c1ef1d2b111,a1,login,2026-10-01T10:05:00Z\n")
    job = imported(client, app, secret, "events", content, "e.csv")
    assert job["counts"]["stored"] == 1 and job["counts"]["duplicates"] == 1
    assert [r["event_id"] for r in db("SELECT event_id FROM events")] == ["7a1d4b8e-63b8-4f0e-8a39-2c1ef1d2b111"]


def test_derived_event_ids_follow_the_content():
    one = {"user": {"anonymous_id": "a1"}, "event": {"type": "login"}, "timestamp": "2026-10-01T10:00:00Z"}
    assert row_event_id(one) == row_event_id(json.loads(json.dumps(one)))
    assert row_event_id(one) != row_event_id({**one, "timestamp": "2026-10-01T10:00:01Z"})


def test_records_are_checked_against_what_they_name(app, client, secret):
    job = imported(client, app, secret, "branches", sample("branches.csv"), "branches.csv")
    assert job["status"] == "COMPLETED_WITH_ERRORS" and job["counts"]["refused"] == 2
    errors = error_rows(client, secret, job["id"])
    assert {e["reason"] for e in errors} == {"missing_reference"}
    assert "send it to shops first" in errors[0]["message"]


def test_interactions_and_events_of_a_forgotten_visitor_are_refused_without_their_row(app, client, secret, cli, db):
    cli("forget", "--anonymous-id", "a-7f3e", "--suppress")
    job = imported(client, app, secret, "events", sample("events.csv"), "e.csv")
    assert job["counts"]["refused"] == 5 and db("SELECT * FROM events") == []
    assert {(e["reason"], e["row"]) for e in error_rows(client, secret, job["id"])} == {("suppressed", "")}


def test_an_upload_over_the_limit_is_refused(make_app, key):
    from collector.access import server_keys

    app = make_app(MAX_UPLOAD_BYTES=100)
    secret = server_keys.create_server_key(app.extensions["collector.storage"], key)
    response = upload(app.test_client(), secret, "shops", b"x" * 101, "big.csv")
    assert response.status_code == 413 and response.json["code"] == "payload_too_large"
    assert "COLLECTOR_MAX_UPLOAD_BYTES" in response.json["message"]
    assert upload(app.test_client(), secret, "shops", sample("shops.csv")[:100], "ok.csv").status_code == 202


def test_a_publishable_key_cannot_upload(client, key, db):
    response = client.post("/v1/imports", data={"kind": "shops", "file": (io.BytesIO(sample("shops.csv")), "s.csv")},
                           headers=bearer(key), content_type="multipart/form-data")
    assert response.status_code == 401 and "publishable key cannot write here" in response.json["message"]
    assert db("SELECT * FROM import_jobs") == []


@pytest.mark.parametrize(("form", "code", "status"), [
    ({"kind": "shop"}, "bad_parameter", 400),
    ({}, "bad_parameter", 400),
    ({"kind": "shops", "format": "xlsx"}, "bad_parameter", 400),
])
def test_an_upload_that_cannot_be_a_job_is_refused_and_kept(client, secret, db, form, code, status):
    response = client.post("/v1/imports", data={**form, "file": (io.BytesIO(sample("shops.csv")), "s.csv")},
                           headers=bearer(secret), content_type="multipart/form-data")
    assert response.status_code == status and response.json["code"] == code
    assert [r["reason"] for r in db("SELECT reason FROM rejected")] == [code]
    assert db("SELECT * FROM import_jobs") == []


def test_an_upload_without_a_file_or_not_multipart(client, secret):
    response = client.post("/v1/imports", data={"kind": "shops"}, headers=bearer(secret),
                           content_type="multipart/form-data")
    assert response.status_code == 400 and "named file" in response.json["message"]
    response = client.post("/v1/imports", json={"kind": "shops"}, headers=bearer(secret))
    assert response.status_code == 415


def test_the_upload_answer_and_the_job_lifecycle(app, client, secret, storage):
    response = upload(client, secret, "shops", sample("shops.csv"), "shops.csv")
    assert response.status_code == 202 and response.headers["Location"] == f"/v1/imports/{response.json['id']}"
    job = response.json
    assert job["status"] == "STARTED" and job["counts"] == {"rows": None, "processed": 0, "stored": 0,
                                                             "duplicates": 0, "refused": 0}
    assert job["links"] == {"self": f"/v1/imports/{job['id']}", "errors": f"/v1/imports/{job['id']}/errors"}
    assert job["file_bytes"] == len(sample("shops.csv")) and job["started_at"] is None
    run_jobs(app)
    done = client.get(job["links"]["self"], headers=bearer(secret)).json
    assert done["status"] == "COMPLETED" and done["started_at"] and done["finished_at"]
    # The file is gone once the job ended; its rows are stored.
    assert storage.query("SELECT count(*) FROM cobi_shops")[1][0][0] == 2


def test_jobs_are_listed_newest_first_a_page_at_a_time_and_per_site(app, client, secret, storage):
    from collector.access import keys
    from collector.access import server_keys

    ids = [upload(client, secret, "shops", sample("shops.csv")).json["id"] for _ in range(3)]
    page = client.get("/v1/imports?limit=2", headers=bearer(secret)).json
    assert [j["id"] for j in page["jobs"]] == ids[::-1][:2]
    rest = client.get(page["next"], headers=bearer(secret)).json
    assert [j["id"] for j in rest["jobs"]] == ids[:1] and rest["next"] is None
    assert client.get("/v1/imports?limit=0", headers=bearer(secret)).status_code == 400
    other = server_keys.create_server_key(storage, keys.create_key(storage, "other shop", []))
    assert client.get("/v1/imports", headers=bearer(other)).json["jobs"] == []
    assert client.get(f"/v1/imports/{ids[0]}", headers=bearer(other)).status_code == 404
    assert client.get(f"/v1/imports/{ids[0]}/errors", headers=bearer(other)).status_code == 404


def test_progress_is_visible_while_a_job_runs(make_app, key):
    from collector.access import server_keys

    app = make_app(IMPORT_CHUNK=2)
    storage = app.extensions["collector.storage"]
    secret = server_keys.create_server_key(storage, key)
    client = app.test_client()
    job_id = upload(client, secret, "events", sample("events.csv"), "events.csv").json["id"]
    seen = []
    with app.app_context():
        from collector.imports.runner import JobRunner

        JobRunner(storage, app.config, on_progress=lambda found: seen.append(
            client.get(f"/v1/imports/{job_id}", headers=bearer(secret)).json)).run(once=True)
    assert [(s["status"], s["counts"]["processed"]) for s in seen] == [
        ("PROCESSING", 2), ("PROCESSING", 4), ("PROCESSING", 5), ("COMPLETED", 5)]
    assert all(s["counts"]["rows"] == 5 for s in seen)


def test_the_coupon_query_of_the_schema_docs(app, client, secret, key, storage):
    from pathlib import Path

    for kind in ("shops", "offers", "coupons"):
        assert imported(client, app, secret, kind, sample(f"{kind}.csv"))["status"] == "COMPLETED"
    for kind, name in (("events", "events.csv"), ("events", "events.ndjson"), ("interactions", "interactions.csv")):
        assert imported(client, app, secret, kind, sample(name), name)["status"] == "COMPLETED"
    text = (Path(__file__).resolve().parent.parent / "docs" / "schema.md").read_text()
    query = text.split("```sql coupons", 1)[1].split("```", 1)[0]
    columns, rows = storage.query(query)
    found = [dict(zip(columns, row, strict=True)) for row in rows]
    assert [(r["series_id"], r["code"], r["customer_value"], r["source"], r["order_id"]) for r in found] == [
        ("541854", "SUMMER-0001", "ada@example.com", "datacue", "o1001"),
        ("541854", "SUMMER-0002", "u2", "datacue", "o1002"),
        ("600001", "STUDENT10", "+14165550123", "cobi", None)]


def test_a_nul_character_is_refused_in_its_row_alone(app, client, secret, db):
    content = (b'shop_id,name,region,extra\n'
               b'550e8400-e29b-41d4-a716-446655440000,Nul\x00Shop,CA,\n'
               b'550e8400-e29b-41d4-a716-446655440001,Escaped,CA,"{""a"": ""\\u0000""}"\n'
               b'550e8400-e29b-41d4-a716-446655440002,Fine,CA,\n')
    job = imported(client, app, secret, "shops", content, "shops.csv")
    assert job["counts"] == {"rows": 3, "processed": 3, "stored": 1, "duplicates": 0, "refused": 2}
    assert [e["reason"] for e in error_rows(client, secret, job["id"])] == ["malformed_json", "malformed_json"]
    assert [r["name"] for r in db("SELECT name FROM cobi_shops")] == ["Fine"]


def test_a_pool_of_processes_prepares_chunks_with_the_same_result(make_app, key):
    from collector.access import server_keys

    app = make_app(IMPORT_PROCESSES=2, IMPORT_CHUNK=2)
    storage = app.extensions["collector.storage"]
    secret = server_keys.create_server_key(storage, key)
    client = app.test_client()
    events = imported(client, app, secret, "events", sample("events-with-mistakes.csv"), "e.csv")
    assert events["counts"] == {"rows": 5, "processed": 5, "stored": 3, "duplicates": 0, "refused": 2}
    assert [e["row_number"] for e in error_rows(client, secret, events["id"])] == ["2", "4"]
    branches = imported(client, app, secret, "branches", sample("branches.csv") + b"x,y\n", "b.csv")
    assert branches["counts"] == {"rows": 3, "processed": 3, "stored": 0, "duplicates": 0, "refused": 3}
    assert [(e["row_number"], e["reason"]) for e in error_rows(client, secret, branches["id"])] == [
        ("1", "missing_reference"), ("2", "missing_reference"), ("3", "invalid_record")]
    for kind in ORDER[:3]:
        assert imported(client, app, secret, kind, sample(f"{kind}.csv"))["status"] == "COMPLETED", kind
    again = imported(client, app, secret, "events", sample("events-with-mistakes.csv"), "e.csv")
    assert again["counts"] == {"rows": 5, "processed": 5, "stored": 0, "duplicates": 3, "refused": 2}
    assert storage.query("SELECT count(*) FROM cobi_branches")[1] == [(2,)]


def test_the_docs_list_every_kind_with_its_required_columns_and_sample():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "imports.md").read_text()
    for name, kind in KINDS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"docs/imports.md has no row for {name}"
        required = row.split(" | ")[2]
        assert all(f"`{column}`" in required for group in kind.required for column in group), name
        assert f"(imports/{name}.csv)" in row


def test_a_job_no_worker_takes_says_why_and_readyz_says_when_one_was_seen(app, client, secret, storage, db):
    job = upload(client, secret, "events", sample("events.csv")).json
    assert job["status"] == "STARTED" and job["waiting"] is None  # just uploaded: a worker may take it any moment
    assert client.get("/readyz").json == {"status": "ready", "worker_last_seen_seconds": None}
    db("UPDATE import_jobs SET created_at = ? WHERE id = ?", ("2026-01-01T00:00:00.000000Z", job["id"]))

    def waits() -> str:
        """The job's `waiting` as its status shows it, and the same in the site's listing."""
        shown = client.get(f"/v1/imports/{job['id']}", headers=bearer(secret)).json["waiting"]
        assert client.get("/v1/imports", headers=bearer(secret)).json["jobs"][0]["waiting"] == shown
        return shown

    assert "no worker has ever run here" in waits() and "`collector worker`" in waits()
    storage.worker_seen("gone-host:1:abc", True, "2026-01-01T00:00:00.000000Z", time.time() - 120)
    assert "the last one was seen 120 s ago" in waits()
    assert 120 <= client.get("/readyz").json["worker_last_seen_seconds"] < 130
    storage.worker_seen("busy-host:2:def", True, "2026-01-01T00:00:00.000000Z", time.time())
    assert waits().startswith("Queued for ") and "busy with earlier jobs" in waits()
    run_jobs(app)
    assert client.get(f"/v1/imports/{job['id']}", headers=bearer(secret)).json["waiting"] is None


def test_a_worker_says_it_is_alive(app, client, storage):
    Worker(storage, app.config, forward=False).run(once=True)
    assert 0 <= client.get("/readyz").json["worker_last_seen_seconds"] < 10
    assert storage.worker_last_seen(takes_jobs=True) is not None
    Worker(storage, app.config, forward=True, jobs=False).run(once=True)
    [(owners,)] = storage.query("SELECT count(*) FROM workers")[1]
    assert owners == 2

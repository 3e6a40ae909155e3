"""Import jobs in tests: the sample files of docs/imports/, uploads through the API, and a worker run in the
test's own process until no job is due."""

from __future__ import annotations

import io
from pathlib import Path

from collector.imports.runner import JobRunner

SAMPLES = Path(__file__).resolve().parent.parent.parent / "docs" / "imports"
#: Every kind with a sample file, in an order that satisfies their references (a branch after its shop).
ORDER = ("shops", "branches", "offers", "tags", "shop-tags", "keywords", "shop-keywords", "categories",
         "shop-categories", "institutes", "courses", "customers", "transactions", "student-favourites", "products",
         "banners", "users", "orders", "product-categories", "events", "interactions", "coupons")


def sample(name: str) -> bytes:
    """A sample file's bytes (`events.csv`, `events.ndjson`)."""
    return (SAMPLES / name).read_bytes()


def upload(client, secret: str, kind: str, content: bytes, name: str = "upload.csv", **form):
    """POST /v1/imports with a file, as curl -F sends it."""
    return client.post("/v1/imports", data={"kind": kind, **form, "file": (io.BytesIO(content), name)},
                       headers={"Authorization": f"Bearer {secret}"}, content_type="multipart/form-data")


def run_jobs(app) -> None:
    """Run an import worker in this process until no job is due."""
    with app.app_context():
        JobRunner(app.extensions["collector.storage"], app.config).run(once=True)


def imported(client, app, secret: str, kind: str, content: bytes, name: str = "upload.csv", **form) -> dict:
    """Upload a file, run the worker, and return the job as GET /v1/imports/<id> shows it."""
    response = upload(client, secret, kind, content, name, **form)
    assert response.status_code == 202, response.json
    run_jobs(app)
    found = client.get(f"/v1/imports/{response.json['id']}", headers={"Authorization": f"Bearer {secret}"})
    assert found.status_code == 200
    return found.json


def error_rows(client, secret: str, job_id: int) -> list[dict]:
    """A job's error file, parsed."""
    import csv

    response = client.get(f"/v1/imports/{job_id}/errors", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.data.decode())))

"""The OpenAPI document at /openapi.json, and schemathesis run against it: every generated request,
valid or not, gets an answer the document describes, and never a 5xx."""

from __future__ import annotations

import atexit
import base64
import gzip
import json
import shutil
import tempfile

import brotli
import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings
from schemathesis.checks import negative_data_rejection
from schemathesis.checks import positive_data_acceptance

from collector import create_app
from collector.access import keys
from collector.access import server_keys
from collector.access import tokens
from collector.api.openapi import UNDOCUMENTED
from collector.api.openapi import route_pattern
from collector.api.openapi import undocumented
from collector.schemas import cobi_data
from collector.schemas import datacue_backend

# schemathesis reads the document when the module is collected, so the app is built here, over its
# own SQLite file, with rate limits off (it sends many requests from one address).
_FOLDER = tempfile.mkdtemp(prefix="openapi-")
atexit.register(shutil.rmtree, _FOLDER, True)
APP = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{_FOLDER}/openapi.sqlite3", "LOG_LEVEL": "WARNING",
                  "RATE_LIMIT_PER_IP": "", "RATE_LIMIT_PER_KEY": ""})
KEY = keys.create_key(APP.extensions["collector.storage"], "contract", [])
SECRET = server_keys.create_server_key(APP.extensions["collector.storage"], KEY)
ANALYST = tokens.create_token(APP.extensions["collector.storage"], "contract")
SCHEMA = schemathesis.openapi.from_wsgi("/openapi.json", APP)
BACKEND = ("/v1/products", "/v1/banners", "/v1/users", "/v1/orders", "/v1/batch", "/v1/overview", "/v1/clients")


def test_document_describes_the_public_endpoints():
    document = APP.test_client().get("/openapi.json").json
    backend = {"/v1/batch", "/v1/batch/{type}", "/v1/batch/orders", "/v1/batch/{type}/all", "/v1/overview",
               "/v1/overview/{type}", "/v1/clients", "/v1/clients/sync", "/v1/products/{product_id}",
               "/v1/products/{product_id}/{variant_id}"}
    for name, record_type in datacue_backend.BY_PATH.items():
        backend.add(f"/v1/{name}")
        if name != "products":
            backend.add(f"/v1/{name}/{{{record_type.id_field}}}")
    imports = {"/v1/imports", "/v1/imports/{job_id}", "/v1/imports/{job_id}/errors",
               "/coupon/api/v1/upload/file/{couponSeriesId}", "/coupon/api/v1/upload/getUploadStatus/{couponSeriesId}",
               "/coupon/api/v1/upload/errorFile/{job_id}", "/coupon/api/v1/upload/successFile/{job_id}",
               "/v1/reports/{name}", "/v1/export"}
    segment = {f"/segment/v1/{name}" for name in ("track", "page", "screen", "identify", "group", "alias", "t", "p",
                                                  "s", "i", "g", "a", "batch", "b", "m")} | {"/segment/beacon/v1/batch"}
    assert set(document["paths"]) == {"/v1/events", "/", "/user-interactions", "/v1/user-interactions",
                                      "/healthz", "/readyz", *(f"/v1/data/{t.name}" for t in cobi_data.TYPES),
                                      *backend, *imports, *segment}
    assert set(document["paths"]["/v1/events"]) == {"post", "put"}
    assert sorted(document["components"]["schemas"]["DataCueProduct"]["required"]) == [
        "category_1", "link", "name", "photo_url", "price", "product_id", "stock", "variant_id"]
    shop = document["components"]["schemas"]["CobiShop"]
    assert sorted(shop["required"]) == ["name", "region", "shop_id"] and "CA" in shop["properties"]["region"]["enum"]
    events = document["components"]["schemas"]["DataCueEvent"]
    assert events["required"] == ["event", "user"] and len(events["properties"]["event"]["oneOf"]) == 16
    assert document["components"]["schemas"]["CobiInteraction"]["properties"]["item_type"]["enum"] == [
        "TAG", "OFFER", "SHOP", "KEYWORD"]


def test_every_route_is_in_the_document_and_every_path_is_a_route():
    assert undocumented(APP) == []
    paths = APP.test_client().get("/openapi.json").json["paths"]
    rules = [rule for rule in APP.url_map.iter_rules() if rule.endpoint not in UNDOCUMENTED]
    for path, operations in paths.items():
        for method in operations:
            served = [rule for rule in rules if route_pattern(rule).match(path) and method.upper() in rule.methods]
            assert served, f"{method.upper()} {path} is described but no route answers it"


def test_document_is_sent_compressed_and_revalidated():
    """230 KB of JSON goes out gzip or brotli to a client that takes it, and not again while it is unchanged."""
    client = APP.test_client()
    plain = client.get("/openapi.json")
    assert plain.headers["Content-Type"] == "application/json" and "Content-Encoding" not in plain.headers
    for encoding, decode in (("gzip", gzip.decompress), ("br", brotli.decompress)):
        sent = client.get("/openapi.json", headers={"Accept-Encoding": encoding})
        assert sent.headers["Content-Encoding"] == encoding and sent.headers["Vary"] == "Accept-Encoding"
        assert len(sent.data) < len(plain.data) / 5
        assert json.loads(decode(sent.data)) == plain.json
        again = client.get("/openapi.json", headers={"Accept-Encoding": encoding,
                                                      "If-None-Match": sent.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    assert client.get("/openapi.json", headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304


def test_a_route_added_without_a_description_is_found(make_app):
    app = make_app()
    app.add_url_rule("/v1/novelty/<int:number>", "novelty", lambda number: "", methods=["GET", "POST"])
    assert undocumented(app) == ["GET /v1/novelty/<int:number> (novelty)", "POST /v1/novelty/<int:number> (novelty)"]
    assert "/v1/novelty/{number}" not in app.test_client().get("/openapi.json").json["paths"]


@pytest.mark.slow
@pytest.mark.processes
@SCHEMA.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis(case):
    # Every check but positive_data_acceptance: the collector also refuses bodies by rules JSON Schema
    # 3.0 cannot state (a NUL character in an object key, nesting deeper than 32 levels, size caps on the
    # serialised event); the document describes those 400s, and each is a test in test_body.py.
    # The Data API takes the site's secret; the ingest endpoints its publishable key.
    # A Data API request with some invalid records stores the others and answers 207, as Cobi's partial
    # batches do: that is the design, not invalid data accepted (negative_data_rejection would say so).
    # DataCue's backend takes the key and the secret; its batches, like the Data API's, store the valid
    # items of a partly invalid batch (207).
    # Imports and Capillary's coupon upload take the secret too (Capillary's in its own header); an upload is
    # a job whose rows are checked later, so a file of invalid rows is accepted (202) by design.
    path = case.operation.path
    data_api, backend = path.startswith(("/v1/data/", "/v1/imports")), path.startswith(BACKEND)
    uploads = path.startswith(("/v1/imports", "/coupon/"))
    # The analysts' GETs ignore query parameters they do not know, as the other read APIs do.
    reading = path.startswith(("/v1/reports", "/v1/export"))
    # A batch of browser events or interactions stores its valid items too (207), whatever else it holds;
    # a Segment batch, as Segment's does, answers 200 with the refused listed.
    batch = isinstance(case.body, dict) and ("records" in case.body or "events" in case.body) or \
        path.startswith("/segment") and path.endswith(("/batch", "/v1/b"))
    partial = data_api or path.startswith("/v1/batch") or uploads or reading or batch
    authorization = (f"Bearer {SECRET}" if data_api else
                     "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode() if backend else f"Bearer {KEY}")
    if path.startswith("/segment"):  # the write key as the Basic user name, as Segment's SDKs send it
        authorization = "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    if path.startswith(("/v1/reports", "/v1/export")):
        authorization = f"Bearer {ANALYST}"
    headers = {"X-CAP-API-OAUTH-TOKEN": SECRET} if path.startswith("/coupon/") else {"Authorization": authorization}
    case.call_and_validate(headers=headers,
                           excluded_checks=[positive_data_acceptance, *([negative_data_rejection] if partial else [])])

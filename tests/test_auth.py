"""Key-only auth in every location, missing/unknown/revoked keys, origins, and CORS headers."""

from __future__ import annotations

import base64
import sqlite3

import pytest

from collector.clock import now_iso

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction

ENDPOINTS = [("/v1/events", make_event()), ("/user-interactions", make_interaction()),
             ("/v1/user-interactions", make_interaction())]


def _send(client, path, body, how, key, **headers):
    """Post body with the key placed the way `how` says."""
    if how == "basic":
        headers.update(basic(key))
    elif how == "bearer":
        headers.update(bearer(key))
    elif how == "query":
        path += f"?key={key}"
    return client.post(path, json=body, headers=headers)


@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
@pytest.mark.parametrize("how", ["basic", "bearer", "query"])
def test_every_key_location_is_accepted(client, key, db, path, body, how):
    response = _send(client, path, body, how, key)
    assert response.status_code in (200, 201), response.json  # a home page view is answered with its lists
    assert db("SELECT key, mode FROM events") == [{"key": key, "mode": "live"}]


@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
@pytest.mark.parametrize(("headers", "query", "status", "code"), [
    ({}, "", 401, "unauthorized"),
    ({"Authorization": "Basic " + base64.b64encode(b"live_nope:").decode()}, "", 401, "unauthorized"),
    ({"Authorization": "Bearer live_nope"}, "", 401, "unauthorized"),
    ({}, "?key=live_nope", 401, "unauthorized"),
    ({"Authorization": "Basic !!!"}, "", 401, "unauthorized"),
    ({"Authorization": "Token abc"}, "", 401, "unauthorized"),
    ({"Authorization": "Bearer"}, "", 401, "unauthorized"),
])
def test_missing_or_unknown_key_is_401(client, key, db, path, body, headers, query, status, code):
    response = client.post(path + query, json=body, headers=headers)
    assert (response.status_code, response.json["code"]) == (status, code)
    assert response.json["message"]
    assert db("SELECT count(*) AS n FROM events") == [{"n": 0}]
    assert db("SELECT count(*) AS n FROM rejected") == [{"n": 0}]  # nothing kept for strangers


def test_basic_with_a_secret_is_refused_with_a_reason(client, key):
    header = {"Authorization": "Basic " + base64.b64encode(f"{key}:secret".encode()).decode()}
    response = client.post("/v1/events", json=make_event(), headers=header)
    assert response.status_code == 401
    assert "key alone" in response.json["message"]


@pytest.mark.parametrize(("path", "body"), ENDPOINTS)
def test_revoked_key_is_403(client, key, storage, db, path, body):
    assert storage.revoke_key(key, now_iso())
    response = client.post(path, json=body, headers=basic(key))
    assert (response.status_code, response.json["code"]) == (403, "key_revoked")
    assert db("SELECT count(*) AS n FROM events") == [{"n": 0}]


@pytest.mark.parametrize(("origin", "status"), [
    (None, 200),                           # server to server
    ("https://shop.example", 200),
    ("https://SHOP.example:443", 200),
    ("https://www.shop.example", 200),      # the *. entry
    ("https://a.b.shop.example", 200),
    ("http://shop.example", 403),           # other scheme
    ("https://shop.example:8443", 403),     # other port
    ("https://evil.example", 403),
    ("https://shop.example.evil.example", 403),
    ("https://evilshop.example", 403),
    ("null", 403),
])
def test_origin_check(client, shop_key, origin, status):
    headers = {"Origin": origin} if origin else {}
    response = client.post("/v1/events", json=make_event(), headers={**basic(shop_key), **headers})
    assert response.status_code == status
    if status == 403:
        assert response.json["code"] == "origin_not_allowed"


def test_key_without_origins_accepts_any_origin(client, key):
    response = client.post("/v1/events", json=make_event(), headers={**basic(key), "Origin": "https://any.example"})
    assert response.status_code == 200


@pytest.mark.parametrize(("body", "status"), [
    (make_event(), 200), (make_event("click", "product", product_id="p1"), 204), ({"user": {}}, 400), (b"{", 400)])
def test_cors_headers_on_success_and_errors(client, shop_key, body, status):
    kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
    response = client.post("/v1/events", headers={**basic(shop_key), "Origin": "https://shop.example"}, **kwargs)
    assert response.status_code == status
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Origin" in response.headers["Vary"]


@pytest.mark.sqlite_only
def test_cors_headers_on_401_and_503(client, key, make_app, db_path):
    response = client.post("/v1/events", json=make_event(), headers={"Origin": "https://shop.example"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    locked = make_app(SQLITE_BUSY_TIMEOUT_MS=50).test_client()
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        response = locked.post("/v1/events", json=make_event(),
                               headers={**basic(key), "Origin": "https://shop.example"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert response.status_code == 503
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Retry-After" in response.headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize("path", ["/v1/events", "/user-interactions", "/v1/user-interactions"])
def test_preflight(client, path):
    response = client.options(path, headers={"Origin": "https://shop.example",
                                             "Access-Control-Request-Method": "POST",
                                             "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "authorization" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_preflight_allows_only_the_listed_headers_and_post(client):
    asked = client.options("/v1/events", headers={"Origin": "https://shop.example",
                                                  "Access-Control-Request-Method": "POST",
                                                  "Access-Control-Request-Headers": "X-Evil, Content-Encoding"})
    # Header names are case-insensitive: flask-cors answers them as asked (browsers ask in lower case).
    assert asked.headers["Access-Control-Allow-Headers"].lower() == "content-encoding"
    assert asked.headers["Access-Control-Max-Age"] == "86400"
    other_method = client.options("/v1/events", headers={"Origin": "https://shop.example",
                                                         "Access-Control-Request-Method": "DELETE"})
    assert "Access-Control-Allow-Methods" not in other_method.headers
    assert "Access-Control-Allow-Headers" not in other_method.headers


def test_cors_headers_only_on_ingest_paths_and_only_with_an_origin(client, key):
    without_origin = client.post("/v1/events", json=make_event(), headers=basic(key))
    assert without_origin.status_code == 200
    assert "Access-Control-Allow-Origin" not in without_origin.headers
    assert "Origin" in without_origin.headers["Vary"]  # a cache must not hand this answer to a page
    health = client.get("/healthz", headers={"Origin": "https://shop.example"})
    assert "Access-Control-Allow-Origin" not in health.headers

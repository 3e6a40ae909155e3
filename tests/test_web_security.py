"""Web security: every HTML page carries a strict CSP and its companions; analyst tokens and keys never
reach the log."""

from __future__ import annotations

import pytest
import requests

from collector import create_app
from collector.access import keys
from collector.access import tokens

from support.servers import Gunicorn
from support.servers import prepare_store

PAGES = ["/demo/", "/demo/index.html", "/demo/category.html", "/demo/product.html", "/demo/cart.html",
         "/demo/checkout.html", "/demo/order.html", "/demo/search.html", "/demo/spa.html", "/demo/events.html",
         "/dashboard"]


def _assert_locked_down(response, path):
    """The headers every HTML page must carry."""
    assert response.status_code == 200 and response.mimetype == "text/html", path
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
    assert response.headers["X-Content-Type-Options"] == "nosniff", path
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
    assert response.headers["X-Frame-Options"] == "DENY", path


def test_every_html_page_has_the_security_headers(make_app, storage):
    key = keys.create_key(storage, "demo", [])
    app = make_app(DEMO_KEY=key)
    client = app.test_client()
    for path in PAGES:
        _assert_locked_down(client.get(path), path)
    token = tokens.create_token(app.extensions["collector.storage"], "Ana")
    client.post("/dashboard/login", data={"token": token})
    _assert_locked_down(client.get("/dashboard?since=7d"), "/dashboard (signed in)")
    # Not HTML, still not sniffable.
    assert client.get("/t.js").headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.processes
def test_tokens_and_keys_never_reach_the_log(tmp_path):
    path = str(tmp_path / "sec.sqlite3")
    key = prepare_store(path, "shop")
    storage = create_app({"DATABASE_URL": f"sqlite:///{path}"}).extensions["collector.storage"]
    token = tokens.create_token(storage, "Ana")
    storage.close()
    log_path = tmp_path / "gunicorn.log"
    with Gunicorn(path, workers=1, log_path=str(log_path), LOG_LEVEL="DEBUG") as server:
        session = requests.Session()
        session.get(server.url + "/v1/reports/funnel", headers={"Authorization": f"Bearer {token}"}, timeout=10)
        session.get(server.url + f"/v1/reports/funnel?token={token}", timeout=10)
        session.post(server.url + "/dashboard/login", data={"token": token}, timeout=10)
        session.get(server.url + "/dashboard", timeout=10)
        session.post(server.url + "/dashboard/login", data={"token": "an_wrong_" + key}, timeout=10)
        session.post(server.url + f"/v1/events?key={key}", json={"user": {}}, timeout=10)
        session.get(server.url + f"/t.js?key={key}", timeout=10)
        session.close()
    log = log_path.read_text()
    assert "GET /v1/reports/funnel" in log  # the requests were logged...
    assert token not in log and key not in log  # ...without the secrets

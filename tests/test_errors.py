"""One JSON error shape everywhere; health and readiness."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import default_exceptions


@pytest.fixture
def failing_app(make_app):
    """An app with routes that raise every werkzeug error and an unexpected exception."""
    app = make_app()

    @app.get("/boom/<int:code>")
    def boom(code):
        raise default_exceptions[code]()

    @app.get("/bug")
    def bug():
        raise RuntimeError("secret internals")

    return app


@pytest.mark.parametrize("code", sorted(default_exceptions))
def test_every_http_error_has_the_json_shape(failing_app, code):
    response = failing_app.test_client().get(f"/boom/{code}")
    assert response.status_code == code
    assert response.is_json
    body = response.json
    assert set(body) <= {"code", "message", "errors"}
    assert isinstance(body["code"], str) and body["code"].islower() and body["message"]


def test_unexpected_failure_is_500_json_without_internals(failing_app):
    response = failing_app.test_client().get("/bug")
    assert response.status_code == 500
    assert response.json["code"] == "internal_error"
    assert "secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "status", "code"), [
    ("get", "/nowhere", 404, "not_found"),
    ("get", "/v1/events", 405, "method_not_allowed"),
    ("put", "/user-interactions", 405, "method_not_allowed"),
    ("post", "/healthz", 405, "method_not_allowed"),
])
def test_routing_errors(client, method, path, status, code):
    response = getattr(client, method)(path)
    assert (response.status_code, response.json["code"]) == (status, code)
    if status == 405:
        assert "Allow" in response.headers


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert (client.get("/readyz").status_code, client.get("/readyz").json) == (
        200, {"status": "ready", "worker_last_seen_seconds": None})  # no worker ever ran on this store

"""DataCue backend records forwarded to a DataCue upstream: its batch API, signed, through the outbox, once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections import Counter

import pytest
import requests

from support.datacue_backend import ORDER
from support.datacue_backend import PRODUCT
from support.datacue_backend import auth
from support.datacue_backend import send
from support.outbox import drain
from support.outbox import states
from support.servers import Gunicorn
from support.servers import collector_cli
from support.servers import prepare_store
from support.upstream import Upstream

UPSTREAM_KEY, UPSTREAM_SECRET = "up-key", "up-secret"


def _verified(request) -> tuple[int, dict, bytes]:
    """Answer as DataCue would: 200 when Basic KEY:hex(HMAC-SHA256(body, SECRET)) or KEY:SECRET holds, else 401."""
    user, _, password = base64.b64decode(request["headers"]["Authorization"].split()[1]).decode().partition(":")
    signed = hmac.new(UPSTREAM_SECRET.encode(), request["raw"], hashlib.sha256).hexdigest()
    good = user == UPSTREAM_KEY and (hmac.compare_digest(password, signed) or password == UPSTREAM_SECRET)
    return (200, {"Content-Type": "application/json"}, b'{"status": []}') if good else (401, {}, b"{}")


@pytest.mark.parametrize("form", ["", ":plain"])
def test_records_reach_datacues_batch_api(client, storage, key, secret, target, db, form):
    call = lambda *args: send(client, key, secret, *args)  # noqa: E731
    with Upstream(_verified) as upstream:
        target("datacue_backend", upstream, f"{UPSTREAM_KEY}:{UPSTREAM_SECRET}{form}")
        target("datacue", upstream, UPSTREAM_KEY)  # browser events only: no record goes there
        assert call("POST", "/v1/products", {**PRODUCT, "undeclared": "kept home"}).status_code == 201
        assert call("POST", "/v1/products", {**PRODUCT, "variant_id": "v2"}).status_code == 201
        assert call("DELETE", "/v1/products/p1/v2").status_code == 204
        assert call("POST", "/v1/orders", ORDER).status_code == 201
        assert call("PUT", "/v1/orders/o1", {"order_status": "cancelled"}).status_code == 204
        drain(storage)
    requests_by = Counter((r["method"], r["path"], r["json"]["type"]) for r in upstream.received)
    assert requests_by == {("POST", "/v1/batch", "products"): 1, ("DELETE", "/v1/batch", "products"): 1,
                           ("POST", "/v1/batch", "orders"): 1, ("DELETE", "/v1/batch", "orders"): 1}
    created = next(r for r in upstream.received if r["method"] == "POST" and r["json"]["type"] == "products")
    assert [p["variant_id"] for p in created["json"]["batch"]] == ["v1", "v2"]
    assert "undeclared" not in created["json"]["batch"][0] and created["json"]["batch"][0]["name"] == "cool jeans"
    deleted = next(r for r in upstream.received if r["method"] == "DELETE" and r["json"]["type"] == "products")
    assert deleted["json"]["batch"] == [{"product_id": "p1", "variant_id": "v2"}]
    assert states(db) == Counter({"delivered": 5})


def test_a_wrong_upstream_secret_is_refused_and_kept(client, storage, key, secret, target, db):
    with Upstream(_verified) as upstream:
        target("datacue_backend", upstream, f"{UPSTREAM_KEY}:wrong")
        assert send(client, key, secret, "POST", "/v1/products", PRODUCT).status_code == 201
        drain(storage)
    assert len(upstream.received) == 1 and states(db) == Counter({"dead": 1})



@pytest.mark.processes
def test_a_product_update_under_gunicorn_is_forwarded_exactly_once(tmp_path):
    path = str(tmp_path / "backend.sqlite3")
    key = prepare_store(path, "shop")
    secret = collector_cli(path, "keys", "secret", "create", key).strip()
    with Upstream(_verified) as upstream:
        collector_cli(path, "forward", "add", key, "--datacue_backend", upstream.url,
                   "--upstream-key-secret", f"{UPSTREAM_KEY}:{UPSTREAM_SECRET}")
        with Gunicorn(path, workers=2) as server:
            body = json.dumps(PRODUCT).encode()
            assert requests.post(f"{server.url}/v1/products", data=body, headers=auth(key, secret, body, True),
                                 timeout=30).status_code == 201
            update = json.dumps({"stock": 0, "available": False}).encode()
            for _ in range(2):  # a client retrying after a lost answer: the second changes nothing
                assert requests.put(f"{server.url}/v1/products/p1/v1", data=update,
                                    headers=auth(key, secret, update, True), timeout=30).status_code == 204
        collector_cli(path, "forward", "run", "--once")
        collector_cli(path, "forward", "run", "--once")
    sent = [p for r in upstream.received for p in r["json"]["batch"]]
    assert [(p["stock"], p.get("available")) for p in sent] == [(5, None), (0, False)]
    assert all(r["headers"]["Authorization"].startswith("Basic ") for r in upstream.received)
    status = collector_cli(path, "query", "--format", "json", "SELECT state, count(*) AS n FROM outbox GROUP BY state")
    assert json.loads(status) == [{"state": "delivered", "n": 2}]

"""End to end under real gunicorn: a shop's server loads its reference data, browsers interact, analysts
see names, and a Cobi upstream on loopback receives every record exactly once."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC
from datetime import datetime

import pytest
import requests

from support.dataset import BROWSER
from support.factories import bearer
from support.factories import make_interaction
from support.records import EXAMPLES
from support.records import OFFER
from support.records import SHOP
from support.records import example
from support.records import new_uuid
from support.records import secret_header
from support.servers import Gunicorn
from support.servers import collector_cli
from support.servers import prepare_store
from support.upstream import Upstream


@pytest.mark.processes
def test_reference_data_then_interactions_under_gunicorn(tmp_path):
    path, log = str(tmp_path / "data.sqlite3"), str(tmp_path / "gunicorn.log")
    key = prepare_store(path, "campus")
    secret = collector_cli(path, "keys", "secret", "create", key).strip()
    with Upstream(lambda r: (200, {"Content-Type": "application/json"}, b"{}")) as upstream:
        collector_cli(path, "forward", "add", key, "--cobi", upstream.url, "--upstream-token", "cobi-token")
        branches = [example("branches", branch_id=new_uuid(), name=f"Branch {n}") for n in range(20)]
        transactions = [example("transactions", transaction_id=new_uuid(), branch_id=...) for _ in range(300)]
        sent = {"shops": [EXAMPLES["shops"]], "branches": branches, "tags": [EXAMPLES["tags"]],
                "offers": [EXAMPLES["offers"]], "customers": [EXAMPLES["customers"]], "transactions": transactions}
        with Gunicorn(path, workers=2, log_path=log) as server, requests.Session() as session:
            for type_name, records in sent.items():
                response = session.post(f"{server.url}/v1/data/{type_name}", json={"records": records},
                                        headers=secret_header(secret), timeout=60)
                assert response.status_code == 200, response.text
                # Sent again (a client retrying after a lost answer): the same answer, nothing new.
                again = session.post(f"{server.url}/v1/data/{type_name}", json={"records": records},
                                     headers=secret_header(secret), timeout=60)
                assert again.json()["batches"][0]["data"]["counts"] == response.json()["batches"][0]["data"]["counts"]
            today = datetime.now(UTC).isoformat()
            for item_type, item_id in (("SHOP", SHOP), ("OFFER", OFFER), ("OFFER", OFFER), ("TAG", new_uuid())):
                # Sent as the tracker does, from a browser (python-requests' own agent is a bot's).
                response = session.post(f"{server.url}/user-interactions", timeout=30,
                                        headers={**bearer(key), "User-Agent": BROWSER},
                                        json=make_interaction(item_type=item_type, item_id=item_id,
                                                              event_timestamp=today))
                assert response.status_code == 201
        collector_cli(path, "forward", "run", "--once")

    offers = json.loads(collector_cli(path, "query", "--format", "json",
                                   "SELECT o.name AS offer, s.name AS shop FROM cobi_offers o "
                                   "JOIN cobi_shops s ON s.key = o.key AND s.shop_id = o.shop_id"))
    assert offers == [{"offer": "10% off textbooks", "shop": "Campus Bookstore"}]
    assert json.loads(collector_cli(path, "query", "--format", "json", "SELECT count(*) AS n FROM cobi_transactions")) \
        == [{"n": 300}]
    items = json.loads(collector_cli(path, "report", "items", "--format", "json"))
    assert [(i["item_type"], i["name"], int(i["interactions"])) for i in items] == [
        ("OFFER", "10% off textbooks", 2), ("SHOP", "Campus Bookstore", 1), ("TAG", None, 1)]

    records = Counter()
    for request in upstream.received:
        if request["path"].startswith("/v1/data/"):
            assert request["headers"]["Authorization"] == "Bearer cobi-token"
            records.update((request["path"][9:], next(v for k, v in r.items() if k.endswith("_id")))
                           for r in request["json"]["records"])
    expected = Counter((t, next(v for k, v in r.items() if k.endswith("_id"))) for t, rs in sent.items() for r in rs)
    assert records == expected and max(records.values()) == 1
    assert Counter(r["path"] for r in upstream.received)["/user-interactions"] == 4
    with open(log) as text:
        assert secret not in text.read()

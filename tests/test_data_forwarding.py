"""Reference records forwarded to a Cobi target: Cobi's Data API requests, through the outbox, exactly once."""

from __future__ import annotations

import time
from collections import Counter

from collector.schemas import cobi_data

from support.factories import bearer
from support.factories import make_interaction
from support.outbox import drain
from support.outbox import states
from support.records import EXAMPLES
from support.records import example
from support.records import new_uuid
from support.records import upload
from support.upstream import Upstream


def _records(upstream, type_name):
    return [r for request in upstream.received if request["path"] == f"/v1/data/{type_name}"
            for r in request["json"]["records"]]


def test_records_reach_cobis_data_api_in_batches_of_their_type(client, storage, key, secret, target, db):
    with Upstream(lambda r: (200, {"Content-Type": "application/json"}, b"{}")) as upstream:
        target("cobi", upstream, "cobi-token")
        shops = [example("shops", shop_id=new_uuid(), name=f"S{n}", extra_field="kept home") for n in range(250)]
        assert upload(client, secret, "shops", shops).status_code == 200
        assert upload(client, secret, "tags", [EXAMPLES["tags"]]).status_code == 200
        assert client.post("/user-interactions", json=make_interaction(), headers=bearer(key)).status_code == 201
        drain(storage, {"FORWARD_BATCH": 1000})
    paths = Counter(r["path"] for r in upstream.received)
    assert paths == {"/v1/data/shops": 1, "/v1/data/tags": 1, "/user-interactions": 1}
    request = next(r for r in upstream.received if r["path"] == "/v1/data/shops")
    assert request["headers"]["Authorization"] == "Bearer cobi-token"
    sent = _records(upstream, "shops")
    assert [s["shop_id"] for s in sent] == [s["shop_id"] for s in shops]
    # Documented fields only, as validated (times in collector form): an undeclared field stays home.
    assert sent[0] == {**{k: v for k, v in shops[0].items() if k != "extra_field"},
                       "created": "2023-01-15T14:30:00.000Z", "updated": "2023-06-22T09:15:30.000Z"}
    assert states(db) == Counter({"delivered": 252})


def test_more_records_than_one_request_holds_are_split_at_five_thousand(client, storage, key, secret, target):
    with Upstream(lambda r: (200, {}, b"{}")) as upstream:
        target("cobi", upstream)
        shops = [example("shops", shop_id=new_uuid()) for _ in range(5000)]
        upload(client, secret, "shops", shops)
        upload(client, secret, "shops", [example("shops", shop_id=new_uuid()) for _ in range(10)])
        drain(storage, {"FORWARD_BATCH": 6000}, timeout=60)
    sizes = sorted(len(r["json"]["records"]) for r in upstream.received)
    assert sizes == [10, 5000] and cobi_data.MAX_RECORDS == 5000


def test_an_upstream_outage_loses_nothing_and_sends_each_version_once(client, storage, key, secret, target, db):
    upstream = Upstream(lambda r: (200, {}, b"{}"))
    target("cobi", upstream)
    shops = [example("shops", shop_id=new_uuid()) for _ in range(30)]
    upload(client, secret, "shops", shops)
    upload(client, secret, "shops", shops)  # sent again: nothing new to forward
    drain(storage, timeout=1)  # the upstream is down
    assert states(db)["pending"] == 30
    with upstream:
        drain(storage, until=lambda: states(db)["delivered"] == 30, timeout=30)
        time.sleep(0.2)
    assert sorted(r["shop_id"] for r in _records(upstream, "shops")) == sorted(s["shop_id"] for s in shops)


def test_a_refused_record_batch_goes_dead(client, storage, key, secret, target, db):
    with Upstream(lambda r: (400, {}, b'{"error": "bad"}')) as upstream:
        target("cobi", upstream)
        upload(client, secret, "tags", [EXAMPLES["tags"]])
        drain(storage, until=lambda: states(db)["dead"] == 1)
    assert len(upstream.received) == 1 and states(db) == Counter({"dead": 1})


def test_webhooks_and_datacue_targets_take_no_records(client, storage, key, secret, target, db):
    with Upstream() as hook, Upstream() as datacue:
        target("webhook", hook)
        target("datacue", datacue)
        upload(client, secret, "shops", [EXAMPLES["shops"]])
        drain(storage)
    assert hook.received == [] and datacue.received == [] and states(db) == Counter()

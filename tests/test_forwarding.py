"""Store-and-forward against real HTTP servers on loopback: outages, refusals, Retry-After, kills, signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from collector.forward.policy import Outcome
from collector.forward.runner import Forwarder

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import new_id
from support.factories import stored_status
from support.outbox import SETTINGS
from support.outbox import drain
from support.outbox import states
from support.servers import ROOT
from support.upstream import Upstream

DOC_EVENTS = [
    {"type": "order", "subtype": "started", "order_id": "o1",
     "cart": [{"product_id": "p1", "variant": "v1", "quantity": 1, "price": 24, "currency": "USD"}]},
    {"type": "order", "subtype": "completed", "order_id": "o1", "payment_method": "",
     "cart": [{"product_id": "p1", "variant_id": "v1", "quantity": 1, "unit_price": 24, "currency": "USD"}]},
    {"type": "viewcart", "cart": [{"product_id": "p1", "variant_id": "v1"}, {"product_id": "p2", "variant_id": "v1"}]},
    {"type": "pageview", "subtype": "product", "product_id": "p1", "variant_id": "v1"},
    {"type": "click", "subtype": "banner", "banner_id": "b1"},
    {"type": "login"},
]


def test_datacue_bodies_match_the_docs_field_for_field(client, key, storage, target):
    user = {"user_id": "019mr8mf4r", "profile": {"sex": "female", "location": "Santiago", "segment": "platinum"}}
    with Upstream() as upstream:
        target("datacue", upstream, "dc-key")
        for event in DOC_EVENTS:
            body = {"user": user, "event": event, "context": {"user_agent": "Mozilla/5.0 Test"}}
            assert client.post("/v1/events", json=body, headers=basic(key),
                               environ_base={"REMOTE_ADDR": "12.34.56.78"}).status_code == stored_status(body)
        # This collector's extensions: a page that is none of DataCue's, a widget's impression, a click
        # naming the list it came from (sent as DataCue's click).
        client.post("/v1/events", json=make_event("pageview", "page"), headers=basic(key))
        client.post("/v1/events", json=make_event("impression", "products", list="related", ids=["p1"]),
                    headers=basic(key))
        client.post("/v1/events", json={**body, "event": {"type": "click", "subtype": "product", "product_id": "p7",
                                                          "list": "similar"}}, headers=basic(key))
        drain(storage)
    assert len(upstream.received) == len(DOC_EVENTS) + 1, "the pageview/page and impression extensions are not sent"
    clicked = [r["json"]["event"] for r in upstream.received if r["json"]["event"].get("product_id") == "p7"]
    assert clicked == [{"type": "click", "subtype": "product", "product_id": "p7"}], "without the widget's list"
    upstream.received = [r for r in upstream.received if r["json"]["event"].get("product_id") != "p7"]
    # Sent concurrently, so matched regardless of order: each docs event arrived exactly as the docs spell
    # it (as JSON values: 24 and 24.0 are the same number).
    arrived = [r["json"]["event"] for r in upstream.received]
    for event in DOC_EVENTS:
        assert event in arrived
        arrived.remove(event)
    for request in upstream.received:
        assert request["path"] == "/v1/events"
        assert request["headers"]["Authorization"] == "Basic " + base64.b64encode(b"dc-key:").decode()
        body = request["json"]
        assert set(body) == {"user", "event", "context", "timestamp"}
        assert body["user"] == user
        assert body["context"] == {"ip": "12.34.56.0", "user_agent": "Mozilla/5.0 Test"}
        assert body["timestamp"].endswith("Z")


def test_cobi_bodies_match_the_docs_field_for_field(client, key, storage, target):
    record = {"interaction_type": "DISCOUNT_CODE", "user_id": "pseudo-42", "student_id": new_id(),
              "item_type": "OFFER", "item_id": new_id(), "city": "Toronto", "country": "CA", "platform": "WEB",
              "event_timestamp": "2024-11-24T00:00:00.000Z", "source": "COBI", "recommendation_id": new_id()}
    with Upstream(lambda r: (201, {"Content-Type": "application/json"}, b"{}")) as upstream:
        target("cobi", upstream, "cobi-token")
        sent = dict(record, event_id=new_id(), anonymous_id="anon-9", context={"page_url": "https://shop.example/"})
        assert client.post("/user-interactions", json=sent, headers=bearer(key)).status_code == 201
        anonymous = make_interaction(anonymous_id="anon-7", event_timestamp=1732406400)
        assert client.post("/user-interactions", json=anonymous, headers=bearer(key)).status_code == 201
        client.post("/v1/events", json=make_event(), headers=basic(key))  # DataCue events do not go to Cobi
        drain(storage)
    first, second = sorted(upstream.received, key=lambda r: r["json"]["interaction_type"] != "DISCOUNT_CODE")
    assert first["path"] == "/user-interactions"
    assert first["headers"]["Authorization"] == "Bearer cobi-token"
    assert first["json"] == record  # documented fields only: no event_id, anonymous_id or context
    assert second["json"]["user_id"] == "anon-7"  # the anonymous id is the pseudo id when no user id
    assert second["json"]["event_timestamp"] == "2024-11-24T00:00:00.000Z"


def test_webhook_signatures_verify_with_an_independent_implementation(client, key, storage, target):
    secret = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
    with Upstream() as upstream:
        target("webhook", upstream, secret)
        ids = [new_id() for _ in range(3)]
        client.post("/v1/events", json={"events": [make_event(env_event_id=i) for i in ids[:2]]}, headers=basic(key))
        client.post("/user-interactions", json=make_interaction(event_id=ids[2]), headers=bearer(key))
        drain(storage)
    [request] = upstream.received
    headers = request["headers"]
    # Standard Webhooks: sign "{id}.{timestamp}.{body}" with the base64-decoded secret, HMAC-SHA256.
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + request["raw"]
    expected = base64.b64encode(hmac.new(base64.b64decode(secret[6:]), signed, hashlib.sha256).digest()).decode()
    assert expected in [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ") if s.startswith("v1,")]
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    events = request["json"]["data"]["events"]
    assert sorted(e["event_id"] for e in events) == sorted(ids)
    assert {e["source"] for e in events} == {"datacue", "cobi"}
    tampered = request["raw"].replace(b"datacue", b"datacuE")
    forged = base64.b64encode(hmac.new(base64.b64decode(secret[6:]), signed.replace(request["raw"], tampered),
                                       hashlib.sha256).digest()).decode()
    assert forged != expected


def test_upstream_down_during_ingest_then_everything_delivered_once(client, key, storage, target, db):
    upstream = Upstream()
    target("datacue", upstream)
    forwarder = Forwarder(storage, SETTINGS)
    ids = []
    for i in range(30):  # the upstream is down: ingest goes on, the forwarder keeps failing
        ids.append(new_id())
        last = make_event(env_event_id=ids[-1])
        assert client.post("/v1/events", json=last, headers=basic(key)).status_code == stored_status(last)
        if i % 10 == 0:
            forwarder.step()
    assert client.get("/readyz").status_code == 200  # an upstream outage never makes the collector unready
    assert states(db)["pending"] == 30 and db("SELECT max(attempts) AS n FROM outbox")[0]["n"] >= 1
    with upstream:
        drain(storage, until=lambda: states(db)["delivered"] == 30, timeout=60)
        time.sleep(0.3)
        received = upstream.event_ids()
    forwarder.close()
    assert sorted(received) == sorted(ids)
    assert states(db) == Counter({"delivered": 30})


def test_refused_events_go_to_dead_the_rest_are_delivered(client, key, storage, target, db):
    def answer(request):
        if request["json"]["event"].get("term") == "bad":
            return 400, {}, b'{"error": "term not allowed"}'
        return 204, {}, b""

    with Upstream(answer) as upstream:
        target("datacue", upstream)
        for term in ("good", "bad", "fine", "bad"):
            client.post("/v1/events", json=make_event("search", None, term=term), headers=basic(key))
        drain(storage)
    assert states(db) == Counter({"delivered": 2, "dead": 2})
    dead = db("SELECT last_status, last_error FROM outbox WHERE state = 'dead'")
    assert all(r["last_status"] == 400 and "term not allowed" in r["last_error"] for r in dead)
    assert len(upstream.received) == 4  # a 400 is not retried


def test_retry_after_is_respected(client, key, storage, target, db):
    def answer(request):
        if len(upstream.received) == 1:
            return 503, {"Retry-After": "2"}, b"busy"
        return 204, {}, b""

    upstream = Upstream(answer)
    with upstream:
        target("datacue", upstream)
        client.post("/v1/events", json=make_event(), headers=basic(key))
        drain(storage, until=lambda: states(db)["delivered"] == 1, timeout=15)
    first, second = upstream.received
    assert second["time"] - first["time"] >= 2.0
    assert first["headers"]["Idempotency-Key"] == second["headers"]["Idempotency-Key"]


@pytest.mark.slow
def test_429_and_5xx_and_timeouts_are_retried(client, key, storage, target, db):
    answers = iter([(429, {}, b""), (500, {}, b""), (502, {}, b""), (408, {}, b""), (204, {}, b"")])
    with Upstream(lambda request: next(answers)) as upstream:
        target("datacue", upstream)
        client.post("/v1/events", json=make_event(), headers=basic(key))
        drain(storage, until=lambda: states(db)["delivered"] == 1, timeout=60)
    assert len(upstream.received) == 5
    assert db("SELECT attempts, last_status FROM outbox") == [{"attempts": 4, "last_status": 204}]


def test_rows_older_than_the_maximum_age_die(client, key, storage, target, db):
    upstream = Upstream()  # never started: every attempt fails
    target("datacue", upstream)
    client.post("/v1/events", json=make_event(), headers=basic(key))
    db("UPDATE outbox SET created_at = created_at - 73 * 3600")
    drain(storage, timeout=2)
    assert db("SELECT state, last_error FROM outbox") == [
        {"state": "dead", "last_error": "expired: older than the maximum age"}]


def test_a_key_that_only_relays(client, key, storage, target, db):
    with Upstream() as upstream:
        target("datacue", upstream)
        storage.set_store(key, False)
        body = make_event(env_event_id=new_id())
        for _ in range(2):
            assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
        drain(storage)
    assert db("SELECT count(*) AS n FROM events") == [{"n": 0}]
    assert upstream.event_ids() == [body["event_id"]]  # the repeat is acknowledged, not relayed twice


def _forwarder_process(database_url: str, **settings) -> subprocess.Popen:
    """`collector forward run` as its own process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env.update({f"COLLECTOR_{k}": str(v) for k, v in {**SETTINGS, **settings}.items()})
    env["COLLECTOR_DATABASE_URL"] = database_url
    return subprocess.Popen([sys.executable, "-m", "collector.cli", "forward", "run"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def slow(seconds: float):
    """An upstream answer: 204 after a pause, so deliveries overlap a kill or a second forwarder."""

    def answer(request):
        time.sleep(seconds)
        return 204, {}, b""

    return answer


def wait_delivered(db, count: int, timeout: float = 60) -> None:
    """Wait until count outbox rows are delivered."""
    deadline = time.monotonic() + timeout
    while states(db)["delivered"] < count and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.processes
def test_forwarder_killed_mid_batch_then_restarted(client, key, storage, target, db, database_url):
    with Upstream(slow(0.05)) as upstream:
        target("datacue", upstream)
        ids = [new_id() for _ in range(60)]
        for i in range(0, 60, 20):
            client.post("/v1/events", json={"events": [make_event(env_event_id=e) for e in ids[i:i + 20]]},
                        headers=basic(key))
        process = _forwarder_process(database_url, FORWARD_BATCH=10, FORWARD_CONCURRENCY=2, FORWARD_LEASE_SECONDS=1)
        deadline = time.monotonic() + 30
        while len(upstream.received) < 15 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert process.poll() is None, process.communicate()[1].decode()
        process.send_signal(signal.SIGKILL)
        process.communicate()
        killed_at = len(upstream.received)
        restarted = _forwarder_process(database_url, FORWARD_LEASE_SECONDS=1)
        wait_delivered(db, 60)
        restarted.send_signal(signal.SIGTERM)
        restarted.communicate(timeout=30)
        assert restarted.returncode == 0
        received = Counter(upstream.event_ids())
    assert set(received) == set(ids), "every event delivered at least once"
    duplicates = [event_id for event_id, n in received.items() if n > 1]
    print(f"\nkilled after {killed_at} deliveries; {len(duplicates)} duplicates (batch size 10)")
    assert len(duplicates) <= 10, "duplicates only for the batch in flight"
    assert states(db) == Counter({"delivered": 60})


@pytest.mark.processes
def test_two_forwarders_never_send_the_same_row(client, key, storage, target, db, database_url):
    with Upstream(slow(0.01)) as upstream:
        target("datacue", upstream)
        target("webhook", upstream, "whsec_" + base64.b64encode(b"k" * 32).decode())
        for _ in range(10):
            client.post("/v1/events", json={"events": [make_event(env_event_id=new_id()) for _ in range(20)]},
                        headers=basic(key))
        processes = [_forwarder_process(database_url, FORWARD_BATCH=15) for _ in range(2)]
        wait_delivered(db, 400)
        for process in processes:
            process.send_signal(signal.SIGTERM)
        logs = [p.communicate(timeout=30)[1].decode() for p in processes]
        assert [p.returncode for p in processes] == [0, 0]
        received = Counter(upstream.event_ids())
    assert states(db) == Counter({"delivered": 400})
    assert len(received) == 200 and set(received.values()) == {2}  # once per target, never twice
    assert all("forward target=" in log for log in logs), "both forwarders took part"


def test_cli_targets_and_outbox(client, key, storage, db, database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COLLECTOR_")}
    env["COLLECTOR_DATABASE_URL"] = database_url

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "collector.cli", *args], env=env, capture_output=True,
                              text=True, timeout=60)

    added = cli("forward", "add", key, "--webhook", "http://127.0.0.1:9/hook")
    assert added.returncode == 0 and added.stdout.strip().isdigit() and "whsec_" in added.stderr
    dc = cli("forward", "add", key, "--datacue", "http://127.0.0.1:9", "--upstream-key", "dc-secret-key")
    assert dc.returncode == 0
    assert cli("forward", "add", key, "--datacue", "http://x").returncode != 0  # no upstream key
    listing = cli("forward", "list").stdout
    assert "webhook" in listing and "datacue" in listing and "dc-secret-key" not in listing
    client.post("/v1/events", json=make_event(), headers=basic(key))
    storage.claim("t", 10, 0, time.time(), 3600)
    conn_rows = db("SELECT id FROM outbox")
    storage.finish("t", [(r["id"], Outcome("dead", status=400, error="no")) for r in conn_rows], time.time())
    status = cli("outbox", "status").stdout
    assert "dead" in status
    retried = cli("outbox", "retry", "--target", dc.stdout.strip())
    assert "1 rows queued again" in retried.stderr
    assert states(db) == Counter({"pending": 1, "dead": 1})
    assert cli("forward", "remove", dc.stdout.strip()).returncode == 0
    assert "datacue" not in cli("forward", "list").stdout


def test_a_round_sends_each_target_its_events_together(client, key, storage, target, db):
    with Upstream() as upstream:
        target("datacue", upstream)
        target("webhook", upstream, "whsec_" + base64.b64encode(b"k" * 32).decode())
        client.post("/v1/events", json={"events": [make_event() for _ in range(30)]}, headers=basic(key))
        drain(storage)
    webhooks = [r for r in upstream.received if "webhook-id" in r["headers"]]
    assert [len(r["json"]["data"]["events"]) for r in webhooks] == [30]  # one signed batch, not 30
    assert len(upstream.received) == 31

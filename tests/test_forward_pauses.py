"""A forward target as a whole backs off: an upstream that answers 429/503 or keeps failing sees about one
probe per interval, not one request per pending row; the pause is stored with the target, so a restarted
forwarder and a second forwarder honour it; other targets keep flowing; targets subscribe to sources and
event types."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from collector.forward.runner import Forwarder

from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import new_id
from support.factories import post_event
from support.outbox import SETTINGS
from support.outbox import states
from support.upstream import Upstream


def _outage(status: int, seconds: float, retry_after: str | None = "1"):
    """An upstream's answer: `status` (with Retry-After) until `seconds` after the first request, then 204."""
    started: list[float] = []

    def answer(request):
        started.append(request["time"]) if not started else None
        if request["time"] - started[0] < seconds:
            return status, ({"Retry-After": retry_after} if retry_after else {}), b"busy"
        return 204, {}, b""

    return answer


def _post(client, key, count: int) -> list[str]:
    """Store `count` events for the key; their ids."""
    events = [make_event(env_event_id=new_id()) for _ in range(count)]
    post_event(client, key, {"events": events}, status=200)
    return [event["event_id"] for event in events]


class _Running:
    """A forwarder (the default concurrency of 8) draining in a thread until stopped."""

    def __init__(self, storage):
        """Start it."""
        self.forwarder = Forwarder(storage, {**SETTINGS, "FORWARD_CONCURRENCY": 8})
        self.thread = threading.Thread(target=self.forwarder.run, kwargs={"signals": False, "idle": 0.05})
        self.thread.start()

    def stop(self) -> None:
        """Stop it and wait for it to release what it holds."""
        self.forwarder.stopping.set()
        self.thread.join(timeout=30)


@pytest.mark.parametrize("status", [503, 429])
def test_an_outage_sees_one_probe_a_second_and_every_event_once_after(client, key, storage, target, db, status):
    down = Upstream(_outage(status, 4.0)).start()
    healthy = Upstream().start()
    target("datacue", down)
    target("datacue", healthy)
    ids = _post(client, key, 120)
    running = _Running(storage)
    try:
        deadline = time.monotonic() + 60
        while states(db)["delivered"] < 240 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        running.stop()
        down.stop()
        healthy.stop()
    first = down.received[0]["time"]
    during = [r for r in down.received if r["time"] - first < 4.0]
    after = [r for r in down.received if r["time"] - first >= 4.0]
    print(f"{status}: {len(during)} requests during the 4 s outage, {len(after)} after")
    assert 2 <= len(during) <= 8, f"{len(during)} requests during the outage"
    delivered = [r["headers"]["Idempotency-Key"] for r in after]
    assert sorted(delivered) == sorted(ids)  # every event once after the outage, none twice
    # The healthy target drained while the other was paused.
    assert sorted(healthy.event_ids()) == sorted(ids)
    assert max(r["time"] for r in healthy.received) - first < 4.0
    assert states(db) == Counter({"delivered": 240})
    assert db("SELECT failures, paused_until, paused_reason FROM forward_targets") == [
        {"failures": 0, "paused_until": None, "paused_reason": None}] * 2


def test_a_pause_survives_a_restart_and_binds_every_forwarder(client, key, storage, target, db):
    with Upstream(lambda request: (503, {"Retry-After": "30"}, b"maintenance")) as upstream:
        target_id = target("datacue", upstream)
        _post(client, key, 20)
        first = Forwarder(storage, SETTINGS)
        first.step()
        first.close()
        assert len(upstream.received) == 1  # one request, then the whole target waits
        [paused] = storage.paused_targets(time.time())
        assert paused["target_id"] == target_id and 28 < paused["paused_until"] - time.time() <= 30
        assert paused["paused_reason"] == "503, Retry-After 30 s"
        # A forwarder started afterwards, and another beside it: neither sends while the pause lasts.
        restarted, second = Forwarder(storage, SETTINGS), Forwarder(storage, SETTINGS)
        assert restarted.step() == 0 and second.step() == 0
        assert len(upstream.received) == 1
        # The pause over, exactly one of them probes: one row, one request.
        db("UPDATE forward_targets SET paused_until = ?", (time.time() - 1,))
        assert restarted.step() + second.step() == 1
        assert len(upstream.received) == 2
        restarted.close()
        second.close()
    assert states(db) == Counter({"pending": 20})


def test_a_run_of_failures_pauses_the_target_and_success_resumes_it(client, key, storage, target, db):
    failing = [True]
    with Upstream(lambda request: (500, {}, b"oops") if failing[0] else (204, {}, b"")) as upstream:
        target("datacue", upstream)
        _post(client, key, 50)
        forwarder = Forwarder(storage, SETTINGS)
        for _ in range(3):  # each round stops at its first failure
            forwarder.step()
        assert len(upstream.received) == 3
        [paused] = storage.paused_targets(time.time())
        assert paused["failures"] == 3 and paused["paused_reason"] == "3 failed rounds, last: status 500"
        assert forwarder.step() == 0 and len(upstream.received) == 3
        failing[0] = False
        db("UPDATE forward_targets SET paused_until = ?", (time.time() - 1,))
        deadline = time.monotonic() + 30
        while states(db)["delivered"] < 50 and time.monotonic() < deadline:  # the failed rows after their back-off
            forwarder.step()
            time.sleep(0.05)
        forwarder.close()
    assert states(db) == Counter({"delivered": 50})
    assert storage.paused_targets(time.time()) == []
    assert db("SELECT failures FROM forward_targets") == [{"failures": 0}]


def test_outbox_status_shows_a_paused_target(client, key, storage, target, db, cli):
    with Upstream(lambda request: (429, {"Retry-After": "120"}, b"slow down")) as upstream:
        target("datacue", upstream)
        _post(client, key, 3)
        forwarder = Forwarder(storage, SETTINGS)
        forwarder.step()
        forwarder.close()
    shown = cli("outbox", "status").stdout
    assert "paused targets" in shown and "429, Retry-After 120 s" in shown and upstream.url in shown


def test_subscriptions_from_the_command_line(key, db, cli):
    cli("forward", "add", key, "--webhook", "http://127.0.0.1:9/hook", "--types", "order,checkout",
        "--sources", "datacue")
    assert db("SELECT sources, types FROM forward_targets") == [{"sources": "datacue", "types": "order,checkout"}]
    listing = cli("forward", "list").stdout
    assert "order,checkout" in listing
    assert cli("forward", "add", key, "--webhook", "http://x", "--types", " , ", check=False).returncode == 2


def test_targets_subscribe_to_sources_and_types(client, key, storage, db):
    with Upstream() as upstream:
        orders = storage.add_target(key, "webhook", upstream.url, "whsec_x", "2026-01-01T00:00:00.000Z",
                                    types=["order"])
        cobi = storage.add_target(key, "webhook", upstream.url, "whsec_x", "2026-01-01T00:00:00.000Z",
                                  sources=["cobi"])
        every = storage.add_target(key, "webhook", upstream.url, "whsec_x", "2026-01-01T00:00:00.000Z")
        order = make_event("order", "completed", env_event_id=new_id(), order_id="o1", payment_method="", cart=[
            {"product_id": "p1", "variant_id": "v1", "quantity": 1, "unit_price": 24, "currency": "USD"}])
        events = [make_event("pageview", "home", env_event_id=new_id()), order,
                  make_event("search", None, term="shoes", env_event_id=new_id())]
        post_event(client, key, {"events": events}, status=200)
        assert client.post("/user-interactions", json=make_interaction(), headers=bearer(key)).status_code == 201
    queued = Counter((r["target_id"], r["source"]) for r in db("SELECT target_id, source FROM outbox"))
    assert queued == Counter({(orders, "datacue"): 1, (cobi, "cobi"): 1, (every, "datacue"): 3, (every, "cobi"): 1})
    [queued_order] = db("SELECT event_id FROM outbox WHERE target_id = ?", (orders,))
    assert queued_order["event_id"] == order["event_id"]

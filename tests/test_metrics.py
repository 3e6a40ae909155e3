"""/metrics: Prometheus' text format, read back with prometheus_client's own parser; each counter moves by
exactly what the test sent; refused without the metrics token; every gunicorn worker counted."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from collector.access import keys
from collector.clock import now_iso
from collector.errors import StorageError
from collector.forward.runner import Forwarder

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.factories import make_interaction
from support.factories import new_id
from support.factories import stored_status
from support.outbox import SETTINGS
from support.servers import ROOT
from support.servers import Gunicorn
from support.servers import prepare_store
from support.upstream import Upstream

TOKEN = "mt_" + "s" * 32
SCRAPE = {"Authorization": f"Bearer {TOKEN}"}


def samples(text: str) -> dict[tuple, float]:
    """Every sample of an exposition, as {(name, sorted labels): value}, parsed by prometheus_client."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict, name: str, **labels) -> float:
    """One sample's value (0 when absent: a counter not yet counted)."""
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: dict, after: dict) -> dict[tuple, float]:
    """The samples whose value changed, by how much."""
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v != before.get(k, 0.0)}


@pytest.fixture
def metrics_app(make_app):
    """An app with the metrics token set and a tight per-key rate limit."""
    return make_app(METRICS_TOKEN=TOKEN, RATE_LIMIT_PER_KEY="7/minute")


def test_metrics_need_the_token(make_app):
    assert make_app().test_client().get("/metrics").status_code == 404  # off without a token
    client = make_app(METRICS_TOKEN=TOKEN).test_client()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        answer = client.get("/metrics", headers=headers)
        assert answer.status_code == 401 and answer.json["code"] == "unauthorized"
        assert TOKEN not in answer.get_data(as_text=True)
    assert client.get("/metrics", headers=SCRAPE).status_code == 200


def test_counters_move_by_exactly_what_was_sent(metrics_app):
    client = metrics_app.test_client()
    key = keys.create_key(metrics_app.extensions["collector.storage"], "shop", [])
    before = samples(client.get("/metrics", headers=SCRAPE).get_data(as_text=True))
    repeated = make_event(env_event_id=new_id())
    sent = [make_event(env_event_id=new_id()), make_event("search", None, term="boots", env_event_id=new_id()),
            repeated, repeated]
    for body in sent:
        assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    assert client.post("/v1/events", json={"event": {"type": "pageview"}}, headers=basic(key)).status_code == 400
    assert client.post("/user-interactions", json=make_interaction(), headers=bearer(key)).status_code == 201
    assert client.post("/v1/events", data=b"{not json", headers=basic(key)).status_code == 400
    assert client.post("/v1/events", json=make_event(), headers=basic(key)).status_code == 429  # the 8th this minute
    after = samples(client.get("/metrics", headers=SCRAPE).get_data(as_text=True))
    change = moved(before, after)
    assert value(change, "collector_events_total", source="datacue", type="pageview", outcome="accepted") == 2
    assert value(change, "collector_events_total", source="datacue", type="search", outcome="accepted") == 1
    assert value(change, "collector_events_total", source="datacue", type="pageview", outcome="duplicate") == 1
    assert value(change, "collector_events_total", source="cobi", type="interaction", outcome="accepted") == 1
    assert value(change, "collector_rejected_total", source="datacue", reason="invalid_event") == 1
    assert value(change, "collector_rejected_total", source="datacue", reason="malformed_json") == 1
    assert value(change, "collector_rate_limited_total", scope="key") == 1
    assert value(change, "collector_requests_total", family="datacue", status="2xx") == 4
    assert value(change, "collector_requests_total", family="datacue", status="4xx") == 3
    assert value(change, "collector_requests_total", family="cobi", status="2xx") == 1
    assert value(change, "collector_request_duration_seconds_count", family="datacue") == 7
    assert value(change, "collector_requests_total", family="metrics", status="2xx") == 1  # the first scrape
    assert value(after, "collector_build_info", version=value_of(after, "collector_build_info", "version"),
                 python=value_of(after, "collector_build_info", "python")) == 1


def value_of(found: dict, name: str, label: str) -> str:
    """A label's value on the one sample of a metric."""
    [labels] = [dict(k[1]) for k in found if k[0] == name]
    return labels[label]


def test_storage_failures_are_counted(metrics_app, monkeypatch):
    client = metrics_app.test_client()
    store = metrics_app.extensions["collector.storage"]
    key = keys.create_key(store, "shop", [])
    before = samples(client.get("/metrics", headers=SCRAPE).get_data(as_text=True))

    def fail(*args, **kwargs):
        raise StorageError("database unavailable: disk I/O error")

    monkeypatch.setattr(store, "write", fail)
    for _ in range(2):
        assert client.post("/v1/events", json=make_event(), headers=basic(key)).status_code == 503
    monkeypatch.undo()
    change = moved(before, samples(client.get("/metrics", headers=SCRAPE).get_data(as_text=True)))
    assert value(change, "collector_storage_unavailable_total") == 2
    assert value(change, "collector_requests_total", family="datacue", status="5xx") == 2


def test_the_outbox_paused_targets_and_forward_attempts(metrics_app, db):
    client = metrics_app.test_client()
    store = metrics_app.extensions["collector.storage"]
    key = keys.create_key(store, "shop", [])
    with Upstream(lambda request: (503, {"Retry-After": "60"}, b"down")) as down, Upstream() as up:
        paused = store.add_target(key, "datacue", down.url, "k", now_iso())
        healthy = store.add_target(key, "datacue", up.url, "k", now_iso())
        for _ in range(3):
            client.post("/v1/events", json=make_event(env_event_id=new_id()), headers=basic(key))
        before = samples(client.get("/metrics", headers=SCRAPE).get_data(as_text=True))
        assert value(before, "collector_outbox_rows", target=str(paused), kind="datacue", state="pending") == 3
        assert value(before, "collector_outbox_oldest_pending_seconds", target=str(paused), kind="datacue") >= 0
        forwarder = Forwarder(store, SETTINGS)
        for _ in range(3):
            forwarder.step()
        forwarder.close()
    after = samples(client.get("/metrics", headers=SCRAPE).get_data(as_text=True))
    change = moved(before, after)
    assert value(change, "collector_forward_attempts_total", target=str(healthy), kind="datacue",
                 result="delivered") == 3
    assert value(change, "collector_forward_attempts_total", target=str(paused), kind="datacue", result="retry") == 1
    assert value(change, "collector_forward_attempts_total", target=str(paused), kind="datacue", result="held") == 2
    assert 55 < value(after, "collector_forward_paused_seconds", target=str(paused), kind="datacue") <= 60
    assert value(after, "collector_forward_paused_seconds", target=str(healthy), kind="datacue") == 0
    assert value(after, "collector_outbox_rows", target=str(paused), kind="datacue", state="pending") == 3
    assert value(after, "collector_outbox_rows", target=str(healthy), kind="datacue", state="pending") == 0


@pytest.mark.slow
@pytest.mark.processes
def test_every_gunicorn_worker_and_the_forwarder_are_counted(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_999999.db").write_bytes(b"")  # a process long gone: cleared at start
    path = str(tmp_path / "collector.sqlite3")
    key = prepare_store(path, "shop")
    server = Gunicorn(path, workers=3, METRICS_TOKEN=TOKEN)
    server.env["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    with server, Upstream() as upstream:
        env = {**server.env}
        subprocess.run([sys.executable, "-m", "collector.cli", "forward", "add", key, "--datacue", upstream.url,
                        "--upstream-key", "k"], env=env, cwd=ROOT, check=True, capture_output=True)
        time.sleep(6)  # the workers' key cache (5 s) learns of the target
        assert not (folder / "counter_999999.db").exists()
        for _ in range(60):  # fresh connections, so that every worker takes some
            answer = requests.post(f"{server.url}/v1/events", json=make_event(env_event_id=new_id()),
                                   headers=basic(key), timeout=10)
            assert answer.status_code == 200  # a home page view, answered with its lists
        subprocess.run([sys.executable, "-m", "collector.cli", "forward", "run", "--once"], env=env, cwd=ROOT,
                       check=True, capture_output=True, timeout=60)
        pids = {name.split("_")[-1] for name in os.listdir(folder)}
        found = samples(requests.get(f"{server.url}/metrics", headers=SCRAPE, timeout=10).text)
    assert len(pids) >= 3, f"metric files of {sorted(pids)}"  # workers (and the forwarder) wrote their own
    assert value(found, "collector_events_total", source="datacue", type="pageview", outcome="accepted") == 60
    assert value(found, "collector_requests_total", family="datacue", status="2xx") == 60
    assert value(found, "collector_forward_attempts_total", target="1", kind="datacue", result="delivered") == 60
    assert len(upstream.event_ids()) == 60

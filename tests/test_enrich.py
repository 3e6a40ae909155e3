"""Enrichment: clock-skew correction, IP truncation, trusted proxies, user agent."""

from __future__ import annotations

import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from collector.clock import event_time
from collector.ingest.rows import stored_ip

from support.factories import basic
from support.factories import make_event
from support.factories import stored_status

T0 = datetime(2026, 11, 24, 12, 0, 0, tzinfo=UTC)


def _parse(text: str) -> datetime:
    """Read a stored time."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize(("sent_at", "client_ts", "expected"), [
    (None, None, T0),                                                   # nothing from the client
    (T0 + timedelta(hours=1), T0 + timedelta(minutes=59), T0 - timedelta(minutes=1)),  # clock 1 h fast
    (T0 - timedelta(hours=3), T0 - timedelta(hours=3, seconds=5), T0 - timedelta(seconds=5)),  # 3 h slow
    (T0, T0 + timedelta(seconds=30), T0),                               # timestamp after sent_at: clamped
    (None, T0 - timedelta(days=30), T0 - timedelta(days=30)),           # historical, no sent_at
    (None, T0 + timedelta(days=1), T0),                                 # future: clamped
])
def test_event_time_skew_correction(sent_at, client_ts, expected):
    assert event_time(T0, sent_at, client_ts) == expected


def test_skew_is_corrected_end_to_end(client, key, db):
    fast = datetime.now(UTC) + timedelta(hours=2)  # the visitor's clock is two hours ahead
    events = [make_event(env_timestamp=(fast - timedelta(seconds=s)).isoformat()) for s in (0, 10, 60)]
    response = client.post("/v1/events", json={"sent_at": fast.isoformat(), "events": events}, headers=basic(key))
    assert response.status_code == 200
    for row, seconds in zip(db("SELECT * FROM events ORDER BY id"), (0, 10, 60), strict=True):
        lag = _parse(row["received_at"]) - _parse(row["event_time"])
        assert abs(lag.total_seconds() - seconds) < 0.002
        assert _parse(row["client_ts"]) > _parse(row["received_at"])  # the raw client time is kept too
        assert row["sent_at"] is not None


def test_event_time_is_never_in_the_future(client, key, db):
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    body = make_event(env_timestamp=future)
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    [row] = db("SELECT received_at, event_time FROM events")
    assert row["event_time"] == row["received_at"]


@pytest.mark.parametrize(("raw", "policy", "stored"), [
    ("203.0.113.77", "truncate", "203.0.113.0"),
    ("2001:db8:abcd:12:34::1", "truncate", "2001:db8:abcd::"),
    ("::ffff:198.51.100.9", "truncate", "198.51.100.0"),
    ("203.0.113.77", "full", "203.0.113.77"),
    ("203.0.113.77", "none", None),
    ("not-an-ip", "truncate", None),
    (None, "truncate", None),
])
def test_ip_policies(raw, policy, stored):
    assert stored_ip(raw, policy, 24, 48) == stored


@pytest.mark.parametrize(("settings", "remote", "forwarded", "stored"), [
    ({}, "203.0.113.77", None, "203.0.113.0"),
    ({}, "203.0.113.77", "198.51.100.9", "203.0.113.0"),            # untrusted header ignored
    ({"TRUSTED_PROXIES": 1}, "10.0.0.1", "198.51.100.9", "198.51.100.0"),
    ({"TRUSTED_PROXIES": 1}, "10.0.0.1", "6.6.6.6, 198.51.100.9", "198.51.100.0"),  # spoofed entry skipped
    ({"TRUSTED_PROXIES": 2}, "10.0.0.1", "6.6.6.6, 198.51.100.9, 10.0.0.2", "198.51.100.0"),
    ({"IP_STORAGE": "full"}, "203.0.113.77", None, "203.0.113.77"),
    ({"IP_STORAGE": "none"}, "203.0.113.77", None, None),
    ({"IPV4_PREFIX": 16}, "203.0.113.77", None, "203.0.0.0"),
    ({}, "2001:db8:abcd:12:34::1", None, "2001:db8:abcd::"),
])
def test_client_ip_from_socket_or_trusted_proxies(make_app, key, db, settings, remote, forwarded, stored):
    client = make_app(**settings).test_client()
    headers = {**basic(key), "User-Agent": "TestBrowser/1.0"}
    if forwarded:
        headers["X-Forwarded-For"] = forwarded
    response = client.post("/v1/events", json=make_event(), headers=headers,
                           environ_base={"REMOTE_ADDR": remote})
    assert response.status_code == 200  # a home page view, answered with its lists
    assert db("SELECT ip, user_agent FROM events") == [{"ip": stored, "user_agent": "TestBrowser/1.0"}]


def test_context_ip_is_truncated_in_the_payload_too(client, key, db):
    body = make_event(env_context={"ip": "12.34.56.78", "page_url": "https://shop.example/p/1",
                                   "referrer": "https://search.example/", "session_id": "s1"})
    assert client.post("/v1/events", json=body, headers=basic(key)).status_code == stored_status(body)
    [row] = db("SELECT * FROM events")
    assert row["ip"] == "12.34.56.0"
    assert json.loads(row["payload"])["context"]["ip"] == "12.34.56.0"
    assert (row["page_url"], row["referrer"], row["session_id"]) == (
        "https://shop.example/p/1", "https://search.example/", "s1")


def test_rejected_rows_keep_only_the_truncated_ip(client, key, db):
    client.post("/v1/events", json={"user": {}}, headers=basic(key), environ_base={"REMOTE_ADDR": "203.0.113.77"})
    assert db("SELECT ip FROM rejected") == [{"ip": "203.0.113.0"}]


def test_utm_and_language_are_completed_from_the_url_and_headers(client, key, db):
    body = make_event(env_context={"page_url": "https://shop.example/p?utm_source=news&utm_campaign=winter%20sale&x=1"})
    headers = {**basic(key), "Accept-Language": "de-CH,de;q=0.9,en;q=0.5"}
    assert client.post("/v1/events", json=body, headers=headers).status_code == stored_status(body)
    context = json.loads(db("SELECT payload FROM events")[0]["payload"])["context"]
    assert context["utm"] == {"source": "news", "campaign": "winter sale"}
    assert context["language"] == "de-CH"


def test_context_sent_by_the_client_wins(client, key, db):
    body = make_event(env_context={"page_url": "https://shop.example/?utm_source=a", "utm": {"source": "b"},
                                   "language": "fr"})
    response = client.post("/v1/events", json=body, headers={**basic(key), "Accept-Language": "de"})
    assert response.status_code == stored_status(body)
    context = json.loads(db("SELECT payload FROM events")[0]["payload"])["context"]
    assert (context["utm"], context["language"]) == ({"source": "b"}, "fr")

"""One log line per request with the key's name, never its value."""

from __future__ import annotations

import json
import re

import pytest
import requests

from support.factories import basic
from support.factories import bearer
from support.factories import make_event
from support.servers import Gunicorn
from support.servers import prepare_store


@pytest.mark.processes
def test_request_lines_name_the_key_but_never_show_it(tmp_path):
    path = str(tmp_path / "logs.sqlite3")
    key = prepare_store(path, "main-shop")
    log_path = tmp_path / "gunicorn.log"
    with Gunicorn(path, workers=1, log_path=str(log_path)) as server:
        requests.post(server.url + f"/v1/events?key={key}", json=make_event(), timeout=10)
        requests.post(server.url + "/v1/events", json={"events": [make_event(), {"user": {}}]},
                      headers=basic(key), timeout=10)
        requests.post(server.url + "/user-interactions", json={}, headers=bearer(key), timeout=10)
        requests.post(server.url + "/v1/events", json=make_event(), headers=bearer("live_unknown"), timeout=10)
    log = log_path.read_text()
    assert key not in log and "live_unknown" not in log
    assert "anon-1" not in log  # no payload either
    lines = [line for line in log.splitlines() if "/v1/events" in line or "/user-interactions" in line]
    pattern = r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[INFO\] POST (\S+) (\d{3}) key=(\S+) " \
              r"accepted=(\d+) rejected=(\d+) [\d.]+ms$"
    parsed = [re.match(pattern, line).groups() for line in lines]
    assert parsed == [
        ("/v1/events", "200", "main-shop", "1", "0"),  # a home page view, answered with its lists
        ("/v1/events", "207", "main-shop", "1", "1"),
        ("/user-interactions", "400", "main-shop", "0", "1"),
        ("/v1/events", "401", "-", "0", "0"),
    ]


@pytest.mark.processes
def test_json_lines_hold_the_same_fields_and_no_secret(tmp_path):
    path = str(tmp_path / "logs.sqlite3")
    key = prepare_store(path, "main-shop")
    log_path = tmp_path / "gunicorn.log"
    token = "mt_" + "t" * 32
    with Gunicorn(path, workers=1, log_path=str(log_path), LOG_FORMAT="json", METRICS_TOKEN=token) as server:
        requests.post(server.url + f"/v1/events?key={key}", json=make_event(), timeout=10)
        requests.post(server.url + "/v1/events", json={"events": [make_event(), {"user": {}}]},
                      headers=basic(key), timeout=10)
        requests.get(server.url + "/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    log = log_path.read_text()
    assert key not in log and token not in log and "anon-1" not in log
    entries = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    requests_logged = [e for e in entries if "path" in e and e["path"] != "/healthz"]  # the start-up probe
    assert [(e["method"], e["path"], e["status"], e["key"], e["accepted"], e["rejected"]) for e in requests_logged] == [
        ("POST", "/v1/events", 200, "main-shop", 1, 0),
        ("POST", "/v1/events", 207, "main-shop", 1, 1),
        ("GET", "/metrics", 200, "-", 0, 0),
    ]
    assert all({"time", "level", "pid", "ms", "dropped"} <= set(e) for e in requests_logged)

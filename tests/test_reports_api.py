"""The reports API: analyst tokens only (hashed at rest), and the same answers as the CLI."""

from __future__ import annotations

import csv
import io

import pytest

from collector.access import tokens
from collector.analytics.store import open_analytics
from collector.clock import now_iso
from collector.reports import registry

PERIOD = {"since": "2026-11-19", "until": "2026-11-22"}


@pytest.fixture
def token(storage):
    """A fresh analyst token."""
    return tokens.create_token(storage, "analyst")


@pytest.mark.parametrize("name", sorted(registry.REPORTS))
def test_every_report_answers_like_the_module(client, storage, dataset, token, name):
    response = client.get(f"/v1/reports/{name}", query_string=PERIOD, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.json
    body = response.json
    columns, rows = registry.run(open_analytics(storage), name, "2026-11-19T00:00:00.000Z",
                                 "2026-11-22T00:00:00.000Z", "live")
    assert body["columns"] == columns
    assert body["rows"] == [[float(v) if hasattr(v, "as_integer_ratio") and not isinstance(v, int) else v
                             for v in row] for row in rows]
    assert body["mode"] == "live" and body["since"] == "2026-11-19T00:00:00.000Z"


@pytest.mark.parametrize("name", sorted(registry.REPORTS))
def test_every_report_as_csv_holds_what_its_json_holds(client, dataset, token, name):
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/v1/reports/{name}", query_string=PERIOD, headers=auth).json
    response = client.get(f"/v1/reports/{name}", query_string={**PERIOD, "format": "csv"}, headers=auth)
    assert response.status_code == 200 and response.content_type == "text/csv; charset=utf-8"
    assert f'filename="{name}-live-2026-11-19-2026-11-22.csv"' in response.headers["Content-Disposition"]
    header, *lines = list(csv.reader(io.StringIO(response.text)))
    assert header == body["columns"]
    # CSV is text: a number reads back as the JSON's, an empty cell as its null.
    assert lines == [["" if v is None else str(v) for v in row] for row in body["rows"]]
    assert len(lines) == len(body["rows"]) and (name not in ("overview", "visitors") or lines)


def test_a_report_in_another_format_is_refused(client, token):
    response = client.get("/v1/reports/pages", query_string={"format": "xml"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400 and "json or csv" in response.json["message"]


def test_modes_are_kept_apart(client, dataset, token):
    live = client.get("/v1/reports/revenue", query_string=PERIOD, headers={"Authorization": f"Bearer {token}"})
    test = client.get("/v1/reports/revenue", query_string={**PERIOD, "mode": "test"},
                      headers={"Authorization": f"Bearer {token}"})
    assert [row[1] for row in live.json["rows"]] == ["USD"] and live.json["rows"][0][3] == 25.0
    assert test.json["rows"][0][3] == 99.0


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer an_notarealtoken0000000000000000000"},
    {"Authorization": "Basic YW5fOg=="},
])
def test_without_a_valid_token_is_401(client, dataset, headers):
    response = client.get("/v1/reports/funnel", headers=headers)
    assert (response.status_code, response.json["code"]) == (401, "unauthorized")


def test_publishable_keys_never_work_here(client, dataset):
    for header in (f"Bearer {dataset['live']}", f"Bearer {dataset['test']}"):
        assert client.get("/v1/reports/funnel", headers={"Authorization": header}).status_code == 401
    assert client.get(f"/v1/reports/funnel?key={dataset['live']}").status_code == 401


def test_revoked_token(client, storage, token):
    [row] = storage.list_tokens()
    assert storage.revoke_token(row["id"], now_iso())
    assert client.get("/v1/reports/funnel", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_bad_parameters_and_unknown_report(client, token):
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/reports/funnel?mode=both", headers=auth).status_code == 400
    assert client.get("/v1/reports/funnel?since=yesterday", headers=auth).json["code"] == "bad_parameter"
    missing = client.get("/v1/reports/nope", headers=auth)
    assert missing.status_code == 404 and "funnel" in missing.json["message"]


def test_tokens_are_stored_hashed(cli, db):
    token = cli("tokens", "create", "--name", "Ana").stdout.strip()
    assert token.startswith("an_") and len(token) == 35
    [row] = db("SELECT name, token_hash FROM analyst_tokens")
    assert row["name"] == "Ana" and token not in row["token_hash"] and row["token_hash"] == tokens.hash_token(token)
    assert "Ana" in cli("tokens", "list").stdout and token not in cli("tokens", "list").stdout
    cli("tokens", "revoke", "1")
    assert cli("tokens", "revoke", "1", check=False).returncode == 1

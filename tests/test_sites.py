"""Sites: every report, the exports, the reports API and the dashboard read one site at a time (or every
site a token may read), and a token limited to sites gets 403 for another's."""

from __future__ import annotations

import csv
import io
import json

import pytest

from collector.access import keys
from collector.access import tokens
from collector.analytics.store import open_analytics
from collector.reports import registry

from support.factories import basic
from support.factories import bearer
from support.factories import make_interaction
from support.factories import new_id
from support.factories import stored_status

SINCE, UNTIL = "2026-11-19T00:00:00.000Z", "2026-11-22T00:00:00.000Z"
PERIOD = {"since": "2026-11-19", "until": "2026-11-22"}
#: What only the other shop's events hold: none of it may show in the first shop's reports.
MARKERS = ("pB", "bB", "oB", "bterm", "EUR", 777.0)


def _other_shop(client, storage) -> str:
    """A second live site with events of its own (products, a banner, a search, an order in EUR)."""
    other = keys.create_key(storage, "other shop", [])
    events = [{"type": "pageview", "subtype": "home"}, {"type": "pageview", "subtype": "product", "product_id": "pB"},
              {"type": "click", "subtype": "banner", "banner_id": "bB"}, {"type": "search", "term": "bterm"},
              {"type": "viewcart", "cart": [{"product_id": "pB", "quantity": 1}]},
              {"type": "order", "subtype": "completed", "order_id": "oB",
               "cart": [{"product_id": "pB", "quantity": 1, "unit_price": 777, "currency": "EUR"}]},
              {"type": "wishlist", "subtype": "add", "product_id": "pB"}]
    for n, event in enumerate(events):
        body = {"event_id": new_id(), "user": {"anonymous_id": "zB"}, "event": event,
                "context": {"session_id": "sB"}, "timestamp": f"2026-11-20T15:0{n}:00Z"}
        assert client.post("/v1/events", json=body, headers=basic(other)).status_code == stored_status(body)
    interaction = make_interaction(item_type="OFFER", item_id="7c9e6679-7425-40de-944b-e07fc1f90abb",
                                   event_timestamp="2026-11-20T15:30:00Z")
    assert client.post("/user-interactions", json=interaction, headers=bearer(other)).status_code == 201
    return other


def _values(rows) -> set:
    """Every value in a report's rows."""
    return {value for row in rows for value in row}


@pytest.fixture
def two_sites(client, storage, dataset):
    """The analysts' dataset on one site, and another site's events beside it."""
    return dataset["live"], _other_shop(client, storage)


@pytest.fixture
def alone(backend, tmp_path, request, make_app):
    """A store holding one site's events alone: `alone(send)` builds it; `send(client, storage)` fills it."""
    from collector import create_app

    made = []

    def build(send):
        url = (f"sqlite:///{tmp_path}/alone-{len(made)}.sqlite3" if backend == "sqlite" else
               request.getfixturevalue("postgres_server").fresh_database())
        app = create_app({"TESTING": True, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "RATE_LIMIT_PER_IP": "",
                          "RATE_LIMIT_PER_KEY": ""})
        storage = app.extensions["collector.storage"]
        storage.migrate()
        made.append(storage)
        send(app.test_client(), storage)
        return storage

    yield build
    for storage in made:
        storage.close()


@pytest.mark.parametrize("name", sorted(set(registry.REPORTS) - {"rejected"}))
def test_each_report_of_one_site_is_that_sites_alone(storage, two_sites, alone, name):
    from support.dataset import dataset_requests

    shop, other = two_sites

    def dataset_alone(client, store):
        live = keys.create_key(store, "shop", [])
        for path, body, headers, status in dataset_requests(live):
            assert client.post(path, json=body, headers=headers).status_code == status

    mine = registry.run(open_analytics(storage), name, SINCE, UNTIL, "live", (shop,))
    theirs = registry.run(open_analytics(storage), name, SINCE, UNTIL, "live", (other,))
    assert mine == registry.run(open_analytics(alone(dataset_alone)), name, SINCE, UNTIL, "live"), name
    assert theirs == registry.run(open_analytics(alone(_other_shop)), name, SINCE, UNTIL, "live"), name
    assert not _values(mine[1]) & set(MARKERS)


def test_rejected_rows_are_read_per_site(client, storage, two_sites):
    shop, other = two_sites
    assert client.post("/v1/events", json={"user": {}}, headers=basic(other)).status_code == 400
    since, until = registry.parse_moment("1d"), "2100-01-01T00:00:00.000Z"
    assert registry.run(open_analytics(storage), "rejected", since, until, "live", (shop,))[1] == []
    rows = registry.run(open_analytics(storage), "rejected", since, until, "live", (other,))[1]
    assert [row[0] for row in rows] == ["invalid_event"]


def test_a_site_is_a_key_or_its_name_and_an_unknown_one_is_404(client, storage, two_sites):
    shop, other = two_sites
    token = tokens.create_token(storage, "analyst")
    headers = {"Authorization": f"Bearer {token}"}
    by_key = client.get("/v1/reports/products", query_string={**PERIOD, "site": other}, headers=headers).json
    by_name = client.get("/v1/reports/products", query_string={**PERIOD, "site": "other shop"}, headers=headers).json
    assert by_key["rows"] == by_name["rows"] and [row[0] for row in by_key["rows"]] == ["pB"]
    missing = client.get("/v1/reports/products", query_string={**PERIOD, "site": "nope"}, headers=headers)
    assert missing.status_code == 404 and "No site 'nope'" in missing.json["message"]


def test_a_token_limited_to_a_site_reads_it_alone(client, storage, two_sites):
    shop, other = two_sites
    token = tokens.create_token(storage, "shop's analyst", [shop])
    headers = {"Authorization": f"Bearer {token}"}
    refused = client.get("/v1/reports/revenue", query_string={**PERIOD, "site": other}, headers=headers)
    assert refused.status_code == 403 and refused.json["code"] == "forbidden"
    assert "may not read the site" in refused.json["message"]
    for site in (None, shop):
        query = {**PERIOD, **({"site": site} if site else {})}
        body = client.get("/v1/reports/revenue", query_string=query, headers=headers).json
        assert body["rows"] and not _values(body["rows"]) & set(MARKERS)
    export = client.get("/v1/export", query_string={**PERIOD, "site": other}, headers=headers)
    assert export.status_code == 403
    rows = list(csv.DictReader(io.StringIO(client.get("/v1/export", query_string=PERIOD, headers=headers)
                                           .data.decode())))
    assert rows and {row["key"] for row in rows} == {shop}


def test_the_test_mode_of_a_test_key_is_its_default(client, storage, dataset):
    token = tokens.create_token(storage, "analyst")
    body = client.get("/v1/reports/revenue", query_string={**PERIOD, "site": dataset["test"]},
                      headers={"Authorization": f"Bearer {token}"}).json
    assert body["mode"] == "test" and [row[3] for row in body["rows"]] == [99.0]


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_the_http_export_streams_what_the_cli_exports(client, storage, cli, two_sites, tmp_path, fmt):
    shop, _ = two_sites
    token = tokens.create_token(storage, "analyst")
    response = client.get("/v1/export", query_string={**PERIOD, "site": shop, "format": fmt},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.is_streamed
    assert f"events-live-2026-11-19-2026-11-22.{fmt}" in response.headers["Content-Disposition"]
    out = tmp_path / f"cli.{fmt}"
    cli("export", "--site", shop, "--since", "2026-11-19", "--until", "2026-11-22", "--format", fmt, "--out", str(out))
    if fmt == "parquet":
        import pyarrow.parquet as pq

        assert pq.read_table(io.BytesIO(response.data)).to_pylist() == pq.read_table(out).to_pylist()
        assert {row["key"] for row in pq.read_table(out).to_pylist()} == {shop}
    else:
        assert response.data == out.read_bytes()
        if fmt == "ndjson":
            assert {json.loads(line)["key"] for line in response.data.splitlines()} == {shop}


def test_cli_reports_and_tokens_take_sites(cli, client, storage, two_sites):
    shop, other = two_sites
    done = cli("report", "products", "--site", "other shop", "--since", "2026-11-19", "--until", "2026-11-22",
               "--format", "json")
    assert [row["product_id"] for row in json.loads(done.stdout)] == ["pB"] and "other shop" in done.stderr
    token = cli("tokens", "create", "--name", "limited", "--site", shop).stdout.strip()
    listed = cli("tokens", "list").stdout
    assert shop in listed and "limited" in listed
    assert client.get("/v1/reports/products", query_string={**PERIOD, "site": other},
                      headers={"Authorization": f"Bearer {token}"}).status_code == 403
    assert cli("tokens", "create", "--name", "x", "--site", "nope", check=False).returncode == 1


def test_the_dashboard_picks_among_the_tokens_sites(client, storage, two_sites):
    shop, other = two_sites
    token = tokens.create_token(storage, "limited", [shop])
    client.set_cookie("collector_analyst", token, path="/dashboard")
    page = client.get("/dashboard", query_string=PERIOD)
    assert page.status_code == 200
    html = page.data.decode()
    assert f'value="{shop}"' in html and f'value="{other}"' not in html and "bterm" not in html
    refused = client.get("/dashboard", query_string={**PERIOD, "site": other})
    assert refused.status_code == 403 and "may not read the site" in refused.data.decode()
    everyone = tokens.create_token(storage, "all")
    client.set_cookie("collector_analyst", everyone, path="/dashboard")
    html = client.get("/dashboard", query_string={**PERIOD, "site": other}).data.decode()
    assert "bterm" in html and "lamp" not in html


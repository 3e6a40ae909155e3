"""The dashboard in Debian's Chromium: sign in, every panel with the fixture's numbers, no CSP problem."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from collector import analysts
from collector import create_app
from collector import reports

from support.dataset import DATASET
from support.dataset import INTERACTIONS
from support.dataset import LINES_O1
from support.dataset import dataset_requests
from support.factories import basic
from support.servers import Gunicorn
from support.servers import prepare_store

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
pytestmark = pytest.mark.slow


def test_dashboard_shows_the_fixture(tmp_path, page):
    path = str(tmp_path / "dash.sqlite3")
    live = prepare_store(path, "shop")
    storage = create_app({"DATABASE_URL": f"sqlite:///{path}"}).extensions["collector.storage"]
    token = analysts.create_token(storage, "Ana")
    with Gunicorn(path, workers=1) as server:
        for path, body, headers, status in dataset_requests(live):
            assert requests.post(server.url + path, json=body, headers=headers, timeout=10).status_code == status
        requests.post(server.url + "/v1/events", json={"user": {}}, headers=basic(live), timeout=10)
        page.goto(server.url + "/dashboard")
        page.fill("#token", "an_wrong")
        page.click("text=Sign in")
        assert "unknown or revoked" in page.inner_text("body")
        page.fill("#token", token)
        page.click("text=Sign in")
        page.goto(server.url + "/dashboard?since=2026-11-19&until=2026-11-22&mode=live")
        funnel = {el.get_attribute("data-step"): int(el.text_content())
                  for el in page.query_selector_all("#funnel .value")}
        total = int(page.inner_text("#events .total"))
        revenue = page.inner_text("#revenue table")
        products = page.inner_text("#products table")
        searches = page.inner_text("#searches table")
        items = [row.split("\t") for row in page.inner_text("#items table").splitlines()[1:]]
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        page.goto(server.url + "/dashboard?since=1d")
        rejected = page.inner_text("#quality")
    live_rows = [row for row in DATASET if row[0] == "live"]
    assert funnel["product view"] == 2  # the sessions with a product view (tests/test_reports.py says why)
    # The other steps and the products table as the report module (tested against the fixture) gives them.
    period = ("2026-11-19T00:00:00.000Z", "2026-11-22T00:00:00.000Z")
    expected_funnel = reports.run(storage, "funnel", *period)[1]
    assert funnel == {step: count for step, count, *_ in expected_funnel}
    expected_products = reports.run(storage, "products", *period)[1]
    storage.close()
    assert [row.split("\t")[0] for row in products.splitlines()[1:]] == [row[0] for row in expected_products]
    assert total == len(live_rows) + len(INTERACTIONS)
    assert sorted((item_type, int(n)) for item_type, _, n in items) == sorted((item, 1) for _, _, item in INTERACTIONS)
    assert f"{float(sum(line['quantity'] * line['unit_price'] for line in LINES_O1))} USD" in revenue
    assert "p1" in products and "lamp" in searches
    assert "invalid_event" in rejected
    assert page.problems == []
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000


def test_dashboard_requires_a_token(client):
    signin = client.get("/dashboard")
    assert signin.status_code == 200 and b"Analyst token" in signin.data
    assert "default-src 'self'" in signin.headers["Content-Security-Policy"]
    assert client.post("/dashboard/login", data={"token": "an_nope"}).status_code == 303
    assert b"Funnel" not in client.get("/dashboard").data

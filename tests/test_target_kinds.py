"""Forward target kinds are a registry: a kind defined here alone is queued, offered by the CLI and delivered."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from collector.cli import main
from collector.clock import now_iso
from collector.forward import targets
from collector.forward.runner import Forwarder
from collector.forward.targets import Credential
from collector.forward.targets import Delivery
from collector.forward.targets import TargetKind

from support.factories import basic
from support.factories import make_event
from support.factories import stored_status
from support.upstream import Upstream

SETTINGS = {"FORWARD_BATCH": 100, "FORWARD_CONCURRENCY": 2, "FORWARD_LEASE_SECONDS": 60,
            "FORWARD_TIMEOUT_SECONDS": 5, "FORWARD_MAX_AGE_HOURS": 72}


def _build(rows: list[dict]) -> Delivery:
    """Searches in batches, as `{"terms": [...]}` with the target's token."""
    terms = [json.loads(row["payload"])["data"]["event"]["term"] for row in rows]
    return Delivery(url=rows[0]["url"] + "/searches", body=json.dumps({"terms": terms}).encode(),
                    headers={"Content-Type": "application/json", "Authorization": f"Token {rows[0]['secret']}"})


SEARCHES = TargetKind(name="searchlog", url_help="A search log that takes batches of terms.",
                      credential=Credential("--searchlog-token", "The search log's token."), build=_build,
                      wants=lambda event: event["type"] == "search", batch=2)


@pytest.fixture
def searchlog():
    """The kind above, registered for one test."""
    targets.register(SEARCHES)
    yield SEARCHES
    targets.unregister(SEARCHES.name)


def _drain(storage) -> None:
    """Run a forwarder until nothing is due."""
    forwarder = Forwarder(storage, SETTINGS)
    deadline = time.monotonic() + 20
    while forwarder.step() and time.monotonic() < deadline:
        pass
    forwarder.close()


def test_a_kind_defined_in_a_test_module_works_end_to_end(searchlog, database_url, client, key, storage, db):
    runner = CliRunner()
    with Upstream() as upstream:
        added = runner.invoke(main, ["forward", "add", key, "--searchlog", upstream.url, "--searchlog-token", "t1"],
                              env={"COLLECTOR_DATABASE_URL": database_url})
        assert added.exit_code == 0, added.output
        listed = runner.invoke(main, ["forward", "list"], env={"COLLECTOR_DATABASE_URL": database_url})
        assert "searchlog" in listed.output
        events = [make_event("search", None, term=term) for term in ("sofa", "lamp", "rug")] + [make_event()]
        assert client.post("/v1/events", json={"events": events}, headers=basic(key)).status_code == 200
        # The kind's filter decides what is queued: three searches, not the page view.
        assert db("SELECT count(*) AS n FROM outbox") == [{"n": 3}]
        _drain(storage)
    assert [r["path"] for r in upstream.received] == ["/searches", "/searches"]  # batches of two
    assert sorted(term for r in upstream.received for term in r["json"]["terms"]) == ["lamp", "rug", "sofa"]
    assert {r["headers"]["Authorization"] for r in upstream.received} == {"Token t1"}
    assert db("SELECT state, count(*) AS n FROM outbox GROUP BY state") == [{"state": "delivered", "n": 3}]


def test_the_cli_offers_exactly_the_registered_kinds(searchlog, database_url, key):
    runner = CliRunner()
    env = {"COLLECTOR_DATABASE_URL": database_url}
    help_text = runner.invoke(main, ["forward", "add", "--help"], env=env).output
    for option in ("--datacue", "--cobi", "--webhook", "--searchlog", "--searchlog-token"):
        assert option in help_text
    missing = runner.invoke(main, ["forward", "add", key, "--searchlog", "http://127.0.0.1:9"], env=env)
    assert missing.exit_code == 2 and "--searchlog needs --searchlog-token" in missing.output
    targets.unregister(searchlog.name)
    gone = runner.invoke(main, ["forward", "add", key, "--searchlog", "http://127.0.0.1:9"], env=env)
    assert gone.exit_code == 2 and "--searchlog" in gone.output


def test_rows_of_a_kind_no_longer_registered_are_dead_not_retried(searchlog, client, key, storage, db):
    storage.add_target(key, searchlog.name, "http://127.0.0.1:9", "t", now_iso())
    search = make_event("search", None, term="sofa")
    assert client.post("/v1/events", json=search, headers=basic(key)).status_code == stored_status(search)
    targets.unregister(searchlog.name)
    _drain(storage)
    [row] = db("SELECT state, last_error FROM outbox")
    assert row["state"] == "dead" and "searchlog" in row["last_error"]
    # Nor are new events queued for it.
    search = make_event("search", None, term="lamp")
    assert client.post("/v1/events", json=search, headers=basic(key)).status_code == stored_status(search)
    assert db("SELECT count(*) AS n FROM outbox") == [{"n": 1}]


def test_a_kind_name_must_be_a_lower_case_identifier():
    with pytest.raises(ValueError, match="lower-case identifier"):
        targets.register(TargetKind(name="Bad-Name", url_help="", credential=Credential("--x", ""), build=_build))

"""Secret server keys: printed once, listed by prefix, never readable through the analysts' paths or logs."""

from __future__ import annotations

import io
import json

import pytest

from collector.access import server_keys
from collector.errors import QueryError

from support.datacue_backend import PRODUCT
from support.datacue_backend import auth
from support.datacue_backend import send
from support.records import EXAMPLES
from support.records import upload


def _tables(storage) -> list[str]:
    """Every table and view of the store (read with the writer's connection, as the collector does)."""
    if storage.dialect.name == "sqlite":
        rows = storage._read("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                             "AND name NOT LIKE 'sqlite_%'")
    else:
        rows = storage._read("SELECT table_name AS name FROM information_schema.tables "
                             "WHERE table_schema = current_schema()")
    return sorted(r["name"] for r in rows)


@pytest.mark.slow
def test_a_secret_is_absent_from_select_star_of_every_table(cli, storage, key, client):
    created = cli("keys", "secret", "create", key)
    secret = created.stdout.strip()
    assert secret.startswith("sk_live_") and len(secret) > 30 and "not shown again" in created.stderr
    assert upload(client, secret, "shops", [EXAMPLES["shops"]]).status_code == 200
    listing = cli("keys", "secret", "list", key).stdout
    assert secret[:12] in listing and secret not in listing
    tables = _tables(storage)
    assert {"server_keys", "records", "record_versions", "cobi_shops", "forward_targets"} <= set(tables)
    for table in tables:
        result = cli("query", f"SELECT * FROM {table}", check=False)
        assert secret not in result.stdout + result.stderr, table
        assert server_keys.hash_secret(secret) not in result.stdout + result.stderr, table
    refused = cli("query", "SELECT secret FROM server_keys", check=False)
    assert refused.returncode == 1 and "not readable" in refused.stderr
    # The columns beside a secret stay readable.
    assert "shop" in cli("query", "SELECT key, name FROM keys").stdout


@pytest.mark.parametrize("sql", ["SELECT count(*) FROM server_keys", "SELECT url, secret FROM forward_targets",
                                 "SELECT token_hash FROM analyst_tokens",
                                 "SELECT * FROM (SELECT * FROM server_keys) s",
                                 "WITH s AS (SELECT secret FROM server_keys) SELECT * FROM s"])
def test_the_read_only_path_refuses_every_way_to_a_secret(storage, secret, sql):
    with pytest.raises(QueryError, match="not readable"):
        storage.query(sql)


def test_a_secret_is_never_logged(make_app, key, secret, caplog):
    import logging

    caplog.set_level(logging.DEBUG, logger="collector")
    client = make_app(LOG_LEVEL="DEBUG").test_client()
    upload(client, secret, "shops", [EXAMPLES["shops"]])
    upload(client, secret + "x", "shops", [EXAMPLES["shops"]])
    # DataCue's backend, in both auth forms, and refused: the secret nor its signature is logged.
    for signed in (False, True):
        send(client, key, secret, "POST", "/v1/products", PRODUCT, signed=signed)
        send(client, key, secret + "x", "PUT", "/v1/users/u1", {"email": "a@b.com"}, signed=signed)
    # Import jobs and Capillary's coupon upload (its token header), accepted and refused, and their worker.
    from support.imports import run_jobs
    from support.imports import sample

    for token in (secret, secret + "x"):
        client.post("/v1/imports", data={"kind": "shops", "file": (io.BytesIO(sample("shops.csv")), "s.csv")},
                    headers={"Authorization": f"Bearer {token}"}, content_type="multipart/form-data")
        client.post("/coupon/api/v1/upload/file/7",
                    data={"customerIdentifier": "NOT_TAGGED", "file": (io.BytesIO(b"C1\n"), "c.csv")},
                    headers={"X-CAP-API-OAUTH-TOKEN": token}, content_type="multipart/form-data")
    run_jobs(client.application)
    signature = auth(key, secret, json.dumps(PRODUCT).encode(), signed=True)["Authorization"]
    messages = [r.getMessage() for r in caplog.records]
    assert any("import job=" in m for m in messages)
    assert len(messages) >= 10 and all(secret not in m and signature not in m for m in messages)

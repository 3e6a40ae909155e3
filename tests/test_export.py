"""collector export: CSV, NDJSON and Parquet, filters, and paging that keeps memory bounded."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq

from collector.analytics.store import open_analytics
from collector.reports import exports

from support.dataset import DATASET

PERIOD = ("--since", "2026-11-19", "--until", "2026-11-22")
LIVE = [row for row in DATASET if row[0] == "live"]


def test_csv_and_ndjson(cli, dataset):
    out = cli("export", *PERIOD, "--format", "csv")
    records = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(records) == len(LIVE) + 2  # and the two interactions
    assert {r["mode"] for r in records} == {"live"}
    assert f"{len(records)} events exported" in out.stderr
    lines = cli("export", *PERIOD, "--format", "ndjson", "--type", "order").stdout.splitlines()
    orders = [json.loads(line) for line in lines]
    assert len(orders) == sum(row[5]["type"] == "order" for row in LIVE)
    assert all(o["type"] == "order" and isinstance(o["payload"], dict) for o in orders)


def test_parquet(cli, dataset, tmp_path):
    path = tmp_path / "events.parquet"
    cli("export", *PERIOD, "--format", "parquet", "--out", str(path), "--mode", "test")
    table = pq.read_table(path)
    assert table.num_rows == sum(row[0] == "test" for row in DATASET)
    assert set(table.column("mode").to_pylist()) == {"test"}
    assert table.schema.field("revenue").type == "double"
    assert cli("export", *PERIOD, "--format", "parquet", check=False).returncode == 2  # needs --out


def test_rows_are_read_a_page_at_a_time(storage, dataset, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 3)
    queries = []
    original = storage.query
    monkeypatch.setattr(storage, "query", lambda sql, params=None: queries.append(sql) or original(sql, params))
    records = list(exports.rows(open_analytics(storage), "live", "2026-11-19T00:00:00.000Z",
                                "2026-11-22T00:00:00.000Z"))
    ids = [r[0] for r in records]
    assert ids == sorted(ids) and len(set(ids)) == len(LIVE) + 2
    assert len(queries) == len(records) // 3 + 1 + (len(records) % 3 > 0)

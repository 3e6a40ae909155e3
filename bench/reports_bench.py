"""Benchmark: every report over a million realistic events on SQLite.

    python bench/reports_bench.py [--events 1000000] [--path /tmp/reports-bench.sqlite3]

Generates a month of storefront traffic straight into a fresh SQLite store (sessions that view the
home page, products and categories, search, put items in carts, order, cancel; Cobi interactions),
then times each report over the whole month. The store is kept for reuse: delete it to regenerate.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import sys
import time
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from collector import create_app  # noqa: E402
from collector import reports  # noqa: E402
from collector.clock import iso  # noqa: E402
from collector.storage.columns import EVENT_COLUMNS  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
PRODUCTS = [f"p{i}" for i in range(2000)]
TERMS = ["sofa", "lamp", "rug", "table", "chair", "bed", "desk", "shelf", "mirror", "vase"] + [
    f"term{i}" for i in range(300)]
ITEMS = [str(uuid.uuid4()) for _ in range(500)]


def session_events(rng: random.Random, n: int):
    """One visit: a plausible sequence of events with times a few seconds apart."""
    visitor, session = f"a{rng.randrange(60000)}", str(uuid.uuid4())
    moment = START + timedelta(seconds=rng.randrange(30 * 86400))
    user = f"u{rng.randrange(20000)}" if rng.random() < 0.3 else None
    steps = [("pageview", "home", {})]
    for _ in range(rng.randrange(1, 8)):
        kind = rng.random()
        product = rng.choice(PRODUCTS)
        if kind < 0.45:
            steps.append(("pageview", "product", {"product_id": product}))
        elif kind < 0.6:
            steps.append(("pageview", "category", {"category_name": f"c{rng.randrange(40)}"}))
        elif kind < 0.75:
            steps.append(("search", None, {"term": rng.choice(TERMS)}))
        elif kind < 0.82:
            steps.append(("click", rng.choice(["banner", "product"]), {"banner_id": f"b{rng.randrange(12)}"}
                          if rng.random() < 0.5 else {"product_id": product}))
        elif kind < 0.87:
            steps.append(("wishlist", rng.choice(["add", "remove"]), {"product_id": product}))
        else:
            steps.append(("interaction", None, {}))
    if rng.random() < 0.25:
        cart = [{"product_id": rng.choice(PRODUCTS), "quantity": rng.randrange(1, 4),
                 "unit_price": float(rng.randrange(5, 500)), "currency": "USD"} for _ in range(rng.randrange(1, 4))]
        steps.append(("viewcart", None, {"cart": cart}))
        if rng.random() < 0.5:
            order = f"o{uuid.uuid4().hex[:12]}"
            steps.append(("order", "started", {"order_id": order, "cart": cart}))
            if rng.random() < 0.7:
                steps.append(("order", "completed", {"order_id": order, "cart": cart}))
                if rng.random() < 0.05:
                    steps.append(("order", "cancelled", {"order_id": order}))
    for type_, subtype, fields in steps[:n]:
        moment += timedelta(seconds=rng.randrange(5, 90))
        yield visitor, session, user, moment, type_, subtype, fields


def generate(path: str, total: int) -> None:
    """Write `total` events (and their lines) into a fresh store at path."""
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "SQLITE_SYNCHRONOUS": "OFF"})
    app.extensions["collector.storage"].migrate()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("INSERT OR IGNORE INTO keys (key, name, mode, created_at) VALUES ('live_bench', 'bench', 'live', ?)",
                 (iso(START),))
    rng, written, rows, lines = random.Random(7), 0, [], []
    columns = ", ".join(EVENT_COLUMNS)
    insert = f"INSERT INTO events ({columns}) VALUES ({', '.join('?' for _ in EVENT_COLUMNS)})"
    while written < total:
        for visitor, session, user, moment, type_, subtype, fields in session_events(rng, total - written):
            when = iso(moment)
            row = dict.fromkeys(EVENT_COLUMNS)
            row.update(event_id=str(uuid.uuid4()), key="live_bench", mode="live", received_at=when, event_time=when,
                       user_id=user, anonymous_id=visitor, session_id=session, ip="203.0.113.0")
            if type_ == "interaction":
                row.update(source="cobi", type="interaction", item_type=rng.choice(["TAG", "OFFER", "SHOP"]),
                           item_id=rng.choice(ITEMS), payload="{}",
                           interaction_type=rng.choice(["FILTER_CLICK", "SHARE", "PAGE_VIEW"]))
            else:
                row.update(source="datacue", type=type_, subtype=subtype,
                           payload=json.dumps({"event": {"type": type_, **fields}}),
                           **{k: v for k, v in fields.items() if k in row and k != "cart"})
                if type_ == "order" and subtype == "completed":
                    row["revenue"] = sum(line["quantity"] * line["unit_price"] for line in fields["cart"])
                    row["currency"] = "USD"
                for n, line in enumerate(fields.get("cart", ())):
                    lines.append((row["event_id"], n, line["product_id"], line["quantity"], line["unit_price"]))
            rows.append([row[c] for c in EVENT_COLUMNS])
            written += 1
        if len(rows) >= 20000 or written >= total:
            conn.executemany(insert, rows)
            conn.executemany("INSERT INTO event_lines (event_pk, key, event_id, line_no, product_id, quantity, "
                             "unit_price, currency) SELECT id, key, event_id, ?, ?, ?, ?, 'USD' FROM events "
                             "WHERE key = 'live_bench' AND event_id = ?",
                             [(n, product, quantity, price, event_id)
                              for event_id, n, product, quantity, price in lines])
            conn.commit()
            rows, lines = [], []
            print(f"\r{written} events", end="", file=sys.stderr)
    print(file=sys.stderr)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()


def main() -> None:
    """Generate once, then time every report over the month."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--path", default="/tmp/reports-bench.sqlite3")
    args = parser.parse_args()
    if not os.path.exists(args.path):
        generate(args.path, args.events)
    storage = create_app({"DATABASE_URL": f"sqlite:///{args.path}"}).extensions["collector.storage"]
    storage.migrate()  # a store generated by an older version gets the newer indexes
    count = storage.query("SELECT count(*) FROM events")[1][0][0]
    sessions = storage.query("SELECT count(DISTINCT session_id) FROM events")[1][0][0]
    orders = storage.query("SELECT count(*) FROM orders")[1][0][0]
    print(f"{count} events, {sessions} sessions, {orders} orders, {len(PRODUCTS)} products")
    print("| report | seconds | rows |\n|---|---|---|")
    since, until = iso(START), iso(START + timedelta(days=31))
    for name in reports.REPORTS:
        started = time.perf_counter()
        rows = reports.run(storage, name, since, until, "live")[1]
        print(f"| {name} | {time.perf_counter() - started:.2f} | {len(rows)} |", flush=True)


if __name__ == "__main__":
    main()

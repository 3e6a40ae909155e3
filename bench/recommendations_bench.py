"""Benchmark: page views answered with recommendations beside a plain event, over a large generated shop.

    python bench/recommendations_bench.py [--events 10000000] [--products 100000] [--seconds 10]
                                          [--warm 10] [--rounds 3] [--path /tmp/recs-bench.sqlite3]

Generates a shop straight into a fresh SQLite store (kept for reuse: delete it to regenerate): a catalogue
of `--products` products in 60 categories, and `--events` events of `--visitors` visitors, in visits of
one to eight product views (popular products more often), one visit in ten ending in an order of one to
four products. Brings the recommendation tables up to date (timed: what the worker does), then, under
gunicorn with one worker pinned to core 0, drives each load from core 1: a product click (a plain event,
answered 204), a home page view and a product page view (answered with their lists), of products as popular
as in the history, by visitors drawn evenly. Each load first runs `--warm` seconds unmeasured (a fresh
worker reads the catalogue and the lists its answers need: docs/recommendations.md, "Speed"); then, in
`--rounds` rounds of the three loads in turn, the most requests per second a closed loop of 16 connections
gets, each page view's rate divided by the click's of the same round (the machine's speed drifts between
rounds), and p50 and p99 of an open loop at 70% of that rate (the machine's own stalls land in one round's
p99 or another's). Prints a Markdown table with the median of the rounds and their range.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import bodies  # noqa: E402
from openloop import _Connection  # noqa: E402
from openloop import open_loop  # noqa: E402

from collector.recommendations import upkeep  # noqa: E402
from collector.recommendations.catalogue import PRODUCT_COLUMNS  # noqa: E402
from collector.recommendations.upkeep import keep_up  # noqa: E402
from collector.storage import open_storage  # noqa: E402
from collector.storage.columns import insert_sql  # noqa: E402

from support.servers import Gunicorn  # noqa: E402
from support.servers import prepare_store  # noqa: E402

LOADS = ("click", "home", "product")
_LINE = insert_sql("event_lines", ("event_pk", "key", "event_id", "line_no", "product_id", "quantity", "unit_price",
                                   "currency"))
CATEGORIES = 60


def generate(path: str, key: str, events: int, products: int, visitors: int) -> None:
    """Fill a migrated store with the catalogue and the events (no triggers' work is skipped)."""
    rng = random.Random(7)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("BEGIN")
    words = ["oak", "linen", "glass", "wool", "steel", "velvet", "walnut", "cotton", "stone", "brass"]
    kinds = ["table", "sofa", "lamp", "rug", "chair", "shelf", "vase", "bed", "desk", "mirror"]
    rows = []
    for n in range(products):
        category = f"c{n % CATEGORIES}"
        rows.append({**dict.fromkeys(PRODUCT_COLUMNS), "key": key, "mode": "live", "product_id": f"p{n}",
                     "variant_id": "v1", "name": f"{rng.choice(words).title()} {rng.choice(kinds)} {n}",
                     "brand": f"b{n % 40}", "price": round(rng.uniform(5, 500), 2), "photo_url": f"/img/p{n}.jpg",
                     "link": f"/p/{n}", "category_1": category, "category_2": f"{category}-{n % 5}",
                     "offered": 1, "source": "backend"})
    conn.executemany(insert_sql("rec_products", PRODUCT_COLUMNS), [tuple(r.values()) for r in rows])
    cumulative = bodies.popularity(products)
    columns = ("id", "event_id", "key", "mode", "source", "type", "subtype", "anonymous_id", "session_id",
               "product_id", "order_id", "received_at", "event_time", "payload")
    insert = f"INSERT INTO events ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    made, batch, lines, visit = 0, [], [], 0
    while made < events:
        visit += 1
        visitor = f"v{rng.randrange(visitors)}"
        at = 1_780_000_000 + made * 0.25  # four events a second
        viewed = rng.choices(range(products), cum_weights=cumulative, k=rng.randint(1, 8))
        for product in viewed:
            made += 1
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(at + made * 0.001))
            batch.append((made, f"e{made}", key, "live", "datacue", "pageview", "product", visitor, f"s{visit}",
                          f"p{product}", None, stamp, stamp, "{}"))
        if rng.random() < 0.1:
            made += 1
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(at + made * 0.001))
            bought = list(dict.fromkeys(viewed[:rng.randint(1, 4)]))
            batch.append((made, f"e{made}", key, "live", "datacue", "order", "completed", visitor, f"s{visit}",
                          None, f"o{visit}", stamp, stamp, "{}"))
            lines += [(made, key, f"e{made}", n, f"p{p}", 1, 10.0, "EUR") for n, p in enumerate(bought)]
        if len(batch) >= 50_000:
            conn.executemany(insert, batch)
            conn.executemany(_LINE, lines)
            batch, lines = [], []
            print(f"  {made:,} events", file=sys.stderr, end="\r")
    conn.executemany(insert, batch)
    conn.executemany(_LINE, lines)
    conn.execute("DELETE FROM visit_changes")  # the web panels' refresh is not what is measured here
    # The catalogue went in directly: its similar lists are due, as after a backend import.
    conn.execute("INSERT INTO rec_dirty (key, mode, kind, product_id, version) "
                 "SELECT key, mode, 'similar', product_id, 1 FROM rec_products")
    conn.execute("COMMIT")
    conn.close()


async def _closed(host: str, port: int, key: str, kind: str, seconds: float, connections: int) -> float:
    """Requests per second `connections` loops get, each sending its next request when answered."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal done
        conn = _Connection(*await asyncio.open_connection(host, port))
        while time.perf_counter() < deadline:
            path, data, _ = bodies.body(kind, 1)
            status, keep = await conn.post(f"{host}:{port}", path, key, data)
            if status >= 300:
                raise RuntimeError(f"{kind}: answered {status}")
            done += 1
            if not keep:
                conn.writer.close()
                conn = _Connection(*await asyncio.open_connection(host, port))
        conn.writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(connections)))
    return done / (time.perf_counter() - started)


def main() -> None:
    """Generate (or reuse) the store, bring the tables up to date, measure every load."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--visitors", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warm", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--path", default="/tmp/recs-bench.sqlite3")
    args = parser.parse_args()
    bodies.SHOP.update(products=args.products, visitors=args.visitors)
    fresh = not os.path.exists(args.path)
    key = prepare_store(args.path, "bench") if fresh else sqlite3.connect(args.path).execute(
        "SELECT key FROM keys ORDER BY created_at LIMIT 1").fetchone()[0]
    if fresh:
        started = time.monotonic()
        generate(args.path, key, args.events, args.products, args.visitors)
        print(f"generated {args.events:,} events in {time.monotonic() - started:.0f} s", file=sys.stderr)
    storage = open_storage({"DATABASE_URL": f"sqlite:///{args.path}", "SQLITE_SYNCHRONOUS": "OFF",
                            "SQLITE_BUSY_TIMEOUT_MS": 5000, "KEY_CACHE_SECONDS": 5})
    started = time.monotonic()
    upkeep.VIEWED_LIST_SECONDS = 0.0  # the co-viewed lists as they stand a minute after the last view
    read = keep_up(storage)  # all of it on a fresh store; what is new (or still due) on a kept one
    took = time.monotonic() - started
    storage.close()
    print(f"upkeep: {read:,} rows and products in {took:.0f} s", file=sys.stderr)
    rates: dict[str, list[float]] = {kind: [] for kind in LOADS}
    paced: dict[str, list[dict]] = {kind: [] for kind in LOADS}
    with Gunicorn(args.path, workers=1, cpus="0", LOG_LEVEL="WARNING") as server:
        for kind in LOADS:
            asyncio.run(_closed("127.0.0.1", server.port, key, kind, args.warm, 16))
        for _ in range(args.rounds):
            for kind in LOADS:
                rates[kind].append(asyncio.run(_closed("127.0.0.1", server.port, key, kind, args.seconds, 16)))
                paced[kind].append(open_loop("127.0.0.1", server.port, key, kind, 0.7 * rates[kind][-1],
                                             args.seconds, 2))
    print(f"\n{args.events:,} events, {args.products:,} products, {args.visitors:,} visitors; one gunicorn worker "
          f"on core 0, the client on the others; medians of {args.rounds} rounds (range)\n")
    print("| load | requests/s (16 connections) | ratio to a click | p50 at 70% (ms) | p99 at 70% (ms) | refused |")
    print("|---|---|---|---|---|---|")
    for kind in LOADS:
        ratios = [rate / base for rate, base in zip(rates[kind], rates["click"], strict=True)]
        p50s, p99s = ([run[name] for run in paced[kind]] for name in ("p50_ms", "p99_ms"))
        print(f"| {kind} | {statistics.median(rates[kind]):,.0f} | {statistics.median(ratios):.2f} "
              f"({min(ratios):.2f}-{max(ratios):.2f}) | {statistics.median(p50s):.1f} | {statistics.median(p99s):.1f} "
              f"({min(p99s):.1f}-{max(p99s):.1f}) | {sum(r['refused_requests'] + r['errors'] for r in paced[kind])} |")
    print(json.dumps(rates), file=sys.stderr)


if __name__ == "__main__":
    main()

"""Benchmark: every report and web panel over a month of realistic events, on SQLite or PostgreSQL.

    python bench/reports_bench.py [--events 1000000] [--path /tmp/reports-bench.sqlite3]
    python bench/reports_bench.py --events 10000000 --store postgres
    python bench/reports_bench.py --events 10000000 --url postgresql://postgres@127.0.0.1:5432/bench

Generates a month of storefront traffic straight into a fresh store (sessions that view the home page,
products and categories, search, put items in carts, order, cancel; Cobi interactions; each visit with a
device, browser and system, a referring site or none, UTM tags on some), brings the visits up to date (timed:
the worker's refresh), then times each report over the whole month and over one day, for every site and for
one, and the panels that take a page filtered to the home page (the page most visits view). The SQLite store
is kept for reuse: delete it to regenerate; with `--store postgres` a PostgreSQL server is started for the run
(tests/support/pg.py) and thrown away; `--url` names a PostgreSQL database to fill when it holds no event, and
to time again as it is otherwise."""

from __future__ import annotations

import argparse
import json
import os
import random
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
from collector.analytics.store import open_analytics  # noqa: E402
from collector.clock import iso  # noqa: E402
from collector.reports import registry  # noqa: E402
from collector.storage.columns import EVENT_COLUMNS  # noqa: E402
from collector.storage.columns import insert_sql  # noqa: E402

START = datetime(2026, 10, 1, tzinfo=UTC)
PRODUCTS = [f"p{i}" for i in range(2000)]
TERMS = ["sofa", "lamp", "rug", "table", "chair", "bed", "desk", "shelf", "mirror", "vase"] + [
    f"term{i}" for i in range(300)]
ITEMS = [str(uuid.uuid4()) for _ in range(500)]
#: (device, browser, system) of a visit, with how often each comes.
AGENTS = [(("Desktop", "Chrome", "Windows"), 30), (("Mobile", "Safari", "iOS"), 25),
          (("Mobile", "Chrome", "Android"), 20), (("Desktop", "Safari", "Mac OS X"), 10),
          (("Desktop", "Firefox", "Windows"), 6), (("Tablet", "Safari", "iOS"), 5), (("Desktop", "Edge", "Windows"), 4)]
SOURCES = [(None, 45), ("google.com", 30), ("facebook.com", 8), ("instagram.com", 5), ("bing.com", 4),
           ("news.example", 3)] + [(f"blog{i}.example", 1) for i in range(5)]
CAMPAIGNS = [f"campaign-{i}" for i in range(30)]
PATHS = {"home": lambda f: "/", "product": lambda f: f"/products/{f['product_id']}",
         "category": lambda f: f"/categories/{f['category_name']}"}
SITES = ("live_bench", "live_other")


def session_events(rng: random.Random, n: int, visitors: int):
    """One visit (at most n events) of one of `visitors` visitors: a plausible sequence of events with
    times a few seconds apart, and where the visit came from."""
    visitor, session = f"a{rng.randrange(visitors)}", str(uuid.uuid4())
    moment = START + timedelta(seconds=rng.randrange(30 * 86400))
    user = f"u{rng.randrange(20000)}" if rng.random() < 0.3 else None
    agent = rng.choices([a for a, _ in AGENTS], [w for _, w in AGENTS])[0]
    source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
    utm = (rng.choice(["newsletter", "facebook", "google"]), rng.choice(["email", "cpc", "social"]),
           rng.choice(CAMPAIGNS)) if rng.random() < 0.2 else (None, None, None)
    site = SITES[0] if rng.random() < 0.9 else SITES[1]
    # Most visits land on the home page, many on a product's (from a search engine or an ad).
    landing = ("pageview", "product", {"product_id": rng.choice(PRODUCTS)})
    steps = [("pageview", "home", {}) if rng.random() < 0.6 else landing]
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
    for n_step, (type_, subtype, fields) in enumerate(steps[:n]):
        moment += timedelta(seconds=rng.randrange(5, 90))
        traffic = {"page_path": PATHS[subtype](fields) if type_ == "pageview" else f"/{type_}",
                   "device": agent[0], "browser": agent[1], "os": agent[2]}
        if n_step == 0:
            traffic.update(referrer_domain=source, utm_source=utm[0], utm_medium=utm[1], utm_campaign=utm[2])
        yield site, visitor, session, user, moment, type_, subtype, fields, traffic


def _write_sqlite(conn, rows: list[list], lines: list[tuple]) -> None:
    """One batch of events and their lines into SQLite."""
    conn.executemany(insert_sql("events", EVENT_COLUMNS), rows)
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS bench_lines (key TEXT, event_id TEXT, line_no INT, product_id TEXT, "
                 "quantity INT, unit_price REAL)")
    conn.execute("DELETE FROM bench_lines")
    conn.executemany("INSERT INTO bench_lines VALUES (?, ?, ?, ?, ?, ?)", lines)
    conn.execute("INSERT INTO event_lines (event_pk, key, event_id, line_no, product_id, quantity, unit_price, "
                 "currency) SELECT e.id, b.key, b.event_id, b.line_no, b.product_id, b.quantity, b.unit_price, 'USD' "
                 "FROM bench_lines b JOIN events e ON e.key = b.key AND e.event_id = b.event_id")


def _write_postgres(conn, rows: list[list], lines: list[tuple]) -> None:
    """One batch of events and their lines into PostgreSQL, by COPY (one statement: one trigger run)."""
    cursor = conn.conn.cursor()
    with cursor.copy(f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cursor.execute("CREATE TEMP TABLE bench_lines (key TEXT, event_id TEXT, line_no INT, product_id TEXT, "
                   "quantity INT, unit_price DOUBLE PRECISION) ON COMMIT DROP")
    with cursor.copy("COPY bench_lines FROM STDIN") as copy:
        for line in lines:
            copy.write_row(line)
    cursor.execute("INSERT INTO event_lines (event_pk, key, event_id, line_no, product_id, quantity, unit_price, "
                   "currency) SELECT e.id, b.key, b.event_id, b.line_no, b.product_id, b.quantity, b.unit_price, 'USD' "
                   "FROM bench_lines b JOIN events e ON e.key = b.key AND e.event_id = b.event_id")


def generate(storage, total: int) -> None:
    """Write `total` events (and their lines) into a fresh store, a batch per transaction."""
    storage.migrate()
    write = _write_postgres if storage.dialect.name == "postgres" else _write_sqlite
    with storage._transaction() as conn:
        for site in SITES:
            conn.execute("INSERT INTO keys (key, name, mode, created_at) VALUES (?, ?, 'live', ?) "
                         "ON CONFLICT (key) DO NOTHING", (site, site.removeprefix("live_"), iso(START)))
    rng, written, rows, lines = random.Random(7), 0, [], []
    visitors = max(60_000, total // 15)
    started = time.perf_counter()
    while written < total:
        for site, visitor, session, user, moment, type_, subtype, fields, traffic in session_events(
                rng, total - written, visitors):
            when = iso(moment)
            row = dict.fromkeys(EVENT_COLUMNS)
            row.update(event_id=str(uuid.uuid4()), key=site, mode="live", received_at=when, event_time=when,
                       user_id=user, anonymous_id=visitor, session_id=session, ip="203.0.113.0", **traffic)
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
                    lines.append((site, row["event_id"], n, line["product_id"], line["quantity"], line["unit_price"]))
            rows.append([row[c] for c in EVENT_COLUMNS])
            written += 1
        if len(rows) >= 20000 or written >= total:
            with storage._transaction() as conn:
                write(conn, rows, lines)
            rows, lines = [], []
            print(f"\r{written:,} events, {written / (time.perf_counter() - started):,.0f}/s", end="", file=sys.stderr)
    print(file=sys.stderr)
    with storage._transaction() as conn:
        # The triggers noted every event; one note per visit says the same (as a migration notes them).
        conn.execute("DELETE FROM visit_changes")
        conn.execute("INSERT INTO visit_changes (key, mode, session_id, visitor) SELECT DISTINCT key, mode, "
                     "session_id, CASE WHEN session_id IS NULL THEN coalesce(anonymous_id, user_id) END FROM events "
                     "WHERE bot IS NULL AND coalesce(session_id, anonymous_id, user_id) IS NOT NULL")
        # And every hour with an event, for the shop reports' tallies.
        conn.execute("INSERT INTO rollup_hours (key, mode, hour) SELECT DISTINCT key, mode, substr(event_time, 1, 13) "
                     "FROM events WHERE true ON CONFLICT (key, mode, hour) DO NOTHING")
        conn.execute("ANALYZE")


def _timed(storage, name: str, since: str, until: str, keys, **options) -> str:
    """One report's seconds (and rows), as a table cell; '-' for a report without these options."""
    if set(options) - set(registry.REPORTS[name].options):
        return "-"
    started = time.perf_counter()
    rows = registry.run(open_analytics(storage), name, since, until, "live", keys, **options)[1]
    return f"{time.perf_counter() - started:.2f} ({len(rows)})"


def measure(storage) -> None:
    """Bring the visits up to date (timed), then time every report: a month and a day, every site and one."""
    started = time.perf_counter()
    visits = open_analytics(storage).refresh_visits(limit=5000)
    print(f"visits brought up to date: {visits:,} recomputed in {time.perf_counter() - started:.1f} s")
    count = storage.query("SELECT count(*) FROM events")[1][0][0]
    sessions = storage.query("SELECT count(*) FROM visits")[1][0][0]
    orders = storage.query("SELECT count(*) FROM orders")[1][0][0]
    print(f"{count:,} events, {sessions:,} visits, {orders:,} orders, {len(PRODUCTS)} products, "
          f"{storage.dialect.name}")
    month = (iso(START), iso(START + timedelta(days=31)))
    day = (iso(START + timedelta(days=14)), iso(START + timedelta(days=15)))
    print("| report | month, every site | month, one site | day, one site | month, one site, home page | "
          "day, one site, home page |\n|---|---|---|---|---|---|")
    for name in registry.REPORTS:
        cells = [_timed(storage, name, *month, None), _timed(storage, name, *month, (SITES[0],)),
                 _timed(storage, name, *day, (SITES[0],)), _timed(storage, name, *month, (SITES[0],), page="/"),
                 _timed(storage, name, *day, (SITES[0],), page="/")]
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


def main() -> None:
    """Generate once, then time every report over the month and a day."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--path", default="/tmp/reports-bench.sqlite3")
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--url", help="a PostgreSQL database kept between runs")
    args = parser.parse_args()
    if args.url:
        storage = create_app({"DATABASE_URL": args.url}).extensions["collector.storage"]
        storage.migrate()
        if not storage.query("SELECT count(*) FROM (SELECT 1 FROM events LIMIT 1) AS any_event")[1][0][0]:
            generate(storage, args.events)
        measure(storage)
        return
    if args.store == "postgres":
        sys.path.insert(0, str(ROOT / "tests"))
        from support.pg import PostgresServer

        server = PostgresServer().start()
        try:
            storage = create_app({"DATABASE_URL": server.fresh_database()}).extensions["collector.storage"]
            generate(storage, args.events)
            measure(storage)
        finally:
            server.stop()
        return
    fresh = not os.path.exists(args.path)
    storage = create_app({"DATABASE_URL": f"sqlite:///{args.path}", "SQLITE_SYNCHRONOUS": "OFF"}
                         ).extensions["collector.storage"]
    if fresh:
        generate(storage, args.events)
    storage.migrate()  # a store generated by an older version gets the newer tables and indexes
    measure(storage)


if __name__ == "__main__":
    main()

"""The recommendation tables kept up to date: the worker reads the events and records committed since its
last pass (a position per stream) and adds them to the counts, in one transaction per window.

- An order (a browser's or Segment's completed order with lines, a backend order record, an import of
  either), counted once per site and order id whichever side reported it first: each product's orders,
  and each unordered pair of its distinct products (at most ORDER_PRODUCTS of them) bought together.
- A product view: the product's views, and the pairs it makes with the visitor's previous distinct product
  views of the same visit (the last CO_VIEW_STEPS, weighted 1/gap, as session-rec's SR counts them).
- A backend product record, or a product page's `product_update` that differs from the row: the product's
  catalogue row, marked with the pass that changed it (each process's shelf reads only what changed).

Then each product's lists (rec_lists) are worked out again where their counts changed: the products
bought with it and the products like it at once, the products viewed next to it at most once a minute
(a product viewed without pause would otherwise be worked out at every pass).

Bots' events count for nothing; sites and modes never mix. After `collector forget`, a site's counts are
rebuilt from what is left, so a forgotten visitor no longer counts in anyone's answers.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import unquote

from ..clock import iso
from ..clock import parse
from ..clock import utcnow
from ..storage.columns import insert_sql
from ..storage.records import loaded_payload
from .catalogue import PRODUCT_COLUMNS
from .catalogue import backend_product
from .catalogue import reported_product
from .decay import BOUGHT_HALF_LIFE_DAYS
from .decay import VIEWED_HALF_LIFE_DAYS
from .decay import weight
from .lists import Lists

#: The most distinct products of one order counted in pairs (30 make 435 pairs; Mahout caps similarly).
ORDER_PRODUCTS = 30
#: How many of the visitor's previous product views a view is paired with.
CO_VIEW_STEPS = 10
#: Views further apart than this are not one visit.
VISIT_GAP_SECONDS = 1800
#: Ids of one stream read per transaction.
WINDOW = 20_000
#: Rows committed this long ago (by their received time) are read: a later one may still be in flight.
SETTLE_SECONDS = 5.0
#: A product's co-viewed list is worked out this long after the first of the views that changed it.
VIEWED_LIST_SECONDS = 60.0

_EVENTS = ("SELECT e.id, e.key, e.mode, e.type, CASE WHEN e.type = 'click' THEN e.banner_id ELSE e.product_id END, "
           "e.order_id, e.anonymous_id, e.user_id, e.event_time, e.page_url, "
           "CASE WHEN e.type = 'pageview' AND {has_update} THEN e.payload END AS payload FROM events e "
           "WHERE e.bot IS NULL AND ((e.type = 'pageview' AND e.subtype = 'product' AND e.product_id IS NOT NULL) "
           "OR (e.type = 'order' AND e.subtype = 'completed') "
           "OR (e.type = 'click' AND e.subtype = 'banner' AND e.banner_id IS NOT NULL)) AND e.id > ? AND e.id <= ?")
_VERSIONS = ("SELECT id, key, mode, type, record_id, payload, is_deleted, received_at FROM record_versions "
             "WHERE type IN ('orders', 'products') AND id > ? AND id <= ?")
_PREVIOUS_VIEWS = ("SELECT product_id, event_time FROM events WHERE key = ? AND mode = ? AND {column} = ? "
                   "AND type = 'pageview' AND subtype = 'product' AND bot IS NULL AND id < ? ORDER BY id DESC LIMIT ?")
_ADD_ITEM = (insert_sql("rec_items", ("key", "mode", "product_id", "orders", "bought", "views", "viewed")) +
             " ON CONFLICT (key, mode, product_id) DO UPDATE SET orders = rec_items.orders + excluded.orders, "
             "bought = rec_items.bought + excluded.bought, views = rec_items.views + excluded.views, "
             "viewed = rec_items.viewed + excluded.viewed")
_ADD_PAIR = (insert_sql("rec_pairs", ("key", "mode", "kind", "product_id", "other_id", "n", "weight")) +
             " ON CONFLICT (key, mode, kind, product_id, other_id) DO UPDATE SET n = rec_pairs.n + excluded.n, "
             "weight = rec_pairs.weight + excluded.weight")
_UPDATES = ", ".join(f"{c} = excluded.{c}" for c in (*PRODUCT_COLUMNS[3:], "changed"))
_PUT_PRODUCT = (insert_sql("rec_products", (*PRODUCT_COLUMNS, "changed"))
                + f" ON CONFLICT (key, mode, product_id) DO UPDATE SET {_UPDATES}")
#: A page's report never replaces the backend's record of a product.
_REPORT_PRODUCT = _PUT_PRODUCT + " WHERE rec_products.source = 'browser'"
#: The upkeep's turn lock's number ("reco" in ASCII): one process at a time moves the positions.
_LOCK = 0x7265636F
#: The tables a site's rebuild empties (the catalogue stays: it is no one's data).
_COUNTED = ("rec_items", "rec_pairs", "rec_orders", "rec_banners", "rec_totals")
#: A product's list of one kind due to be worked out again (the earlier due time of two marks wins).
_MARK = ("INSERT INTO rec_dirty (key, mode, kind, product_id, version, due) VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT "
         "(key, mode, kind, product_id) DO UPDATE SET version = rec_dirty.version + 1, due = CASE WHEN "
         "excluded.due < rec_dirty.due THEN excluded.due ELSE rec_dirty.due END")
#: Each kind's columns in rec_lists.
_LIST_COLUMNS = {"bought": ("sold", "bought"), "viewed": ("viewed",), "similar": ("alike",)}
_PUT_LIST = {kind: insert_sql("rec_lists", ("key", "mode", "product_id", *columns, "changed"))
             + " ON CONFLICT (key, mode, product_id) DO UPDATE SET "
             + ", ".join(f"{c} = excluded.{c}" for c in (*columns, "changed"))
             for kind, columns in _LIST_COLUMNS.items()}


def keep_up(storage, stopping: Callable[[], bool] = lambda: False, window: int = WINDOW,
            settle: float | None = None) -> int:
    """Add every event and record committed since the last pass to the tables, a window at a time, until
    none are left or `stopping()`; rebuild the sites asked for first. Return how many rows were read.

    SQLite has one writer, so an id it shows was committed with every id below it; PostgreSQL hands out
    ids before commits, so there only rows received `settle` seconds ago are read."""
    settle = (0.0 if storage.dialect.name == "sqlite" else SETTLE_SECONDS) if settle is None else settle
    for (key,) in [tuple(r.values()) for r in storage.shared_read("SELECT key FROM rec_rebuilds ORDER BY key")]:
        if stopping():
            return 0
        rebuild(storage, key, window)
    total = 0
    while not stopping():
        read = _one_window(storage, window, settle)
        if not read:
            break
        total += read
    return total + rewrite_lists(storage, stopping)


def rewrite_lists(storage, stopping: Callable[[], bool] = lambda: False, batch: int = 200) -> int:
    """Work out the lists of every product marked and due, `batch` marks at a time (read and scored
    outside any transaction, written in a short one); return how many."""
    done = 0
    while not stopping():
        now = time.time()
        marks = storage.shared_read("SELECT key, mode, kind, product_id, version FROM rec_dirty WHERE due <= ? "
                                    "ORDER BY due, key, mode, kind, product_id LIMIT ?", (now, batch))
        if not marks:
            break
        sites: dict[tuple[str, str], Lists] = {}
        rows: dict[str, list[tuple]] = {kind: [] for kind in _LIST_COLUMNS}
        for mark in marks:
            kind, product = mark["kind"], mark["product_id"]
            lists = sites.setdefault((mark["key"], mark["mode"]), Lists(storage, mark["key"], mark["mode"]))
            if kind == "bought":
                lifted = lists.lifted(product)
                found = (0 if lifted is None else 1, _compact([[o, _short(lift), _short(base)]
                                                               for o, lift, base in lifted or ()]))
            elif kind == "viewed":
                coviewed = lists.coviewed(product)
                best = coviewed[0][1] if coviewed else 1.0
                found = (_compact([[other, round(w / best, 4)] for other, w in coviewed]),)
            else:
                found = (_compact(lists.likest(product)),)
            rows[kind].append((mark["key"], mark["mode"], product, *found))
        with storage.shared_transaction() as conn:
            cursor = conn.cursor()
            changed = _next_change(conn)
            for kind, put in rows.items():
                cursor.executemany(_PUT_LIST[kind], [(*row, changed) for row in put])
            cursor.executemany("DELETE FROM rec_dirty WHERE key = ? AND mode = ? AND kind = ? AND product_id = ? "
                               "AND version = ?", [tuple(m.values()) for m in marks])
            # Views counted meanwhile wait their minute like any other.
            cursor.executemany("UPDATE rec_dirty SET due = ? WHERE key = ? AND mode = ? AND kind = 'viewed' "
                               "AND product_id = ?", [(now + VIEWED_LIST_SECONDS, m["key"], m["mode"], m["product_id"])
                                                      for m in marks if m["kind"] == "viewed"])
        done += len(marks)
    return done


def _take_turn(conn, dialect) -> None:
    """Wait for another process's pass to end (SQLite's write lock already makes it wait)."""
    if dialect.turn_lock:
        conn.execute(dialect.turn_lock.format(number=_LOCK))


def _settled(conn, table: str, after: int, settle: float) -> int:
    """The highest id of `table` received at least `settle` seconds ago (else `after`)."""
    cutoff = iso(utcnow() - timedelta(seconds=settle))
    row = conn.execute(f"SELECT id FROM {table} WHERE id > ? AND received_at < ? ORDER BY id DESC LIMIT 1",
                       (after, cutoff)).fetchone()
    return row[0] if row else after


def _one_window(storage, window: int, settle: float) -> int:
    """Read one window of each stream into the tables and move the positions. The reading and counting
    take no lock; the write is one short transaction, given up if another process moved the positions
    meanwhile (it counted the same window), so ingest never waits for the counting."""
    dialect = storage.dialect
    with storage.shared_connection() as conn:
        positions = dict(conn.execute("SELECT stream, position FROM rec_progress").fetchall())
        events_at, records_at = positions.get("events", 0), positions.get("records", 0)
        events_to = min(_settled(conn, "events", events_at, settle), events_at + window)
        records_to = min(_settled(conn, "record_versions", records_at, settle), records_at + window)
        if events_to == events_at and records_to == records_at:
            return 0
        tally = Tally(conn, dialect)
        read = tally.events(_EVENTS, (events_at, events_to))
        read += tally.versions(_VERSIONS, (records_at, records_to))
        tally.prepare()
    with storage.shared_transaction() as conn:
        _take_turn(conn, dialect)
        if dict(conn.execute("SELECT stream, position FROM rec_progress").fetchall()) != positions:
            return read + 1
        tally.write(conn)
        conn.cursor().executemany(
            "INSERT INTO rec_progress (stream, position) VALUES (?, ?) ON CONFLICT (stream) DO UPDATE SET "
            "position = excluded.position", [("events", events_to), ("records", records_to)])
    return read + 1


def rebuild(storage, key: str, window: int = WINDOW) -> None:
    """Count one site's events and records again from nothing, up to the streams' positions."""
    with storage.shared_transaction() as conn:
        _take_turn(conn, storage.dialect)
        positions = dict(conn.execute("SELECT stream, position FROM rec_progress").fetchall())
        for table in _COUNTED:
            conn.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
        conn.execute("UPDATE rec_lists SET sold = 0, bought = '[]', viewed = '[]', changed = ? WHERE key = ?",
                     (_next_change(conn), key))
        tally = Tally(conn, storage.dialect, views_wait=0.0)
        for stream, sql in (("events", _EVENTS), ("records", _VERSIONS)):
            done, last = 0, positions.get(stream, 0)
            while done < last:
                tally.events(sql + " AND key = ?", (done, min(done + window, last), key)) if stream == "events" \
                    else tally.versions(sql + " AND key = ?", (done, min(done + window, last), key))
                done += window
        tally.prepare()
        tally.write(conn)
        conn.execute("DELETE FROM rec_rebuilds WHERE key = ?", (key,))


class Tally:
    """What one pass adds: counts summed in memory from what it reads through `conn`, then written in
    one transaction with one upsert per row."""

    def __init__(self, conn, dialect, views_wait: float | None = None):
        """Read what the pass needs through this connection; co-viewed lists are due `views_wait` seconds
        after the write (VIEWED_LIST_SECONDS unless given)."""
        self.conn = conn
        self.dialect = dialect
        self.views_wait = VIEWED_LIST_SECONDS if views_wait is None else views_wait
        self.items = defaultdict(lambda: [0, 0.0, 0, 0.0])
        self.pairs = defaultdict(lambda: [0, 0.0])
        self.orders: set[tuple[str, str, str]] = set()
        self.products: set[tuple[str, str, str]] = set()
        self.reported: dict[tuple[str, str, str], dict] = {}
        self.visits: dict[tuple, list[tuple[str, float]]] = {}
        self.clicks = defaultdict(int)
        self.totals = defaultdict(lambda: [0, 0.0, 0.0])
        self.put: list[dict] = []

    def events(self, sql: str, params: tuple) -> int:
        """Add the product views and orders these events hold; return how many were read."""
        has_update = self.dialect.contains(self.dialect.json_text.format(column="e.payload"), "'\"product_update\"'")
        rows = self.conn.execute(sql.format(has_update=has_update) + " ORDER BY e.id", params).fetchall()
        orders = [row for row in rows if row[3] == "order"]
        lines = defaultdict(list)
        for part in range(0, len(orders), 500):
            ids = [row[0] for row in orders[part:part + 500]]
            marks = ", ".join("?" for _ in ids)
            for event_pk, product_id in self.conn.execute(
                    f"SELECT event_pk, product_id FROM event_lines WHERE event_pk IN ({marks}) ORDER BY event_pk, "
                    "line_no", ids).fetchall():
                lines[event_pk].append(product_id)
        for pk, key, mode, kind, product_id, order_id, anonymous_id, user_id, at, page_url, payload in rows:
            if kind == "order":
                self.order(key, mode, order_id, lines.get(pk, []), at)
            elif kind == "click":
                self.clicks[(key, mode, product_id)] += 1
            else:
                self.view(pk, key, mode, product_id, anonymous_id, user_id, at)
                if payload:
                    reported = reported_product(key, mode, product_id, loaded_payload(payload), page_url)
                    if reported:
                        self.reported[(key, mode, product_id)] = reported
        return len(rows)

    def versions(self, sql: str, params: tuple) -> int:
        """Add the backend's orders, and note the products whose records changed; return how many."""
        rows = self.conn.execute(sql + " ORDER BY id", params).fetchall()
        for _, key, mode, kind, record_id, payload, is_deleted, received_at in rows:
            if kind == "products":
                self.products.add((key, mode, record_id.split("/", 1)[0]))
                continue
            record = loaded_payload(payload)
            if is_deleted or record.get("order_status", "completed") != "completed":
                continue
            cart = record.get("cart") or []
            products = [line.get("product_id") for line in cart if isinstance(line, dict)]
            at = record.get("timestamp") if isinstance(record.get("timestamp"), str) else received_at
            self.order(key, mode, record.get("order_id") or record_id, products, at)
        return len(rows)

    def order(self, key: str, mode: str, order_id: str | None, products: list, at: str) -> None:
        """Count one order's distinct products and their pairs, unless the order was counted before."""
        if order_id is not None:
            if (key, mode, order_id) in self.orders or self.conn.execute(
                    "SELECT 1 FROM rec_orders WHERE key = ? AND mode = ? AND order_id = ?",
                    (key, mode, order_id)).fetchone():
                return
            self.orders.add((key, mode, order_id))
        distinct = list(dict.fromkeys(str(p) for p in products if isinstance(p, (str, int))))[:ORDER_PRODUCTS]
        amount = _weight(at, BOUGHT_HALF_LIFE_DAYS)
        if distinct:
            total = self.totals[(key, mode)]
            total[0] += 1
            total[1] += amount
            total[2] = max(total[2], amount)
        for product in distinct:
            item = self.items[(key, mode, product)]
            item[0] += 1
            item[1] += amount
            for other in distinct:
                if other != product:
                    pair = self.pairs[(key, mode, "bought", product, other)]
                    pair[0] += 1
                    pair[1] += amount

    def view(self, pk: int, key: str, mode: str, product: str, anonymous_id, user_id, at: str) -> None:
        """Count one product view, and its pairs with the visitor's previous views of the same visit."""
        item = self.items[(key, mode, product)]
        item[2] += 1
        item[3] += _weight(at, VIEWED_HALF_LIFE_DAYS)
        column, visitor = ("anonymous_id", anonymous_id) if anonymous_id is not None else ("user_id", user_id)
        if visitor is None:
            return
        moment = parse(at).timestamp()
        seen = self.visits.get((key, mode, column, visitor))
        if seen is None:
            earlier = self.conn.execute(_PREVIOUS_VIEWS.format(column=column),
                                        (key, mode, visitor, pk, CO_VIEW_STEPS * 3)).fetchall()
            seen = [(p, parse(t).timestamp()) for p, t in reversed(earlier)]
        gap, paired = 0, set()
        for other, when in reversed(seen):
            if moment - when > VISIT_GAP_SECONDS or gap >= CO_VIEW_STEPS:
                break
            if other == product or other in paired:
                continue
            gap += 1
            paired.add(other)
            for first, second in ((product, other), (other, product)):
                pair = self.pairs[(key, mode, "viewed", first, second)]
                pair[0] += 1
                pair[1] += 1.0 / gap
        self.visits[(key, mode, column, visitor)] = [*seen[-(CO_VIEW_STEPS * 3):], (product, moment)]

    def prepare(self) -> None:
        """Read the current records of the products whose records changed, and keep of what pages reported
        only what differs from the catalogue's rows (before the write)."""
        self.put = [self._backend(*product) for product in sorted(self.products)]
        columns = ", ".join(PRODUCT_COLUMNS)
        for found in [k for k in self.reported if k not in self.products]:
            row = self.conn.execute(f"SELECT {columns} FROM rec_products WHERE key = ? AND mode = ? AND product_id = ?",
                                    found).fetchone()
            if row is not None and (row[-1] != "browser" or tuple(row) == tuple(self.reported[found].values())):
                del self.reported[found]

    def write(self, conn) -> None:
        """Write what was added through `conn` (inside the caller's transaction): items and pairs summed
        into theirs, orders noted, catalogue rows put, lists marked due."""
        cursor = conn.cursor()
        cursor.executemany(_ADD_ITEM, [(*k, *v) for k, v in self.items.items()])
        cursor.executemany(_ADD_PAIR, [(*k, *v) for k, v in self.pairs.items()])
        cursor.executemany("INSERT INTO rec_banners (key, mode, banner_id, clicks) VALUES (?, ?, ?, ?) ON CONFLICT "
                           "(key, mode, banner_id) DO UPDATE SET clicks = rec_banners.clicks + excluded.clicks",
                           [(*k, n) for k, n in self.clicks.items()])
        cursor.executemany("INSERT INTO rec_totals (key, mode, orders, bought, latest) VALUES (?, ?, ?, ?, ?) "
                           "ON CONFLICT (key, mode) DO UPDATE SET orders = rec_totals.orders + excluded.orders, "
                           "bought = rec_totals.bought + excluded.bought, latest = CASE WHEN excluded.latest > "
                           "rec_totals.latest THEN excluded.latest ELSE rec_totals.latest END",
                           [(*k, *v) for k, v in self.totals.items()])
        cursor.executemany("INSERT INTO rec_orders (key, mode, order_id) VALUES (?, ?, ?)", sorted(self.orders))
        put = self.put
        reported = [row for k, row in sorted(self.reported.items()) if k not in self.products]
        if put or reported:
            changed = _next_change(conn)
            cursor.executemany(_PUT_PRODUCT, [(*row.values(), changed) for row in put])
            cursor.executemany(_REPORT_PRODUCT, [(*row.values(), changed) for row in reported])
        # The lists to work out again: of every product bought now and every catalogue row put at once, of
        # every product in a new co-view once its views have waited.
        due = time.time() + self.views_wait
        cursor.executemany(_MARK, sorted(
            {(k, m, "bought", p, 0.0) for (k, m, p), item in self.items.items() if item[0]}
            | {(r["key"], r["mode"], "similar", r["product_id"], 0.0) for r in put + reported}
            | {(k, m, "viewed", p, due) for (k, m, kind, p, _) in self.pairs if kind == "viewed"}))

    def _backend(self, key: str, mode: str, record_prefix: str) -> dict:
        """A product's row from its variants' current records (their ids start with the product's id)."""
        rows = self.conn.execute(
            "SELECT payload FROM records WHERE key = ? AND type = 'products' AND record_id >= ? AND record_id < ? "
            "AND mode = ? AND is_deleted = 0 ORDER BY record_id", (key, record_prefix + "/", record_prefix + "0",
                                                                    mode)).fetchall()
        variants = [loaded_payload(payload) for (payload,) in rows]
        product_id = variants[0]["product_id"] if variants else _unquoted(record_prefix)
        return backend_product(key, mode, product_id, variants)


def _compact(value) -> str:
    """A list as rec_lists keeps it: JSON without spaces (an answer reads some ten of them)."""
    return json.dumps(value, separators=(",", ":"))


def _short(number: float) -> float:
    """A score to six significant digits: enough to rank, a third of the text."""
    return float(f"{number:.6g}")


def _next_change(conn) -> int:
    """The number of the change to the catalogue or the lists this transaction makes, moved on in
    rec_progress (its stream `catalogue`). One statement, whose row lock holds until commit: two
    transactions never share a number, and a number is seen only after every smaller one."""
    return conn.execute("INSERT INTO rec_progress (stream, position) VALUES ('catalogue', 1) ON CONFLICT (stream) "
                        "DO UPDATE SET position = rec_progress.position + 1 RETURNING position").fetchone()[0]


def _unquoted(record_prefix: str) -> str:
    """A product id from the escaped first half of its variants' record ids."""
    return unquote(record_prefix)


def _weight(at: str, half_life: float) -> float:
    """The decay weight of an event at this ISO time (its receipt's when unreadable)."""
    try:
        return weight(parse(at), half_life)
    except (ValueError, TypeError):
        return weight(utcnow(), half_life)

"""Offline quality of the product page's bought-together list, against two simple baselines.

The orders are split by time: the tables are built (by the worker's own counting, upkeep.py) from the
earlier part into a scratch SQLite store, and for each later order with two or more distinct products,
each of its products' page is asked for its `related_product_skus` (by the answer's own code, every
filter and fallback included) as a new visitor would see it. A hit at k: another product of that order
among the first k. NDCG at k: each other product of the order is relevant. The baselines rank the
same way: the site's best sellers, and the best sellers of the product's category (then the site's),
both counted from the earlier orders. Every list leaves out the product on the page.
"""

from __future__ import annotations

import csv
import json
import math
import random
import tempfile
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

from ..clock import iso
from ..storage import open_storage
from ..storage.columns import insert_sql
from .answers import recommend
from .catalogue import PRODUCT_COLUMNS
from .upkeep import Tally
from .upkeep import rewrite_lists

#: The site and mode the scratch store's rows are under.
_SITE, _MODE = "evaluation", "live"


@dataclass(frozen=True)
class Order:
    """One order: when, and its products."""

    order_id: str
    at: datetime
    products: tuple[str, ...]


@dataclass(frozen=True)
class History:
    """A shop's orders, oldest first, and each product's category (where known)."""

    orders: list[Order]
    categories: dict[str, str]


def from_store(storage, key: str, mode: str = "live") -> History:
    """A site's completed orders of every source (browser, Segment, backend records, imports) and the
    catalogue's categories, from a store."""
    lines: dict[str, list[str]] = {}
    times: dict[str, str] = {}
    for row in storage.shared_read(
            "SELECT order_id, product_id, event_time FROM order_lines WHERE key = ? AND mode = ? "
            "ORDER BY event_time, order_id, line_no", (key, mode)):
        lines.setdefault(row["order_id"], []).append(row["product_id"])
        times.setdefault(row["order_id"], row["event_time"])
    orders = [Order(order_id, _time(times[order_id]), tuple(products)) for order_id, products in lines.items()]
    categories = {row["product_id"]: row["category"] for row in storage.shared_read(
        "SELECT product_id, category FROM catalogue WHERE key = ? AND mode = ? AND category IS NOT NULL",
        (key, mode))}
    return History(sorted(orders, key=lambda o: (o.at, o.order_id)), categories)


def from_csv(path: Path, order: str, product: str, time: str, category: str | None = None,
             time_format: str | None = None) -> History:
    """Orders from a CSV of order lines: the columns holding the order (several, comma-separated, when
    an order is, say, a customer's purchases of one day), the product, the time (ISO-8601, or
    `time_format` for strptime) and optionally the category."""
    lines: dict[str, list[str]] = {}
    times: dict[str, datetime] = {}
    categories: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            order_id = "/".join(row[column].strip() for column in order.split(","))
            product_id = row[product].strip()
            if not order_id or not product_id:
                continue
            lines.setdefault(order_id, []).append(product_id)
            if order_id not in times:
                text = row[time].strip()
                moment = datetime.strptime(text, time_format) if time_format else datetime.fromisoformat(text)
                times[order_id] = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            if category and row.get(category):
                categories[product_id] = row[category].strip()
    orders = [Order(order_id, times[order_id], tuple(products)) for order_id, products in lines.items()]
    return History(sorted(orders, key=lambda o: (o.at, o.order_id)), categories)


def planted_shop(skew: float = 1.0, seed: int = 7, products: int = 500, categories: int = 10, bundles: int = 150,
                 orders: int = 8000, days: int = 60) -> History:
    """A generated shop whose structure is known: products in categories, and bundles of two to four
    products (of any categories) that are bought together (a camera, its case, a card). An order takes a
    bundle (the n-th most popular with weight 1 / n ** skew: 0 is none more popular, 1 is Zipf's law),
    each of its products with probability 0.7 (one at least), and, one order in three, an unrelated
    product."""
    rng = random.Random(seed)
    ids = [f"p{n}" for n in range(products)]
    category_of = {p: f"c{n % categories}" for n, p in enumerate(ids)}
    shuffled = ids[:]
    rng.shuffle(shuffled)
    planted, at = [], 0
    for _ in range(bundles):
        size = rng.choice((2, 3, 4))
        planted.append(shuffled[at:at + size])
        at += size
    weights = [1.0 / (n + 1) ** skew for n in range(bundles)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    made = []
    for n in range(orders):
        bundle = rng.choices(planted, weights)[0]
        basket = [p for p in bundle if rng.random() < 0.7] or [rng.choice(bundle)]
        if rng.random() < 1 / 3:
            basket.append(rng.choice(ids))
        moment = start + timedelta(seconds=days * 86400 * n / orders)
        made.append(Order(f"o{n}", moment, tuple(dict.fromkeys(basket))))
    return History(made, category_of)


def evaluate(history: History, split: float = 0.8, k: int = 10) -> list[dict]:
    """Hit rate and NDCG at k of the engine and the two baselines on the later orders, as table rows."""
    cut = int(len(history.orders) * split)
    train, test = history.orders[:cut], history.orders[cut:]
    cases = [(order, product) for order in test if len(set(order.products)) >= 2
             for product in dict.fromkeys(order.products)]
    sold = Counter(p for order in train for p in dict.fromkeys(order.products))
    best = [p for p, _ in sorted(sold.items(), key=lambda item: (-item[1], item[0]))]
    by_category: dict[str, list[str]] = {}
    for product in best:
        by_category.setdefault(history.categories.get(product, ""), []).append(product)

    def top(candidates: list[str], product: str) -> list[str]:
        """The first k of a ranking without the product on the page."""
        return [p for p in candidates if p != product][:k]

    rankings = {
        "site best sellers": lambda product: top(best, product),
        "category best sellers": lambda product: top(
            list(dict.fromkeys([*by_category.get(history.categories.get(product, ""), []), *best])), product),
    }
    with tempfile.TemporaryDirectory() as folder:
        storage = open_storage({"DATABASE_URL": f"sqlite:///{folder}/evaluation.sqlite3", "SQLITE_SYNCHRONOUS": "OFF",
                                "SQLITE_BUSY_TIMEOUT_MS": 5000, "KEY_CACHE_SECONDS": 0})
        try:
            storage.migrate()
            _build(storage, history, train)
            settings = {"RECOMMENDATION_LENGTHS": f"bought_together={k},similar=0,recent=0",
                        "RECOMMENDATION_BUDGET_MS": 10_000}
            rankings = {"collector (bought together)": lambda product: [p["product_id"] for p in json.loads(
                recommend(storage, _page_view(product), settings))["related_product_skus"]],
                **rankings}
            rows = [_score(name, rank, cases, k) for name, rank in rankings.items()]
        finally:
            storage.close()
    for row in rows:
        row.update(orders=len(history.orders), train=len(train), test_cases=len(cases))
    return rows


def _build(storage, history: History, train: list[Order]) -> None:
    """The scratch store's catalogue (every product, offered) and the counts of the earlier orders."""
    products = sorted({p for order in history.orders for p in order.products})
    rows = [{**dict.fromkeys(PRODUCT_COLUMNS), "key": _SITE, "mode": _MODE, "product_id": p, "name": p,
             "category_1": history.categories.get(p), "offered": 1, "source": "backend"} for p in products]
    with storage.shared_transaction() as conn:
        conn.cursor().executemany(insert_sql("rec_products", PRODUCT_COLUMNS), [tuple(r.values()) for r in rows])
        tally = Tally(conn, storage.dialect)
        for order in train:
            tally.order(_SITE, _MODE, order.order_id, list(order.products), iso(order.at))
        tally.write(conn)
    rewrite_lists(storage)


def _page_view(product: str) -> dict:
    """A product page view's row, by a visitor with no history."""
    return {"key": _SITE, "mode": _MODE, "type": "pageview", "subtype": "product", "product_id": product,
            "user_id": None, "anonymous_id": None, "lines": []}


def _score(name: str, rank, cases: list[tuple[Order, str]], k: int) -> dict:
    """One ranking's hit rate and NDCG at k over the cases."""
    hits, gain = 0, 0.0
    for order, product in cases:
        relevant = set(order.products) - {product}
        ranked = rank(product)[:k]
        hits += any(p in relevant for p in ranked)
        dcg = sum(1.0 / math.log2(n + 2) for n, p in enumerate(ranked) if p in relevant)
        ideal = sum(1.0 / math.log2(n + 2) for n in range(min(len(relevant), k)))
        gain += dcg / ideal
    count = max(len(cases), 1)
    return {"ranking": name, f"hit_rate@{k}": round(hits / count, 4), f"ndcg@{k}": round(gain / count, 4)}


def _time(text: str) -> datetime:
    """A stored ISO time as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

"""Each list's candidates for one site and mode, best first, read from the tables the worker keeps
(upkeep.py) and, for what a visitor did a moment ago, from the events themselves. Every read is an indexed
range of bounded size: no request scans a site's events or sorts a product's counts. Filters (offered, not
on the page, not in the cart, not twice on a page) are the answer's job (answers.py).
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from ..storage.records import loaded_payload
from .catalogue import LEVELS
from .kept import ALIKE
from .kept import BOUGHT
from .kept import PRODUCTS
from .kept import SOLD
from .kept import VIEWED
from .kept import Shelf
from .kept import Shown
from .kept import catalogue_rows
from .kept import kept
from .kept import shelf

#: How many ids a list's candidates are read as, for each product it must hold (filters drop some).
OVER_FETCH = 3
#: At most this many of a visitor's product views are read back (the recent list and their history).
HISTORY = 50
#: A visitor's products the home page's list is made from (the newest first weigh most).
SEEDS = 10
#: A visitor's latest cart views and orders read for their cart and what they bought.
BASKETS = 10
#: How sure (the z of a Wilson interval) a pair must be to rise above the base rate.
SIGNIFICANCE = 3.0
#: A pair seen fewer times than this is chance.
SUPPORT = 2
#: Products kept in each of a product's lists.
NEIGHBOURS = 50
#: Products of the same categories scored for a product's similar list, per depth of categories shared.
CANDIDATES = 300
_WORDS = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Visitor:
    """Who is looking: a user id where known, the browser's anonymous id, and the anonymous ids an
    identified user had before (the collector's identify links)."""

    user_id: str | None
    anonymous_ids: tuple[str, ...]

    def identities(self) -> list[tuple[str, str]]:
        """Each (events column, value) the visitor's events carry."""
        return [("anonymous_id", value) for value in self.anonymous_ids] + (
            [("user_id", self.user_id)] if self.user_id is not None else [])


class History(NamedTuple):
    """What a visitor did lately: the products they viewed (newest first, each once), those of their cart
    (their last cart view, unless they ordered since), and those of their orders among their last BASKETS
    cart views and orders (newest first)."""

    viewed: list[str]
    cart: list[str]
    bought: list[str]


def _marks(values: list) -> str:
    """As many placeholders as values."""
    return ", ".join("?" for _ in values)


class Lists:
    """The candidates of one site and mode's lists, read through a store."""

    def __init__(self, storage, key: str, mode: str, read=None):
        """Read this site's tables in this store (through `read`, one connection's, when given)."""
        self.storage = storage
        self.read = read or storage.shared_read
        self.key = key
        self.mode = mode
        self._shelf: Shelf | None = None
        self._decoded: dict[tuple[str, int], list] = {}

    @property
    def store(self) -> int:
        """The store's identity in the keys of what a process keeps a few seconds (kept.kept)."""
        return id(self.storage)

    # Who, and what they did: read from the events, so a view stored a moment ago counts at once.

    def visitor(self, user_id: str | None, anonymous_id: str | None) -> Visitor:
        """The visitor with every anonymous id their user id was seen with."""
        anonymous = [anonymous_id] if anonymous_id is not None else []
        if user_id is not None:
            anonymous += [row["anonymous_id"] for row in self.read(
                "SELECT DISTINCT anonymous_id FROM events WHERE user_id = ? AND key = ? AND mode = ? "
                "AND anonymous_id IS NOT NULL LIMIT 20", (user_id, self.key, self.mode))
                          if row["anonymous_id"] != anonymous_id]
        return Visitor(user_id, tuple(anonymous))

    def history(self, visitor: Visitor) -> History:
        """What the visitor viewed, carted and bought lately, in one statement that reads only indexes
        (their product views, and their cart views and completed orders, newest first), then the lines of
        their cart and orders."""
        parts, params = [], []
        for column, value in visitor.identities():
            parts += [f"SELECT * FROM (SELECT id, 'view' AS kind, product_id FROM events WHERE key = ? AND mode = ? "
                      f"AND {column} = ? AND type = 'pageview' AND subtype = 'product' AND bot IS NULL "
                      f"ORDER BY id DESC LIMIT {HISTORY}) AS views",
                      "SELECT * FROM (SELECT id, type AS kind, NULL AS product_id FROM events WHERE key = ? "
                      f"AND mode = ? AND {column} = ? AND type IN ('viewcart', 'order') AND (type = 'viewcart' "
                      f"OR subtype = 'completed') ORDER BY id DESC LIMIT {BASKETS}) AS baskets"]
            params += [self.key, self.mode, value] * 2
        if not parts:
            return History([], [], [])
        found = sorted(self.read(" UNION ALL ".join(parts), params), key=lambda row: -row["id"])
        viewed = list(dict.fromkeys(row["product_id"] for row in found if row["kind"] == "view"))
        baskets = [row for row in found if row["kind"] != "view"][:BASKETS]
        if not baskets:
            return History(viewed, [], [])
        cart = baskets[0]["id"] if baskets[0]["kind"] == "viewcart" else None
        orders = [row["id"] for row in baskets if row["kind"] == "order"]
        lines = defaultdict(list)
        wanted = [pk for pk in (cart, *orders) if pk is not None]
        for row in self.read(f"SELECT event_pk, product_id FROM event_lines WHERE event_pk IN ({_marks(wanted)}) "
                             "AND product_id IS NOT NULL ORDER BY line_no", wanted):
            lines[row["event_pk"]].append(row["product_id"])
        return History(viewed, lines.get(cart, []), list(dict.fromkeys(p for pk in orders for p in lines[pk])))

    # What the worker counted.

    def lifted(self, product: str) -> list[tuple[str, float, float]] | None:
        """The products bought with this one beyond chance, best first, as (other, lift, base rate), or None
        when it was never bought: the worker's work for the `bought` list. Each other product's base rate
        is the share of the site's orders that hold it; its lift is how far the share of this product's
        orders that held both surely exceeds that rate (the lower bound of its Wilson interval at
        SIGNIFICANCE), so a chance pairing never outranks a best seller and a real one does (Amazon's
        "more than expected" co-purchases). Pairs seen fewer than SUPPORT times count for nothing."""
        own = self.read("SELECT bought FROM rec_items WHERE key = ? AND mode = ? AND product_id = ?",
                        (self.key, self.mode, product))
        totals = self.read("SELECT bought, latest FROM rec_totals WHERE key = ? AND mode = ?", (self.key, self.mode))
        if not own or not own[0]["bought"]:
            return None
        if not totals or not totals[0]["bought"]:
            return []
        # A weight over the newest order's is a count decayed to the site's last sale: a quiet month leaves
        # the evidence as strong against the base rate as it was.
        site, now = totals[0]["bought"], totals[0]["latest"]
        orders = own[0]["bought"] / now
        found = []
        for row in self.read(
                "SELECT p.other_id, p.weight, i.bought FROM rec_pairs p JOIN rec_items i ON i.key = p.key AND "
                "i.mode = p.mode AND i.product_id = p.other_id WHERE p.key = ? AND p.mode = ? AND p.kind = 'bought' "
                f"AND p.product_id = ? AND p.n >= {SUPPORT}", (self.key, self.mode, product)):
            base = row["bought"] / site
            lift = _wilson_lower(row["weight"] / now, orders, SIGNIFICANCE) - base
            if lift > 0:
                found.append((row["other_id"], lift, base))
        return sorted(found, key=lambda item: (-item[1] - item[2], item[0]))[:NEIGHBOURS]

    def lists(self, products: list[str]) -> dict[str, tuple]:
        """The worker's lists of these products (rec_lists), from this process's shelf (see kept.SOLD)."""
        return self.shelf.lists_of(self.read, self.key, self.mode, products)

    def listed(self, product: str, kind: int) -> list:
        """One of a product's lists (kept.BOUGHT, VIEWED or ALIKE), best first, decoded once per answer."""
        found = self._decoded.get((product, kind))
        if found is None:
            found = self._decoded[(product, kind)] = json.loads(self.lists([product])[product][kind])
        return found

    def bought_with(self, products: list[str], limit: int) -> list[str]:
        """Products bought with these, best first: each starts from its base rate (the best sellers), and
        the given products' `bought` neighbours lift theirs, weighted by the product's place (the first
        weighs most). Empty when none of them was ever bought, so that the list falls back to other
        evidence."""
        found = self.lists(products)
        sources = [p for p in products if found[p][SOLD]]
        if not sources:
            return []
        best = self.best_sellers(limit)
        lifted = [(n, row) for n, product in enumerate(sources) for row in self.listed(product, BOUGHT)]
        if not lifted:  # the best sellers as they are (most products are bought with nothing beyond chance)
            return [other for other, _ in best]
        rates = dict(best)
        lifts = defaultdict(float)
        for n, (other, lift, base) in lifted:
            rates.setdefault(other, base)
            lifts[other] += lift / (n + 1)
        weight = sum(1.0 / (n + 1) for n in range(len(sources)))
        scores = {other: rate * weight + lifts[other] for other, rate in rates.items()}
        return sorted(scores, key=lambda other: (-scores[other], other))

    def best_sellers(self, limit: int) -> list[tuple[str, float]]:
        """The site's best sellers with their base rates (the share of its orders that hold them), best
        first; kept for a few seconds per process, as every page reads them."""
        return kept(("best", self.store, self.key, self.mode, limit), lambda: [
            (row["product_id"], row["bought"] / row["total"]) for row in self.read(
                "SELECT i.product_id, i.bought, t.bought AS total FROM rec_items i JOIN rec_totals t ON t.key = i.key "
                "AND t.mode = i.mode WHERE i.key = ? AND i.mode = ? AND t.bought > 0 ORDER BY i.bought DESC, "
                "i.product_id LIMIT ?", (self.key, self.mode, limit * OVER_FETCH))])

    def viewed_with(self, products: list[str], limit: int) -> list[str]:
        """Products viewed next to these in visits, best first: each given product's list (scaled to its
        best by the worker), weighted by its place (the first weighs most), summed."""
        scored = defaultdict(float)
        self.lists(products)
        for n, product in enumerate(dict.fromkeys(products)):
            for other, w in self.listed(product, VIEWED)[:limit * OVER_FETCH]:
                scored[other] += w / (n + 1)
        return sorted(scored, key=lambda other: (-scored[other], other))

    def coviewed(self, product: str) -> list[tuple[str, float]]:
        """The products viewed next to this one most, best first, as (other, weight): the worker's work
        for the `viewed` list."""
        return [(row["other_id"], row["weight"]) for row in self.read(
            "SELECT other_id, weight FROM rec_pairs WHERE key = ? AND mode = ? AND kind = 'viewed' AND product_id = ? "
            "ORDER BY weight DESC, other_id LIMIT ?", (self.key, self.mode, product, NEIGHBOURS))]

    def popular(self, measure: str, limit: int, categories: dict[str, str] | None = None) -> list[str]:
        """Best sellers (`bought`) or trending products (`viewed`, a week's half-life), of the categories
        given (the deepest levels first) or of the whole site; kept for a few seconds per process."""
        return kept(("popular", self.store, self.key, self.mode, measure, limit,
                      tuple((categories or {}).items())), lambda: self._popular(measure, limit, categories))

    def _popular(self, measure: str, limit: int, categories: dict[str, str] | None) -> list[str]:
        """popular() as read from the store."""
        if categories:
            found: list[str] = []
            for depth in range(len(categories), 0, -1):
                levels = list(categories.items())[:depth]
                where = " AND ".join(f"r.{level} = ?" for level, _ in levels)
                # Only products sold (or viewed): a category's unsold products in id order are no evidence,
                # and would crowd the similar list out of the same products on a shop's first day.
                found += [row["product_id"] for row in self.read(
                    f"SELECT r.product_id FROM rec_products r JOIN rec_items i ON i.key = r.key AND "
                    f"i.mode = r.mode AND i.product_id = r.product_id WHERE r.key = ? AND r.mode = ? AND {where} "
                    f"AND r.offered = 1 AND i.{measure} > 0 ORDER BY i.{measure} DESC, r.product_id LIMIT ?",
                    (self.key, self.mode, *(value for _, value in levels), limit * OVER_FETCH))]
                if len(set(found)) >= limit * OVER_FETCH:
                    break
            return list(dict.fromkeys(found))
        return [row["product_id"] for row in self.read(
            f"SELECT product_id FROM rec_items WHERE key = ? AND mode = ? AND {measure} > 0 ORDER BY {measure} DESC, "
            "product_id LIMIT ?", (self.key, self.mode, limit * OVER_FETCH))]

    def likest(self, product: str) -> list[str]:
        """The products most like this one, best first: the worker's work for the `similar` list. The
        deepest shared categories count most, then brand, the words of the name and a close price, as
        DataCue describes its similar list."""
        rows = self.products([product])
        if product not in rows:
            return []
        this = rows[product]
        levels = {level: this[level] for level in LEVELS if this[level] is not None}
        candidates: dict[str, dict] = {}
        for depth in range(len(levels), 0, -1):
            shared = list(levels.items())[:depth]
            where = " AND ".join(f"{level} = ?" for level, _ in shared)
            for row in self.read(f"{PRODUCTS} WHERE key = ? AND mode = ? AND {where} AND offered = 1 "
                                 "AND product_id <> ? LIMIT ?",
                                 (self.key, self.mode, *(v for _, v in shared), product, CANDIDATES)):
                candidates.setdefault(row["product_id"], row)
            if len(candidates) >= NEIGHBOURS:
                break
        words = set(_WORDS.findall((this["name"] or "").lower()))
        scored = {other: _likeness(this, row, words) for other, row in candidates.items()}
        return sorted(scored, key=lambda other: (-scored[other], other))[:NEIGHBOURS]

    def similar(self, product: str, limit: int) -> list[str]:
        """The products most like this one, best first (the worker's `similar` list)."""
        return self.listed(product, ALIKE)[:limit * OVER_FETCH]

    def matching(self, term: str, limit: int) -> list[str]:
        """Products whose name, brand or category holds the words of a search term, most words first,
        then the best sellers."""
        words = [w for w in dict.fromkeys(_WORDS.findall(term.lower())) if len(w) > 1][:5]
        if not words:
            return []
        fields = ("name", "brand", *LEVELS)
        condition = " OR ".join(f"lower({field}) LIKE ?" for field in fields for _ in words)
        rows = self.read(
            f"SELECT r.product_id, r.name, r.brand, r.category_1, r.category_2, r.category_3, r.category_4, "
            "coalesce(i.bought, 0) AS bought FROM rec_products r LEFT JOIN rec_items i ON i.key = r.key AND "
            f"i.mode = r.mode AND i.product_id = r.product_id WHERE r.key = ? AND r.mode = ? AND r.offered = 1 "
            f"AND ({condition}) LIMIT ?",
            (self.key, self.mode, *(f"%{w}%" for _ in fields for w in words), 500))

        def hits(row: dict) -> int:
            """How many of the term's words the product's text holds."""
            text = " ".join(str(row[f]).lower() for f in fields if row[f] is not None)
            return sum(w in text for w in words)

        return [row["product_id"] for row in sorted(rows, key=lambda r: (-hits(r), -r["bought"], r["product_id"]))]

    def products(self, ids: list[str]) -> dict[str, dict]:
        """The catalogue rows of these products, by id, as stored (the worker's reads: answers read the
        shelf, shown())."""
        return catalogue_rows(self.read, self.key, self.mode, ids)

    @property
    def shelf(self) -> Shelf:
        """This process's shelf of the site, brought up to date once per answer."""
        if self._shelf is None:
            self._shelf = shelf(self.storage, self.key, self.mode)
            self._shelf.catch_up(self.read, self.key, self.mode)
        return self._shelf

    def shown(self, ids: list[str]) -> list[Shown | None]:
        """These products as answers show them, in the same order (None for a product the catalogue
        lacks), from this process's shelf."""
        return self.shelf.fetch(self.read, self.key, self.mode, ids)

    def banners(self) -> list[dict]:
        """The site's banners with their clicks, in the order the shop sent them; kept for a few seconds
        per process, as every home page reads them."""
        return kept(("banners", self.store, self.key, self.mode), self._banners)

    def _banners(self) -> list[dict]:
        """banners() as read from the store."""
        clicks = {row["banner_id"]: row["clicks"] for row in self.read(
            "SELECT banner_id, clicks FROM rec_banners WHERE key = ? AND mode = ?", (self.key, self.mode))}
        found = []
        for row in self.read("SELECT payload FROM records WHERE key = ? AND type = 'banners' AND mode = ? "
                             "AND is_deleted = 0 ORDER BY received_at, record_id", (self.key, self.mode)):
            banner = loaded_payload(row["payload"])
            found.append({**banner, "clicks": clicks.get(str(banner.get("banner_id")), 0)})
        return found


def _wilson_lower(successes: float, trials: float, z: float) -> float:
    """The lower bound of the Wilson score interval of a proportion (0 with no trials)."""
    if trials <= 0:
        return 0.0
    share = min(successes / trials, 1.0)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return (share + z * z / (2 * trials) - spread) / (1 + z * z / trials)


def _likeness(product: dict, other: dict, words: set[str]) -> float:
    """How alike two products are: shared category levels (deeper weigh more), brand, name words, price."""
    score = 0.0
    for depth, level in enumerate(LEVELS, start=1):
        if product.get(level) is None or product[level] != other.get(level):
            break
        score += depth
    if product.get("brand") and product["brand"] == other.get("brand"):
        score += 2
    theirs = set(_WORDS.findall((other.get("name") or "").lower()))
    if words and theirs:
        score += 3 * len(words & theirs) / len(words | theirs)
    if product.get("price") and other.get("price") and product["price"] > 0 and other["price"] > 0:
        score += max(0.0, 1 - abs(math.log(other["price"] / product["price"])))
    return score

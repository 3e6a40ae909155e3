"""DataCue's answers to the events that load a page: which lists each gets, each list's fallbacks, the
filters every product passes, and the time budget.

- `pageview`/`home`: main_banners, sub_banners, related_product_skus (for this visitor), recent_product_skus;
- `pageview`/`product`: similar_product_skus, related_product_skus (bought together), recent_product_skus;
- `search`: related_product_skus (matching the term, then for this visitor);
- `viewcart`: related_product_skus (bought with the cart's products).

Never offered: a product out of stock or unavailable, a deleted one, the product on the page, what is in the
visitor's cart, a product already in another list of the same answer. docs/recommendations.md explains
every list to a shop owner.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from dataclasses import field

from .. import metrics
from ..config import list_lengths
from .catalogue import LEVELS
from .catalogue import answer_product
from .lists import SEEDS
from .lists import Lists

log = logging.getLogger("collector")

#: The events answered with recommendations, as (type, subtype), and the lists each answer holds.
LISTS = {("pageview", "home"): ("main_banners", "sub_banners", "related_product_skus", "recent_product_skus"),
         ("pageview", "product"): ("similar_product_skus", "related_product_skus", "recent_product_skus"),
         ("search", None): ("related_product_skus",), ("viewcart", None): ("related_product_skus",)}


def _page_type(event_type: str, subtype: str | None) -> tuple[str, str | None]:
    """An event's key in LISTS (only page views are told apart by their subtype)."""
    return event_type, subtype if event_type == "pageview" else None


def answers(event_type: str, subtype: str | None) -> bool:
    """Whether an event of this type is answered with recommendations."""
    return _page_type(event_type, subtype) in LISTS


@dataclass
class _Page:
    """One answer being made: what may no longer be offered, and the time left."""

    lists: Lists
    deadline: float
    excluded: set
    late: bool = False
    rows: dict = field(default_factory=dict)

    def products(self, ids: list[str]) -> dict[str, dict]:
        """The catalogue rows of these products (each read once per answer)."""
        missing = [i for i in ids if i not in self.rows]
        if missing:
            found = self.lists.products(missing)
            self.rows.update({i: found.get(i) for i in missing})
        return {i: self.rows[i] for i in ids if self.rows[i] is not None}

    def fill(self, length: int, *sources) -> list[dict]:
        """Up to `length` products offered from the sources in turn (each a callable giving ids, best
        first), skipping what is excluded or not offered; an empty list once the time is up."""
        if length == 0:
            return []
        chosen: list[dict] = []
        for source in sources:
            if time.monotonic() > self.deadline:
                self.late = True
                break
            ids = [i for i in dict.fromkeys(source()) if i not in self.excluded]
            rows = self.products(ids)
            for product_id in ids:
                row = rows.get(product_id)
                if row is not None and not row["offered"]:
                    continue
                chosen.append(answer_product(row) if row is not None else {"product_id": product_id})
                self.excluded.add(product_id)
                if len(chosen) == length:
                    return chosen
        return chosen


def recommend(storage, row: dict, settings: dict) -> dict:
    """The lists answering one stored event (its row), as DataCue names them; every list empty when the
    engine fails, so that the event, already stored, is answered all the same."""
    started = time.monotonic()
    try:
        with storage.shared_reads() as read:
            page = _Page(Lists(storage, row["key"], row["mode"], read),
                         started + settings["RECOMMENDATION_BUDGET_MS"] / 1000.0, set())
            found = _lists(page, row, list_lengths(settings["RECOMMENDATION_LENGTHS"]))
        metrics.RECOMMENDATIONS.labels("late" if page.late else "answered").inc()
        return found
    except Exception:
        log.exception("recommendations failed for a %s event; answered with empty lists", row["type"])
        metrics.RECOMMENDATIONS.labels("failed").inc()
        return dict.fromkeys(LISTS[_page_type(row["type"], row["subtype"])], [])


def _lists(page: _Page, row: dict, length: dict[str, int]) -> dict:
    """Every list of the event's page. The recently viewed list is made first (it is the visitor's own
    history, never crowded out); the others then offer what it does not show."""
    lists = page.lists
    visitor = lists.visitor(row["user_id"], row["anonymous_id"])
    cart = [line["product_id"] for line in row.get("lines") or () if line.get("product_id")] \
        if row["type"] == "viewcart" else lists.cart(visitor)
    page.excluded.update(cart)
    viewed = lists.viewed(visitor)
    seeds = list(dict.fromkeys([*cart, *viewed]))[:SEEDS]
    n = length["related"]
    if row["type"] == "viewcart":
        return {"related_product_skus": page.fill(n, lambda: lists.bought_with(cart, n),
                                                  lambda: lists.viewed_with(cart, n),
                                                  *_for_visitor(page, seeds, n))}
    if row["type"] == "search":
        term = row.get("term") or ""
        return {"related_product_skus": page.fill(n, lambda: lists.matching(term, n),
                                                  *_for_visitor(page, seeds, n))}
    if row["subtype"] == "home":
        main, sub = _banners(page, viewed)
        recent = page.fill(length["recent"], lambda: viewed)
        related = page.fill(n, *_for_visitor(page, seeds, n))
        return {"main_banners": main, "sub_banners": sub, "related_product_skus": related,
                "recent_product_skus": recent}
    product = row["product_id"]
    page.excluded.add(product)
    page.products([product, *viewed[:length["recent"] * 2]])  # one read for the page's product and the recent
    recent = page.fill(length["recent"], lambda: viewed)
    this = page.products([product]).get(product) or {"product_id": product}
    categories = {level: this[level] for level in LEVELS if this.get(level) is not None}
    n = length["bought_together"]
    related = page.fill(n, lambda: lists.bought_with([product], n),
                        lambda: lists.viewed_with([product], n),
                        lambda: lists.popular("bought", n, categories), lambda: lists.popular("bought", n))
    n = length["similar"]
    similar = page.fill(n, lambda: lists.similar(product, n), lambda: lists.viewed_with([product], n),
                        lambda: lists.popular("viewed", n, categories))
    return {"similar_product_skus": similar, "related_product_skus": related, "recent_product_skus": recent}


def _for_visitor(page: _Page, seeds: list[str], n: int) -> tuple:
    """A visitor's list, source by source: from what they carted and viewed (item to item, the newest
    weighing most), then trending in the categories they viewed, then on the whole site, then best sellers."""
    lists = page.lists

    def liked_categories() -> list[str]:
        """Trending products of the visitor's most viewed top-level categories."""
        rows = page.products(seeds)
        tops = list(dict.fromkeys(rows[p]["category_1"] for p in seeds if p in rows and rows[p]["category_1"]))
        found = []
        for top in tops[:3]:
            found += lists.popular("viewed", n, {"category_1": top})
        return found

    return (lambda: lists.bought_with(seeds, n), lambda: lists.viewed_with(seeds, n),
            liked_categories, lambda: lists.popular("viewed", n), lambda: lists.popular("bought", n))


def _banners(page: _Page, viewed: list[str]) -> tuple[list[dict], list[dict]]:
    """Every banner of each type, those of the categories the visitor viewed most first, then by clicks:
    a banner slot is never empty while the site has banners."""
    interest: dict[tuple[str, str], float] = {}
    lists = page.lists
    rows = page.products(viewed[:20])
    for rank, product in enumerate(viewed[:20]):
        for level in LEVELS:
            value = (rows.get(product) or {}).get(level)
            if value is not None:
                interest[(level, value)] = interest.get((level, value), 0.0) + 1.0 / (rank + 1)
    shown = {"main": [], "sub": []}
    for banner in sorted(lists.banners(), key=lambda b: (
            -sum(interest.get((level, b.get(level)), 0.0) for level in LEVELS), -b["clicks"])):
        if banner.get("type") in shown:
            shown[banner["type"]].append({"banner_id": banner.get("banner_id"), "name": banner.get("name") or "",
                                          "photo_url": banner.get("photo_url"), "link": banner.get("link")})
    return shown["main"], shown["sub"]

"""DataCue's answers to the events that load a page: which lists each gets, each list's fallbacks, the
filters every product passes, and the time budget.

- `pageview`/`home`: main_banners, sub_banners, related_product_skus (for this visitor), recent_product_skus;
- `pageview`/`product`: similar_product_skus, related_product_skus (bought together), recent_product_skus;
- `search`: related_product_skus (matching the term, then for this visitor);
- `viewcart`: related_product_skus (bought with the cart's products).

Never offered: a product out of stock or unavailable, a deleted one, the product on the page, what is in the
visitor's cart or among what they bought lately, a product already in another list of the same answer.
docs/recommendations.md explains every list to a shop owner.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from .. import metrics
from ..config import list_lengths
from .catalogue import LEVELS
from .lists import SEEDS
from .lists import Lists
from .sites import held_out
from .sites import kept_site_settings

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

    def categories(self, ids: list[str]) -> dict[str, dict[str, str]]:
        """The categories of these products, by level (a product the catalogue lacks has none)."""
        return {i: {level: value for level, value in zip(LEVELS, shown[1], strict=True) if value is not None}
                for i, shown in zip(ids, self.lists.shown(ids), strict=True) if shown is not None}

    def fill(self, length: int, *sources) -> list[str]:
        """Up to `length` products offered from the sources in turn (each a callable giving ids, best
        first), skipping what is excluded or not offered, as their JSON text; an empty list once the time
        is up."""
        if length == 0:
            return []
        chosen: list[str] = []
        for source in sources:
            if time.monotonic() > self.deadline:
                self.late = True
                break
            ids = [i for i in dict.fromkeys(source()) if i not in self.excluded]
            start = 0
            while start < len(ids):
                # Looked up a few more than are missing at a time: a list's tail is rarely reached, and
                # every product looked up for the first time is read from the store.
                part = ids[start:start + 2 * (length - len(chosen))]
                start += len(part)
                for product_id, shown in zip(part, self.lists.shown(part), strict=True):
                    offered, _, text = shown or (None, None, None)
                    if offered is None:  # offered as its id alone, for a shop that renders from its own catalogue
                        chosen.append(json.dumps({"product_id": product_id}, ensure_ascii=False))
                    elif offered:
                        chosen.append(text)
                    else:
                        continue
                    self.excluded.add(product_id)
                    if len(chosen) == length:
                        return chosen
        return chosen


def recommend(storage, row: dict, settings: dict) -> str:
    """The lists answering one stored event (its row), as DataCue names them, as the answer's JSON text;
    every list empty when the engine fails, so that the event, already stored, is answered all the same."""
    started = time.monotonic()
    try:
        with storage.shared_reads() as read:
            page = _Page(Lists(storage, row["key"], row["mode"], read),
                         started + settings["RECOMMENDATION_BUDGET_MS"] / 1000.0, set())
            site = kept_site_settings(read, page.lists.store, row["key"])
            lengths = {**list_lengths(settings["RECOMMENDATION_LENGTHS"]), **site.lengths}
            plain = held_out(row["key"], row["anonymous_id"], row["user_id"], site.holdout)
            found = _lists(page, row, lengths, plain)
        metrics.RECOMMENDATIONS.labels("late" if page.late else "answered").inc()
    except Exception:
        log.exception("recommendations failed for a %s event; answered with empty lists", row["type"])
        metrics.RECOMMENDATIONS.labels("failed").inc()
        found = dict.fromkeys(LISTS[_page_type(row["type"], row["subtype"])], [])
    # Joined from the products' kept texts: encoding some thirty objects again would cost more than the rest.
    return "{" + ",".join(f'"{name}":[{",".join(items)}]' for name, items in found.items()) + "}"


def _lists(page: _Page, row: dict, length: dict[str, int], plain: bool = False) -> dict[str, list[str]]:
    """Every list of the event's page, each product or banner as its JSON text. The recently viewed list
    is made first (it is the visitor's own history, never crowded out); the others then offer what it does
    not show. A visitor in the site's holdout gets `plain` lists instead: the same recently viewed list,
    banners by clicks alone, and every other list the site's best sellers (then its trending products)."""
    lists = page.lists
    visitor = lists.visitor(row["user_id"], row["anonymous_id"])
    viewed, cart, bought = lists.history(visitor)
    if row["type"] == "viewcart":
        cart = [line["product_id"] for line in row.get("lines") or () if line.get("product_id")]
    page.excluded.update(cart + bought)
    if plain:
        return _plain(page, row, length, viewed)
    # What they bought is a seed too, but never crowds out all they viewed since.
    seeds = list(dict.fromkeys([*cart, *viewed[:SEEDS - 3], *bought[:3], *viewed]))[:SEEDS]
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
    recent = page.fill(length["recent"], lambda: viewed)
    categories = page.categories([product]).get(product, {})
    n = length["bought_together"]
    related = page.fill(n, lambda: lists.bought_with([product], n),
                        lambda: lists.viewed_with([product], n),
                        lambda: lists.popular("bought", n, categories), lambda: lists.popular("bought", n))
    n = length["similar"]
    similar = page.fill(n, lambda: lists.similar(product, n), lambda: lists.viewed_with([product], n),
                        lambda: lists.popular("viewed", n, categories))
    return {"similar_product_skus": similar, "related_product_skus": related, "recent_product_skus": recent}


def _plain(page: _Page, row: dict, length: dict[str, int], viewed: list[str]) -> dict[str, list[str]]:
    """The holdout's lists: nothing chosen for this visitor or this product, only what every visitor would
    be shown (the best sellers, then trending products); the recently viewed list and the filters are the
    same as everyone's, so that the groups differ in personalization alone."""
    lists = page.lists

    def best(n: int) -> tuple:
        """The site's best sellers, then its trending products."""
        return lambda: lists.popular("bought", n), lambda: lists.popular("viewed", n)

    if row["type"] in ("viewcart", "search"):
        return {"related_product_skus": page.fill(length["related"], *best(length["related"]))}
    recent = page.fill(length["recent"], lambda: viewed)
    if row["subtype"] == "home":
        main, sub = _banners(page, [])
        return {"main_banners": main, "sub_banners": sub,
                "related_product_skus": page.fill(length["related"], *best(length["related"])),
                "recent_product_skus": recent}
    page.excluded.add(row["product_id"])
    related = page.fill(length["bought_together"], *best(length["bought_together"]))
    return {"similar_product_skus": page.fill(length["similar"], *best(length["similar"])),
            "related_product_skus": related, "recent_product_skus": recent}


def _for_visitor(page: _Page, seeds: list[str], n: int) -> tuple:
    """A visitor's list, source by source: from what they carted, viewed and bought (item to item, the
    newest weighing most), then trending in the categories they viewed, then on the whole site, then best sellers."""
    lists = page.lists

    def liked_categories() -> list[str]:
        """Trending products of the visitor's most viewed top-level categories."""
        rows = page.categories(seeds)
        tops = list(dict.fromkeys(rows[p]["category_1"] for p in seeds if "category_1" in rows.get(p, {})))
        found = []
        for top in tops[:3]:
            found += lists.popular("viewed", n, {"category_1": top})
        return found

    return (lambda: lists.bought_with(seeds, n), lambda: lists.viewed_with(seeds, n),
            liked_categories, lambda: lists.popular("viewed", n), lambda: lists.popular("bought", n))


def _banners(page: _Page, viewed: list[str]) -> tuple[list[str], list[str]]:
    """Every banner of each type, those of the categories the visitor viewed most first, then by clicks,
    as their JSON text: a banner slot is never empty while the site has banners."""
    banners = page.lists.banners()
    if not banners:  # most shops: nothing to rank, so no product read for it
        return [], []
    interest: dict[tuple[str, str], float] = {}
    rows = page.categories(viewed[:20])
    for rank, product in enumerate(viewed[:20]):
        for level, value in rows.get(product, {}).items():
            interest[(level, value)] = interest.get((level, value), 0.0) + 1.0 / (rank + 1)
    shown = {"main": [], "sub": []}
    for banner in sorted(banners, key=lambda b: (
            -sum(interest.get((level, b.get(level)), 0.0) for level in LEVELS), -b["clicks"])):
        if banner.get("type") in shown:
            shown[banner["type"]].append(json.dumps({
                "banner_id": banner.get("banner_id"), "name": banner.get("name") or "",
                "photo_url": banner.get("photo_url"), "link": banner.get("link")}, ensure_ascii=False,
                separators=(",", ":")))
    return shown["main"], shown["sub"]

"""The shop reports (products, searches, clicks, wishlist, Cobi interactions and items, events, bots, revenue
and the default funnel), made from their measures' rows (collector/analytics/tallies.py): `readers.tallied` (the rollups
of the period's whole hours) by default, or `readers.from_events` (the same definitions over the events). Names
come from the catalogue (DataCue's backend, or what product pages reported), the banners and Cobi's items.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from ..analytics import funnel
from ..analytics import readers
from ..analytics import tallies
from .queries import half_up
from .queries import percent
from .queries import query

#: Rows a ranked report answers at most.
TOP = 20
#: Clicked banners and products answered at most.
CLICKS_LIMIT = 100


def _marks(values: list) -> str:
    """As many placeholders as values."""
    return ", ".join("?" for _ in values)


def _names(analytics, sql: str, ids: list, keys) -> dict:
    """A lookup's rows by their first column (`sql` takes the ids, then the sites' keys)."""
    if not ids:
        return {}
    return {row[0]: row[1:] for row in query(analytics, sql.format(marks=_marks(ids)), keys, tuple(ids))[1]}


def products(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Top products: views, items put in carts, items bought in orders not cancelled, the cart-to-purchase
    rate (%), with the catalogue's name, brand, price and category."""
    found = source(analytics, ("product_views", "carts", "purchases"), since, until, mode, keys)
    figures: dict[str, list] = {}
    for column, name in enumerate(("product_views", "carts", "purchases")):
        for product, _, _, n, amount, _, _ in found[name]:
            figures.setdefault(product, [0, 0, 0])[column] += n if column == 0 else int(amount or 0)
    ranked = sorted(figures.items(), key=lambda pair: (-pair[1][0], -pair[1][2], pair[0]))[:TOP]
    catalogue = _names(analytics, "SELECT product_id, min(name), min(brand), min(price), min(category), min(source) "
                                "FROM catalogue WHERE product_id IN ({marks})[[sites ]] GROUP BY product_id",
                       [product for product, _ in ranked], keys)
    return (["product_id", "name", "brand", "price", "category", "catalogue", "views", "carted", "bought",
             "cart_to_purchase"],
            [(product or None, *catalogue.get(product, (None,) * 5), views, carted, bought,
              percent(bought, carted, 1))
             for product, (views, carted, bought) in ranked])


def searches(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Top search terms, and how many were followed by no product view before the session's next search."""
    rows = source(analytics, ("searches",), since, until, mode, keys)["searches"]
    ranked = sorted(rows, key=lambda row: (-row[3], row[0]))[:TOP]
    return (["term", "searches", "no_product_view"],
            [(term, n, int(amount or 0)) for term, _, _, n, amount, _, _ in ranked])


def wishlist(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Wishlist adds and removes per product."""
    figures: dict[str, list[int]] = {}
    for subtype, product, _, n, _, _, _ in source(analytics, ("wishlist",), since, until, mode, keys)["wishlist"]:
        counts = figures.setdefault(product, [0, 0])
        if subtype in ("add", "remove"):
            counts[subtype == "remove"] += n
    ranked = sorted(figures.items(), key=lambda pair: (-pair[1][0], pair[0]))
    return ["product_id", "adds", "removes"], [(product or None, adds, removes) for product, (adds, removes) in ranked]


def clicks(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Banner and product clicks, with the banner's or product's name, and clicks per 100 page views."""
    found = source(analytics, ("clicks", "pageviews"), since, until, mode, keys)
    pageviews = sum(row[3] for row in found["pageviews"])
    ranked = sorted(found["clicks"], key=lambda row: (-row[3], row[0], row[1]))[:CLICKS_LIMIT]
    banners = _names(analytics, "SELECT banner_id, min(name) FROM datacue_banners WHERE banner_id IN ({marks})"
                              "[[sites ]] GROUP BY banner_id", [row[1] for row in ranked if row[0] == "banner"], keys)
    named = _names(analytics, "SELECT product_id, min(name) FROM catalogue WHERE product_id IN ({marks})[[sites ]] "
                            "GROUP BY product_id", [row[1] for row in ranked if row[0] != "banner"], keys)
    return (["kind", "id", "name", "clicks", "per_100_pageviews"],
            [(kind or None, clicked or None, (banners if kind == "banner" else named).get(clicked, (None,))[0], n,
              percent(n, pageviews, 2)) for kind, clicked, _, n, _, _, _ in ranked])


def interactions(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Cobi interactions by item type and interaction type, and the distinct items they were on."""
    figures: dict[tuple[str, str], list] = {}
    rows = source(analytics, ("interactions",), since, until, mode, keys)["interactions"]
    for item_type, kind, item, n, _, _, _ in rows:
        counts = figures.setdefault((item_type, kind), [0, set()])
        counts[0] += n
        counts[1].add(item)
    ranked = sorted(figures.items(), key=lambda pair: (-pair[1][0], pair[0]))
    return (["item_type", "interaction_type", "interactions", "items"],
            [(item_type or None, kind or None, n, len(items)) for (item_type, kind), (n, items) in ranked])


def items(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Cobi items with the most interactions, named where the Data API sent them."""
    figures: Counter = Counter()
    rows = source(analytics, ("interactions",), since, until, mode, keys)["interactions"]
    for item_type, _, item, n, _, _, _ in rows:
        figures[(item_type, item)] += n
    ranked = sorted(figures.items(), key=lambda pair: (-pair[1], pair[0]))[:TOP]
    names = _names(analytics, "SELECT item_type || ' ' || item_id, max(name) FROM cobi_items WHERE item_type || ' ' || "
                            "item_id IN ({marks})[[sites ]] GROUP BY item_type, item_id",
                   [f"{item_type} {item}" for (item_type, item), _ in ranked], keys)
    return (["item_type", "item_id", "name", "interactions"],
            [(item_type or None, item or None, names.get(f"{item_type} {item}", (None,))[0], n)
             for (item_type, item), n in ranked])


def events(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Events per day and type (people's: bots are counted apart)."""
    rows = source(analytics, ("events",), since, until, mode, keys)["events"]
    return ["day", "type", "events"], sorted((day, kind, n) for kind, day, _, n, _, _, _ in rows)


def bots(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Bots by why they are bots, with the first and last time each was seen."""
    rows = source(analytics, ("bots",), since, until, mode, keys)["bots"]
    ranked = sorted(rows, key=lambda row: (-row[3], row[0]))
    return (["reason", "events", "first_seen", "last_seen"],
            [(reason, n, first, last) for reason, _, _, n, _, first, last in ranked])


def revenue(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """Completed orders (not cancelled) and revenue per day and currency."""
    rows = source(analytics, ("sales",), since, until, mode, keys)["sales"]
    # An order whose lines mix currencies has none: it sorts first among its day's rows.
    return (["day", "currency", "orders", "revenue"],
            sorted(((day, currency or None, n, half_up(amount, 2) if amount is not None else None)
                    for currency, day, _, n, amount, _, _ in rows), key=lambda row: (row[0], row[1] or "")))


def sales(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied
          ) -> tuple[int, float | None, str]:
    """The period's completed orders, and their revenue and currency when they share one (else None, '')."""
    rows = source(analytics, ("sales",), since, until, mode, keys)["sales"]
    orders = sum(row[3] for row in rows)
    currencies = {row[0] for row in rows}
    amounts = [row[4] for row in rows if row[4] is not None]
    if len(currencies) != 1 or "" in currencies or not amounts:
        return orders, None, ""
    return orders, sum(amounts), currencies.pop()


def default_funnel(analytics, since: str, until: str, mode: str, keys, source: Callable = readers.tallied):
    """The default funnel (product view to order completed, in a visit), from its tallies."""
    found = source(analytics, (tallies.FUNNEL, tallies.FUNNEL_GAPS), since, until, mode, keys)
    steps = funnel.DEFAULT_STEPS
    counts = [0] * len(steps)
    gaps = [Counter() for _ in steps]
    for step, _, _, n, _, _, _ in found[tallies.FUNNEL]:
        counts[int(step)] += n
    for step, seconds, _, n, _, _, _ in found[tallies.FUNNEL_GAPS]:
        gaps[int(step)][int(seconds)] += n
    return funnel.COLUMNS, funnel.shape(steps, counts, gaps)

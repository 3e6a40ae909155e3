"""What recommendations earn: each widget list's impressions, clicks and the orders that followed a click on
one of its products within the visit (`lists`), and a site's holdout group against everyone else
(`holdout`), read from the events (docs/recommendations.md, "What they earn"). People's events only: bots
are left out, as everywhere.
"""

from __future__ import annotations

import math
from collections import Counter
from collections import defaultdict

from ..access.sites import period_filter
from ..recommendations.sites import held_out
from .panels import change
from .panels import previous_period
from .queries import half_up
from .queries import percent
from .queries import query

#: The z of a 95% confidence interval.
Z95 = 1.96


def _list(analytics, alias: str = "") -> str:
    """The SQL of an event's `list` (the widget list a click or an impression names)."""
    return analytics.dialect.event_field(f"{alias}payload", "list")


def _figures(analytics, since: str, until: str, mode: str, keys) -> dict[str, dict]:
    """One period's figures per list: impressions, clicks, and the orders (completed, by their event ids)
    that held a product clicked from the list earlier in the same visit, with their revenue and currency."""
    found: dict[str, dict] = defaultdict(_empty)
    params = (mode, since, until)
    for kind in ("impression", "click"):
        sql = (f"SELECT {_list(analytics)} AS list, count(*) AS n FROM events WHERE type = '{kind}' AND bot IS NULL "
               f"AND {period_filter()} AND {_list(analytics)} IS NOT NULL GROUP BY {_list(analytics)}")
        for name, n in query(analytics, sql, keys, params)[1]:
            found[name][kind + "s"] += n
    sql = (f"SELECT DISTINCT {_list(analytics, 'c.')} AS list, o.id, o.revenue, o.currency FROM events c "
           "JOIN events o ON o.session_id = c.session_id AND o.key = c.key AND o.mode = c.mode AND o.type = 'order' "
           "AND o.subtype = 'completed' AND o.event_time >= c.event_time AND o.bot IS NULL "
           "JOIN event_lines l ON l.event_pk = o.id AND l.product_id = c.product_id "
           f"WHERE c.type = 'click' AND c.subtype = 'product' AND c.bot IS NULL AND {period_filter('c.')} "
           f"AND c.session_id IS NOT NULL AND {_list(analytics, 'c.')} IS NOT NULL")
    for name, order, revenue, currency in query(analytics, sql, keys, params)[1]:
        found[name]["orders"][order] = (revenue, currency)
    return found


def _empty() -> dict:
    """A list's figures in a period it did not appear in."""
    return {"impressions": 0, "clicks": 0, "orders": {}}


def _revenue(orders: dict) -> tuple[float | None, str | None]:
    """The orders' revenue and its currency (None for both when they mix currencies or have none)."""
    currencies = {currency for _, currency in orders.values()}
    if len(currencies) != 1 or None in currencies:
        return None, None
    return half_up(sum(revenue or 0 for revenue, _ in orders.values()), 2), currencies.pop()


def lists(analytics, since: str, until: str, mode: str, keys) -> tuple[list[str], list[tuple]]:
    """Per widget list: impressions, clicks, click-through (%), orders after a click on one of its products
    in the same visit and their revenue, with the period before's and the change in revenue (%)."""
    now = _figures(analytics, since, until, mode, keys)
    before = _figures(analytics, *previous_period(since, until), mode, keys)
    rows = []
    for name in sorted(set(now) | set(before), key=lambda n: (-now[n]["impressions"] if n in now else 0, n)):
        this, that = now.get(name) or _empty(), before.get(name) or _empty()
        revenue, currency = _revenue(this["orders"])
        earlier, _ = _revenue(that["orders"])
        rows.append((name, this["impressions"], this["clicks"], percent(this["clicks"], this["impressions"], 1),
                     len(this["orders"]), revenue, currency, that["impressions"], that["clicks"],
                     percent(that["clicks"], that["impressions"], 1), len(that["orders"]), earlier,
                     change(revenue, earlier)))
    return (["list", "impressions", "clicks", "click_through", "orders", "revenue", "currency",
             "previous_impressions", "previous_clicks", "previous_click_through", "previous_orders",
             "previous_revenue", "revenue_change"], rows)


def _visitors(analytics, since: str, until: str, mode: str, keys) -> dict[tuple[str, str], dict]:
    """Each visitor of the period who loaded a page (the visitors recommendations could reach), by site and
    visitor (the anonymous id where there is one, as the holdout draws them): their impressions, clicks on
    a widget's product or banner, and completed orders' revenue with its currency."""
    sql = ("SELECT key, anonymous_id, user_id, type, count(*) AS n, sum(revenue) AS revenue, min(currency), "
           "max(currency), sum(CASE WHEN type = 'click' AND "
           f"{_list(analytics)} IS NULL THEN 1 ELSE 0 END) AS plain_clicks FROM events WHERE bot IS NULL AND "
           f"{period_filter()} AND (type IN ('pageview', 'search', 'viewcart', 'impression', 'click') OR "
           "(type = 'order' AND subtype = 'completed')) GROUP BY key, anonymous_id, user_id, type")
    found: dict[tuple[str, str], dict] = {}
    rows = query(analytics, sql, keys, (mode, since, until))[1]
    for key, anonymous, user, kind, n, revenue, low, high, plain in rows:
        visitor = anonymous if anonymous is not None else user
        if visitor is None:
            continue
        one = found.setdefault((key, visitor), {"anonymous": anonymous, "user": user, "pages": 0, "impressions": 0,
                                                "clicks": 0, "revenue": 0.0, "currencies": set()})
        if kind in ("pageview", "search", "viewcart"):
            one["pages"] += n
        elif kind == "impression":
            one["impressions"] += n
        elif kind == "click":
            one["clicks"] += n - plain
        else:
            one["revenue"] += revenue or 0.0
            one["currencies"].update(c for c in (low, high) if c is not None)
    return {visitor: one for visitor, one in found.items() if one["pages"]}


def _holdouts(analytics, keys) -> dict[str, float]:
    """Each site's holdout share (sites that set none are not there)."""
    return dict(query(analytics, "SELECT key, holdout FROM rec_sites WHERE holdout > 0[[sites ]]", keys, ())[1])


def holdout(analytics, since: str, until: str, mode: str, keys) -> tuple[list[str], list[tuple]]:
    """The holdout group (plain best sellers) against the personalized one: visitors who loaded a page,
    impressions, clicks on widgets, click-through (%), revenue and revenue per visitor; then their
    difference (personalized less holdout) with its 95% confidence interval."""
    shares = _holdouts(analytics, keys)
    groups: dict[str, list[dict]] = {"personalized": [], "holdout": []}
    currencies: Counter = Counter()
    for (key, _), one in _visitors(analytics, since, until, mode, keys).items():
        plain = held_out(key, one["anonymous"], one["user"], shares.get(key, 0.0))
        groups["holdout" if plain else "personalized"].append(one)
        currencies.update(one["currencies"])
    currency = currencies.most_common(1)[0][0] if currencies else None
    totals = {name: {figure: sum(m[figure] for m in members) for figure in ("impressions", "clicks", "revenue")}
              for name, members in groups.items()}
    rows = []
    for name, members in groups.items():
        impressions, clicks, revenue = totals[name].values()
        rows.append((name, len(members), impressions, clicks, percent(clicks, impressions, 1), half_up(revenue, 2),
                     half_up(revenue / len(members), 2) if members else None, currency, None, None))
    mine, theirs = groups["personalized"], groups["holdout"]
    if mine and theirs:
        ours, held = totals["personalized"], totals["holdout"]
        ctr, ctr_low, ctr_high = _proportions(ours["clicks"], ours["impressions"], held["clicks"], held["impressions"])
        per, low, high = _means([m["revenue"] for m in mine], [m["revenue"] for m in theirs])
        rows.append(("difference", None, None, None, ctr, None, per, currency,
                     f"{ctr_low} to {ctr_high}" if ctr is not None else None,
                     f"{low} to {high}" if per is not None else None))
    return (["group", "visitors", "impressions", "clicks", "click_through", "revenue", "revenue_per_visitor",
             "currency", "click_through_95", "revenue_per_visitor_95"], rows)


def _proportions(a: int, n: int, b: int, m: int) -> tuple[float | None, float | None, float | None]:
    """The difference of two rates in points (a/n less b/m, %) and its 95% interval (normal approximation)."""
    if not n or not m:
        return None, None, None
    p, q = a / n, b / m
    spread = Z95 * math.sqrt(p * (1 - p) / n + q * (1 - q) / m)
    return half_up(100 * (p - q), 1), half_up(100 * (p - q - spread), 1), half_up(100 * (p - q + spread), 1)


def _means(mine: list[float], theirs: list[float]) -> tuple[float | None, float | None, float | None]:
    """The difference of two means and its 95% interval (Welch's, normal approximation: a holdout has
    hundreds of visitors or its interval says it cannot tell)."""
    if len(mine) < 2 or len(theirs) < 2:
        return None, None, None

    def mean_var(values: list[float]) -> tuple[float, float]:
        """Mean and sample variance."""
        mean = sum(values) / len(values)
        return mean, sum((v - mean) ** 2 for v in values) / (len(values) - 1)

    (a, va), (b, vb) = mean_var(mine), mean_var(theirs)
    spread = Z95 * math.sqrt(va / len(mine) + vb / len(theirs))
    return half_up(a - b, 2), half_up(a - b - spread, 2), half_up(a - b + spread, 2)

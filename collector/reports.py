"""The analyst reports, one module for the CLI, the reports API and the dashboard.

Each report is one read-only query over a period, a mode and the sites it may read, in SQL both backends
run. A report's SQL marks each place that filters by period with `period_filter(alias)`; the sites' keys are put
in there when it runs (every key: no condition at all).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from . import funnel
from . import panels
from .clock import iso
from .clock import utcnow
from .schemas.datacue import EVENT_TYPES
from .sites import period_filter

_PERIOD = period_filter()


@dataclass(frozen=True)
class Report:
    """A named query; `repeat` is how many times it needs the (mode, since, until, keys) parameters. A
    report computed in Python instead (the funnel) has `compute(storage, since, until, mode, keys, **options)`
    and the options it takes."""

    title: str
    sql: str = ""
    repeat: int = 1
    compute: Callable | None = None
    options: tuple[str, ...] = ()


#: Every type an event row can have: the DataCue types the schemas accept, and Cobi's one.
_TYPES = (*EVENT_TYPES, "interaction")


def _funnel(storage, since: str, until: str, mode: str, keys: tuple[str, ...] | None, steps: str | None = None,
            window: str | None = None, breakdown: str | None = None) -> tuple[list[str], list[tuple]]:
    """The funnel report: its steps (default product view to order completed), window (default a session)
    and breakdown (default none)."""
    return funnel.run(storage, funnel.parse_steps(steps) if steps else funnel.DEFAULT_STEPS,
                      funnel.parse_window(window), since, until, mode, keys, breakdown or None)


REPORTS: dict[str, Report] = {
    "overview": Report(
        "Headline figures (visitors, visits, page views, bounce rate, duration, orders, revenue, conversion) "
        "with the previous period's", compute=panels.overview),
    "visitors": Report(
        "Visitors, visits, page views, bounce rate and duration over time (hours, days or weeks by the period)",
        compute=panels.series),
    "pages": Report("Top pages: page views and the visitors who viewed each page", compute=panels.pages),
    "entry_pages": Report("Entry pages: the pages visits started on", compute=panels.entry_pages),
    "exit_pages": Report("Exit pages: the pages visits ended on, and exits per 100 views of each",
                         compute=panels.exit_pages),
    "sources": Report("Sources: the site that referred each visit (Direct / None without one)",
                      compute=panels.visit_breakdown("source", "Direct / None")),
    "utm_sources": Report("UTM sources of visits that came with one", compute=panels.visit_breakdown("utm_source")),
    "utm_mediums": Report("UTM mediums of visits that came with one", compute=panels.visit_breakdown("utm_medium")),
    "utm_campaigns": Report("UTM campaigns of visits that came with one",
                            compute=panels.visit_breakdown("utm_campaign")),
    "devices": Report("Devices (Desktop, Mobile, Tablet) of visits",
                      compute=panels.visit_breakdown("device", "(not set)", share=True)),
    "browsers": Report("Browsers of visits", compute=panels.visit_breakdown("browser", "(not set)", share=True)),
    "operating_systems": Report("Operating systems of visits",
                                compute=panels.visit_breakdown("os", "(not set)", share=True)),
    "funnel": Report(
        "Units doing each step in order (default: sessions, product view to order completed)",
        compute=_funnel, options=("steps", "window", "breakdown")),
    "revenue": Report(
        "Completed orders (not cancelled) and revenue per day and currency",
        "SELECT substr(completed_at, 1, 10) AS day, currency, count(*) AS orders, sum(revenue) AS revenue "
        f"FROM orders WHERE {period_filter(time='completed_at')} AND status = 'completed' "
        "GROUP BY substr(completed_at, 1, 10), currency ORDER BY day, currency"),
    "products": Report(
        "Top products: viewed, in carts, bought, the cart-to-purchase rate (%), names, brands, prices, categories",
        "SELECT a.product_id, min(c.name) AS name, min(c.brand) AS brand, min(c.price) AS price,"
        " min(c.category) AS category, min(c.source) AS catalogue,"
        " sum(a.viewed) AS views, sum(a.carted) AS carted, sum(a.bought) AS bought,"
        " round(100.0 * sum(a.bought) / NULLIF(sum(a.carted), 0), 1) AS cart_to_purchase FROM ("
        f" SELECT key, product_id, 1 AS viewed, 0 AS carted, 0 AS bought FROM product_views WHERE {_PERIOD}"
        " UNION ALL SELECT e.key, l.product_id, 0, coalesce(l.quantity, 1), 0 FROM event_lines l"
        f" JOIN events e ON e.id = l.event_pk WHERE e.type = 'viewcart' AND {period_filter('e.')} AND e.bot IS NULL"
        " UNION ALL SELECT ol.key, ol.product_id, 0, 0, coalesce(ol.quantity, 1) FROM order_lines ol"
        f" WHERE {period_filter('ol.')}"
        # Not a join with the orders view but one list of cancelled orders (by the browser or the
        # backend), which keeps the plan linear whatever the planner knows; one text value per order
        # because SQLite's row-value IN is slow. A key has one mode, so key and order id name an order.
        " AND ol.key || ' ' || ol.order_id NOT IN (SELECT key || ' ' || order_id FROM events"
        " WHERE type = 'order' AND subtype = 'cancelled' AND order_id IS NOT NULL"
        " UNION ALL SELECT key || ' ' || order_id FROM datacue_orders WHERE status = 'cancelled')"
        # The catalogue has one row per site and product, so the join adds names without adding rows.
        ") AS a LEFT JOIN catalogue c ON c.key = a.key AND c.product_id = a.product_id"
        " GROUP BY a.product_id ORDER BY views DESC, bought DESC, a.product_id LIMIT 20",
        repeat=3),
    "searches": Report(
        "Top search terms, and how many were followed by no product view before the session's next search",
        "SELECT term, count(*) AS searches, sum(CASE WHEN EXISTS (SELECT 1 FROM product_views p"
        " WHERE p.key = s.key AND p.session_id = s.session_id AND p.event_time > s.event_time"
        " AND NOT EXISTS (SELECT 1 FROM searches n WHERE n.key = s.key AND n.session_id = s.session_id"
        " AND n.event_time > s.event_time AND n.event_time < p.event_time))"
        " THEN 0 ELSE 1 END) AS no_product_view "
        f"FROM searches s WHERE {period_filter('s.')} "
        "GROUP BY term ORDER BY searches DESC, term LIMIT 20"),
    "wishlist": Report(
        "Wishlist adds and removes per product",
        "SELECT product_id, sum(CASE WHEN subtype = 'add' THEN 1 ELSE 0 END) AS adds,"
        " sum(CASE WHEN subtype = 'remove' THEN 1 ELSE 0 END) AS removes "
        f"FROM events WHERE type = 'wishlist' AND {_PERIOD} AND bot IS NULL GROUP BY product_id "
        "ORDER BY adds DESC, product_id"),
    "clicks": Report(
        "Banner and product clicks, with the banner's or product's name, and clicks per 100 page views",
        "SELECT c.subtype AS kind, coalesce(c.banner_id, c.product_id) AS id,"
        " min(CASE WHEN c.subtype = 'banner' THEN b.name ELSE g.name END) AS name, count(*) AS clicks,"
        " round(100.0 * count(*) / NULLIF((SELECT count(*) FROM pageviews p"
        f"  WHERE {period_filter('p.')}), 0), 2) AS per_100_pageviews "
        # One banner and one catalogue row per site and id: the joins name clicks without adding rows.
        "FROM events c LEFT JOIN datacue_banners b ON b.key = c.key AND b.banner_id = c.banner_id"
        " LEFT JOIN catalogue g ON g.key = c.key AND g.product_id = c.product_id"
        f" WHERE c.type = 'click' AND {period_filter('c.')} AND c.bot IS NULL "
        "GROUP BY c.subtype, coalesce(c.banner_id, c.product_id) ORDER BY clicks DESC, kind, id",
        repeat=2),
    "interactions": Report(
        "Cobi interactions by item type and interaction type",
        "SELECT item_type, interaction_type, count(*) AS interactions, count(DISTINCT item_id) AS items "
        f"FROM interactions WHERE {_PERIOD} GROUP BY item_type, interaction_type "
        "ORDER BY interactions DESC, item_type, interaction_type"),
    "items": Report(
        "Cobi items with the most interactions, named where the Data API sent them",
        "SELECT item_type, item_id, max(item_name) AS name, count(*) AS interactions FROM interactions "
        f"WHERE {_PERIOD} GROUP BY item_type, item_id ORDER BY interactions DESC, item_type, item_id LIMIT 20"),
    "events": Report(
        "Events per day and type",
        # Naming every type lets the query read the type-led covering index rather than whole rows.
        "SELECT substr(event_time, 1, 10) AS day, type, count(*) AS events FROM events "
        f"WHERE type IN ({', '.join(repr(t) for t in _TYPES)}) AND {_PERIOD} AND bot IS NULL "
        "GROUP BY substr(event_time, 1, 10), type ORDER BY day, type"),
    "bots": Report(
        "Bots by why they are bots (crawlers, headless browsers, HTTP tools): left out of every other report",
        "SELECT bot AS reason, count(*) AS events, min(event_time) AS first_seen, max(event_time) AS last_seen "
        f"FROM events WHERE {_PERIOD} AND bot IS NOT NULL GROUP BY bot ORDER BY events DESC, reason"),
    "rejected": Report(
        "Rejected events by reason (data quality)",
        "SELECT reason, source, count(*) AS rejected, max(received_at) AS last_seen FROM rejected "
        f"WHERE {period_filter(time='received_at')} GROUP BY reason, source "
        "ORDER BY rejected DESC, reason"),
}


def parse_moment(text: str, now: datetime | None = None) -> str:
    """A period bound: `7d`, `12h`, `30m` ago, or an ISO date or time (UTC), as stored text."""
    now = now or utcnow()
    relative = re.fullmatch(r"(\d+)([dhm])", text.strip())
    if relative:
        amount, unit = int(relative[1]), relative[2]
        return iso(now - timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: amount}))
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a period bound (7d, 12h, 30m or an ISO date): {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=now.tzinfo)
    return iso(moment)


def period(since: str | None, until: str | None) -> tuple[str, str]:
    """The [since, until) bounds the CLI, the API and the dashboard share: since 7 days ago, until now."""
    return parse_moment(since or "7d"), parse_moment(until) if until else iso(utcnow())


def run(storage, name: str, since: str, until: str, mode: str = "live", keys: tuple[str, ...] | None = None,
        **options) -> tuple[list[str], list[tuple]]:
    """Run a report over [since, until) for one mode and the sites' keys (None: every key), with the options it
    takes (ValueError for others); return its columns and rows, numbers as float or int."""
    report = REPORTS[name]
    given = {option: value for option, value in options.items() if value is not None}
    unknown = sorted(set(given) - set(report.options))
    if unknown:
        raise ValueError(f"the {name} report takes no {', '.join(unknown)}")
    if report.compute is not None:
        return report.compute(storage, since, until, mode, keys, **given)
    return panels.query(storage, report.sql, keys, (mode, since, until), report.repeat)


def as_csv(columns: list[str], rows: list[tuple]) -> str:
    """A report as CSV text: a header of its columns, then one line per row (empty for None)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()

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

from ..access.sites import period_filter
from ..analytics import funnel
from ..analytics import readers
from ..clock import iso
from ..clock import utcnow
from . import panels
from . import queries
from . import recommendations
from . import shop


@dataclass(frozen=True)
class Report:
    """A named query; `repeat` is how many times it needs the (mode, since, until, keys) parameters. A
    report computed in Python instead (the funnel) has `compute(analytics, since, until, mode, keys, **options)`
    and the options it takes."""

    title: str
    sql: str = ""
    repeat: int = 1
    compute: Callable | None = None
    options: tuple[str, ...] = ()


def _funnel(analytics, since: str, until: str, mode: str, keys: tuple[str, ...] | None, steps: str | None = None,
            window: str | None = None, breakdown: str | None = None) -> tuple[list[str], list[tuple]]:
    """The funnel report: its steps (default product view to order completed), window (default a visit)
    and breakdown (default none); the default funnel from its tallies, any other from the events."""
    parsed, seconds = funnel.parse_steps(steps) if steps else funnel.DEFAULT_STEPS, funnel.parse_window(window)
    if parsed == funnel.DEFAULT_STEPS and seconds is None and not breakdown:
        return shop.default_funnel(analytics, since, until, mode, keys)
    return readers.funnel_rows(analytics, parsed, seconds, since, until, mode, keys, breakdown or None)


REPORTS: dict[str, Report] = {
    "overview": Report(
        "Headline figures (visitors, visits, page views, bounce rate, duration, orders, revenue, conversion) "
        "with the previous period's", compute=panels.overview, options=("page",)),
    "visitors": Report(
        "Visitors, visits, page views, bounce rate and duration over time (hours, days or weeks by the period)",
        compute=panels.series, options=("page",)),
    "pages": Report("Top pages: page views and the visitors who viewed each page", compute=panels.pages,
                    options=("page",)),
    "entry_pages": Report("Entry pages: the pages visits started on", compute=panels.entry_pages, options=("page",)),
    "exit_pages": Report("Exit pages: the pages visits ended on, and exits per 100 views of each",
                         compute=panels.exit_pages, options=("page",)),
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
    "revenue": Report("Completed orders (not cancelled) and revenue per day and currency", compute=shop.revenue),
    "products": Report(
        "Top products: viewed, items in carts, bought, the cart-to-purchase rate (%), names, brands, prices, "
        "categories",
        compute=shop.products),
    "searches": Report(
        "Top search terms, and how many were followed by no product view before the session's next search",
        compute=shop.searches),
    "wishlist": Report("Wishlist adds and removes per product", compute=shop.wishlist),
    "clicks": Report(
        "Banner and product clicks, with the banner's or product's name, and clicks per 100 page views",
        compute=shop.clicks),
    "interactions": Report("Cobi interactions by item type and interaction type", compute=shop.interactions),
    "items": Report("Cobi items with the most interactions, named where the Data API sent them", compute=shop.items),
    "events": Report("Events per day and type", compute=shop.events),
    "bots": Report(
        "Bots by why they are bots (crawlers, headless browsers, HTTP tools): left out of every other report",
        compute=shop.bots),
    "recommendations": Report(
        "What each recommendation widget list earns: impressions, clicks, click-through, the orders that followed "
        "a click on one of its products in the visit and their revenue, against the period before",
        compute=recommendations.lists),
    "holdout": Report(
        "The holdout group (plain best sellers) against personalized visitors: click-through and revenue per "
        "visitor, and their difference with its 95% confidence interval", compute=recommendations.holdout),
    "rejected": Report(
        "Rejected events by reason (data quality)",
        "SELECT reason, source, count(*) AS rejected, max(received_at) AS last_seen FROM rejected "
        f"WHERE {period_filter(time='received_at')} GROUP BY reason, source "
        "ORDER BY rejected DESC, reason"),
}


#: Every option some report takes.
OPTIONS = sorted({option for report in REPORTS.values() for option in report.options})


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


def run(analytics, name: str, since: str, until: str, mode: str = "live", keys: tuple[str, ...] | None = None,
        **options) -> tuple[list[str], list[tuple]]:
    """Run a report over [since, until) for one mode and the sites' keys (None: every key), with the options it
    takes (ValueError for others); return its columns and rows, numbers as float or int."""
    report = REPORTS[name]
    given = {option: value for option, value in options.items() if value is not None}
    unknown = sorted(set(given) - set(report.options))
    if unknown:
        raise ValueError(f"the {name} report takes no {', '.join(unknown)}")
    if report.compute is not None:
        return report.compute(analytics, since, until, mode, keys, **given)
    return queries.query(analytics, report.sql, keys, (mode, since, until), report.repeat)


def as_csv(columns: list[str], rows: list[tuple]) -> str:
    """A report as CSV text: a header of its columns, then one line per row (empty for None)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()

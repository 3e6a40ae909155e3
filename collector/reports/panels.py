"""The web analytics panels Plausible shows in one look, read from the rollups (collector/analytics/rollups.py) of the
`visits` table (collector/analytics/visits.py defines a visit) and of the page views.

Visit figures count the visits that **start** in the period (Plausible's and PostHog's sessions): unique
visitors (distinct anonymous ids, else user ids), visits, page views (with their visit, so that the time
series adds up to the headline figure), views per visit, bounce rate (% of visits with one event) and visit
duration (mean seconds, bounces counting 0). Breakdowns (entry pages, sources, UTM tags, devices, browsers,
systems) take the visit's own value, frozen at its first event; top pages and exit rates count page views
when they happened. The headline figures come with the previous period of the same length, and the shop's:
orders, revenue and average order value (one currency; none when the period mixes them), and the visit
conversion rate (visits with a completed order / visits).

A period is read in whole hours (UTC): its start rounds down to the hour, its end up. Whole days come from
the days' rollups, the hours around them from the hours'.
"""

from __future__ import annotations

import functools
import math
from datetime import datetime
from datetime import timedelta

from ..access.sites import scoped
from ..analytics import rollups
from ..analytics.periods import HOUR
from ..analytics.periods import hours
from ..analytics.periods import pieces
from ..analytics.periods import within
from ..clock import iso
from ..clock import parse
from .queries import half_up
from .queries import percent
from .shop import sales

#: Rows a breakdown answers at most (Plausible's CSV export keeps 300; its pages 100).
BREAKDOWN_LIMIT = 100


def _rows(analytics, dimensions: tuple[str, ...], covering: list[tuple[str, str, str]], mode: str, keys,
          columns: str = "dimension, value", values: list[str] | None = None) -> list[tuple]:
    """The rollup rows of some dimensions over some buckets (of some values only, when given), for a mode and
    the sites' keys."""
    analytics.refresh_visits()
    ranges, buckets = within(covering)
    only = f" AND value IN ({', '.join('?' for _ in values)})" if values is not None else ""
    sql = (f"SELECT {columns}, n, pageviews, bounces, duration, orders, visitors FROM rollups WHERE mode = ? AND "
           f"dimension IN ({', '.join('?' for _ in dimensions)}) AND {ranges}{only}[[sites ]]")
    params = (mode, *dimensions, *buckets, *(values or ()), *(keys or ()))
    return analytics.query(scoped(sql, keys), params)[1]


def read(analytics, dimensions: tuple[str, ...], since: str, until: str, mode: str, keys) -> dict:
    """Each (dimension, value)'s figures over a period, added up from the rollups."""
    return rollups.add_up(_rows(analytics, dimensions, pieces(*hours(since, until)), mode, keys))


def _counts(analytics, dimension: str, covering: list[tuple[str, str, str]], mode: str, keys) -> list[tuple[str, int]]:
    """Each value of a dimension with its count (visits, or page views), largest first, read without a sketch."""
    analytics.refresh_visits()
    ranges, buckets = within(covering)
    sql = (f"SELECT value, sum(n) FROM rollups WHERE mode = ? AND dimension = ? AND {ranges}[[sites ]] "
           "GROUP BY value ORDER BY sum(n) DESC, value")
    params = (mode, dimension, *buckets, *(keys or ()))
    return [(value, int(n)) for value, n in analytics.query(scoped(sql, keys), params)[1] if value]


def top(analytics, dimension: str, since: str, until: str, mode: str, keys, by_visitors: bool,
        page: str | None = None) -> dict:
    """A dimension's figures: of one value when filtered to a page; else of the values that can rank among
    the first BREAKDOWN_LIMIT by visitors (or by count), reading the sketches of those alone: a value's
    visitors are at most its count, so once the last value ranked has more visitors (a count) than the next
    value's count, no value after can rank."""
    covering = pieces(*hours(since, until))
    if page is not None:
        return rollups.add_up(_rows(analytics, (dimension,), covering, mode, keys, values=[page]))
    counts = _counts(analytics, dimension, covering, mode, keys)
    found: dict = {}
    for start in range(0, len(counts), BREAKDOWN_LIMIT):
        chunk = [value for value, _ in counts[start:start + BREAKDOWN_LIMIT]]
        found.update(rollups.add_up(_rows(analytics, (dimension,), covering, mode, keys, values=chunk)))
        following = counts[start + BREAKDOWN_LIMIT][1] if start + BREAKDOWN_LIMIT < len(counts) else None
        if following is None:
            break
        ranked = sorted((t.visitors if by_visitors else t.n for t in found.values()), reverse=True)
        # Sketches estimate past 16,384 visitors (within about 0.8%): a margin keeps the bound safe.
        if len(ranked) >= BREAKDOWN_LIMIT and following * (1.02 if by_visitors else 1) < ranked[BREAKDOWN_LIMIT - 1]:
            break
    return found


def _mean(total: float, count: float) -> float | None:
    """A whole-number mean, None over nothing."""
    return half_up(total / count) if count else None


def _ranked(tallies: dict, dimension: str, none: str | None) -> list[tuple[str, rollups.Tally]]:
    """A dimension's values (named `none` when empty, or left out when `none` is None), most visitors first."""
    found = [(value or none, tally) for (name, value), tally in tallies.items()
             if name == dimension and (value or none is not None)]
    found.sort(key=lambda pair: (-pair[1].visitors, -pair[1].n, pair[0]))
    return found[:BREAKDOWN_LIMIT]


def breakdown(analytics, since: str, until: str, mode: str, keys, *, dimension: str, none: str | None = None,
              share: bool = False) -> tuple[list[str], list[tuple]]:
    """Visits broken down by one of their columns: visitors, visits, bounce rate and duration per value;
    with `share`, each value's % of all visitors."""
    tallies = read(analytics, (dimension, "all"), since, until, mode, keys)
    everyone = tallies.get(("all", ""))
    total = everyone.visitors if everyone else 0
    rows = []
    for value, t in _ranked(tallies, dimension, none):
        row = (value, t.visitors, t.n, percent(t.bounces, t.n), _mean(t.duration, t.n))
        rows.append((*row, percent(t.visitors, total, 1)) if share else row)
    return [dimension, "visitors", "visits", "bounce_rate", "visit_duration", *(["percentage"] if share else [])], rows


def visit_breakdown(dimension: str, none: str | None = None, share: bool = False):
    """A report's compute function for one breakdown."""
    return functools.partial(breakdown, dimension=dimension, none=none, share=share)


def pages(analytics, since: str, until: str, mode: str, keys, page: str | None = None) -> tuple[list[str], list[tuple]]:
    """Top pages: page views where they happened, and the visitors who viewed each page (one page's alone
    when filtered to it)."""
    tallies = top(analytics, rollups.PAGE, since, until, mode, keys, by_visitors=False, page=page)
    found = sorted(((value, t) for (_, value), t in tallies.items() if value),
                   key=lambda pair: (-pair[1].n, -pair[1].visitors, pair[0]))[:BREAKDOWN_LIMIT]
    return ["page", "visitors", "pageviews"], [(value, t.visitors, t.n) for value, t in found]


def entry_pages(analytics, since: str, until: str, mode: str, keys, page: str | None = None
                ) -> tuple[list[str], list[tuple]]:
    """Entry pages, with Plausible's CSV names for the visitors and visits that entered there."""
    tallies = top(analytics, "entry_page", since, until, mode, keys, by_visitors=True, page=page)
    return (["entry_page", "unique_entrances", "total_entrances", "bounce_rate", "visit_duration"],
            [(value, t.visitors, t.n, percent(t.bounces, t.n), _mean(t.duration, t.n))
             for value, t in _ranked(tallies, "entry_page", None)])


def exit_pages(analytics, since: str, until: str, mode: str, keys, page: str | None = None
               ) -> tuple[list[str], list[tuple]]:
    """Exit pages, and the exit rate: visits that left from a page per 100 page views of it (Plausible's)."""
    tallies = top(analytics, "exit_page", since, until, mode, keys, by_visitors=True, page=page)
    shown = _ranked(tallies, "exit_page", None)
    views = dict(_counts(analytics, rollups.PAGE, pieces(*hours(since, until)), mode, keys))
    rows = [(value, t.visitors, t.n, float(math.floor(100 * t.n / views[value])) if views.get(value) else None)
            for value, t in shown]
    return ["exit_page", "unique_exits", "total_exits", "exit_rate"], rows


def interval(since: str, until: str) -> str:
    """The time series' bucket for a period: hours up to two days, days up to 90, then weeks."""
    length = parse(until) - parse(since)
    if length <= timedelta(days=2):
        return "hour"
    return "day" if length <= timedelta(days=90) else "week"


def _bucket_start(moment: datetime, unit: str, first: datetime) -> datetime:
    """The start of the bucket a moment falls in (a week starts on Monday, never before the period)."""
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    return max(day - timedelta(days=day.weekday()), first)


def buckets(start: datetime, end: datetime, unit: str) -> list[datetime]:
    """Every bucket's start in [start, end), so that empty buckets are shown as zeros."""
    first = _bucket_start(start, "day" if unit == "week" else unit, start)
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[unit]
    found, moment = [], _bucket_start(first, unit, first)
    while moment < end:
        found.append(moment)
        moment = _bucket_start(moment + step, unit, first) if unit == "week" else moment + step
    return found


def _visits_of(page: str | None) -> tuple[str, str]:
    """The rollup dimension and value of every visit, or of the visits that viewed a page."""
    return (rollups.VISIT_PAGE, page) if page else ("all", "")


def series(analytics, since: str, until: str, mode: str, keys, page: str | None = None
           ) -> tuple[list[str], list[tuple]]:
    """The visitors time series: per bucket, visitors, visits, page views, bounce rate and duration (of the
    visits that viewed a page, when filtered to it)."""
    start, end = hours(since, until)
    unit = interval(since, until)
    starts = buckets(start, end, unit)
    first = _bucket_start(start, "day" if unit == "week" else unit, start)
    # An hourly series reads hours; longer ones whole days, and the hours of the days cut at either end.
    covering = [("hour", start.strftime(HOUR), end.strftime(HOUR))] if unit == "hour" else pieces(start, end)
    totals = {moment: rollups.Tally() for moment in starts}
    dimension, value = _visits_of(page)
    for bucket, *figures in _rows(analytics, (dimension,), covering, mode, keys, columns="bucket", values=[value]):
        moment = datetime.fromisoformat(bucket + (":00+00:00" if len(bucket) == 13 else "T00:00+00:00"))
        totals[_bucket_start(moment, unit, first)].add(*figures)
    return (["time", "visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
            [(iso(moment), t.visitors, t.n, t.pageviews, percent(t.bounces, t.n), _mean(t.duration, t.n))
             for moment, t in totals.items()])


def _figures(analytics, since: str, until: str, mode: str, keys, page: str | None
             ) -> dict[str, tuple[float | None, str]]:
    """The headline figures of one period (of the visits that viewed a page: no orders nor revenue, which
    belong to no page), each with its unit."""
    dimension, value = _visits_of(page)
    covering = pieces(*hours(since, until))
    t = rollups.add_up(_rows(analytics, (dimension,), covering, mode, keys, values=[value])).get((dimension, value),
                                                                                              rollups.Tally())
    orders, revenue, currency = sales(analytics, since, until, mode, keys) if not page else (None, None, "")
    return {
        "visitors": (t.visitors, "count"), "visits": (t.n, "count"), "pageviews": (t.pageviews, "count"),
        "views_per_visit": (half_up(t.pageviews / t.n, 2) if t.n else None, "ratio"),
        "bounce_rate": (percent(t.bounces, t.n), "percent"), "visit_duration": (_mean(t.duration, t.n), "seconds"),
        "orders": (orders, "count"), "revenue": (half_up(revenue, 2) if revenue is not None else None, currency),
        "average_order_value": (half_up(revenue / orders, 2) if revenue is not None and orders else None, currency),
        "conversion_rate": (percent(t.orders, t.n, 1), "percent"),
    }


def previous_period(since: str, until: str) -> tuple[str, str]:
    """The period of the same length just before [since, until)."""
    start, end = parse(since), parse(until)
    return iso(start - (end - start)), since


def change(value: float | None, previous: float | None) -> float | None:
    """The change from the previous period in % (PostHog's), None when there was nothing to compare with."""
    if value is None or not previous:
        return None
    return half_up(100 * (value - previous) / previous)


def overview(analytics, since: str, until: str, mode: str, keys, page: str | None = None
             ) -> tuple[list[str], list[tuple]]:
    """The headline figures with the previous period's and the change, each with its unit (of the visits
    that viewed a page, when filtered to it)."""
    now = _figures(analytics, since, until, mode, keys, page)
    before = _figures(analytics, *previous_period(since, until), mode, keys, page)
    rows = [(name, value, before[name][0], change(value, before[name][0]), unit)
            for name, (value, unit) in now.items()]
    return ["metric", "value", "previous", "change", "unit"], rows

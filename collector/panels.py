"""The web analytics panels Plausible shows in one look, over the `visits` table (collector/visits.py
defines a visit) and the events' stored page and traffic columns.

Visit figures count the visits that **start** in the period (Plausible's and PostHog's sessions): unique
visitors (distinct anonymous ids, else user ids), visits, page views (with their visit, so that the time
series adds up to the headline figure), views per visit, bounce rate (% of visits with one event) and visit
duration (mean seconds, bounces counting 0). Breakdowns (entry pages, sources, UTM tags, devices, browsers,
systems) take the visit's own value, frozen at its first event; top pages and exit rates count page views
when they happened. The headline figures come with the previous period of the same length, and the shop's:
orders, revenue and average order value (one currency; none when the period mixes them), and the visit
conversion rate (visits with a completed order / visits).
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta
from decimal import Decimal

from .clock import iso
from .sites import period_filter
from .sites import scoped

_VISITS = period_filter(time="started_at")
#: Rows a breakdown answers at most (Plausible's CSV export keeps 300; its pages 100).
BREAKDOWN_LIMIT = 100
#: Figures of one visit group, in this order: additive parts first, rates from them.
_FIGURES = ("count(DISTINCT visitor) AS visitors, count(*) AS visits, coalesce(sum(pageviews), 0) AS pageviews, "
            "round(100.0 * sum(bounce) / count(*)) AS bounce_rate, round(avg(duration)) AS visit_duration")


def _numbers(rows: list[tuple]) -> list[tuple]:
    """PostgreSQL answers sums and rounded ratios as Decimal, SQLite as float: give both the same."""
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def query(storage, sql: str, keys, params: tuple, repeat: int = 1) -> tuple[list[str], list[tuple]]:
    """Run a report's query: its (mode, since, until) `repeat` times, each with the sites' keys."""
    columns, rows = storage.query(scoped(sql, keys), (*params, *(keys or ())) * repeat)
    return columns, _numbers(rows)


def breakdown_sql(column: str, label: str, none: str | None, share: bool = False) -> tuple[str, int]:
    """A visit breakdown by one `visits` column: visitors, visits, bounce rate and duration per value (rows
    without a value named `none`, or left out when `none` is None); with `share`, each value's % of
    visitors. Returns the SQL and how many period filters it holds."""
    value = f"coalesce({column}, '{none}')" if none is not None else column
    where = "" if none is not None else f" AND {column} IS NOT NULL"
    extra, repeat = "", 1
    if share:
        extra = (", round(100.0 * count(DISTINCT visitor) / NULLIF((SELECT count(DISTINCT visitor) FROM visits "
                 f"WHERE {_VISITS}), 0), 1) AS percentage")
        repeat = 2
    return (f"SELECT {value} AS {label}, count(DISTINCT visitor) AS visitors, count(*) AS visits, "
            "round(100.0 * sum(bounce) / count(*)) AS bounce_rate, round(avg(duration)) AS visit_duration"
            f"{extra} FROM visits WHERE {_VISITS}{where} GROUP BY {value} "
            f"ORDER BY visitors DESC, visits DESC, {label} LIMIT {BREAKDOWN_LIMIT}"), repeat


#: Top pages: page views where they happened, and the visitors who viewed each page.
PAGES_SQL = ("SELECT page_path AS page, count(DISTINCT coalesce(anonymous_id, user_id)) AS visitors, "
             "count(*) AS pageviews FROM events WHERE type = 'pageview' AND "
             f"{period_filter()} AND bot IS NULL AND page_path IS NOT NULL GROUP BY page_path "
             f"ORDER BY pageviews DESC, visitors DESC, page LIMIT {BREAKDOWN_LIMIT}")
#: Entry pages, with Plausible's CSV names for the visitors and visits that entered there.
ENTRY_PAGES_SQL = ("SELECT entry_page, count(DISTINCT visitor) AS unique_entrances, count(*) AS total_entrances, "
                   "round(100.0 * sum(bounce) / count(*)) AS bounce_rate, round(avg(duration)) AS visit_duration "
                   f"FROM visits WHERE {_VISITS} AND entry_page IS NOT NULL GROUP BY entry_page "
                   f"ORDER BY unique_entrances DESC, total_entrances DESC, entry_page LIMIT {BREAKDOWN_LIMIT}")
#: Exit pages, and the exit rate: visits that left from a page per 100 page views of it (Plausible's).
EXIT_PAGES_SQL = ("SELECT v.exit_page, count(DISTINCT v.visitor) AS unique_exits, count(*) AS total_exits, "
                  "floor(100.0 * count(*) / NULLIF(min(p.pageviews), 0)) AS exit_rate FROM visits v "
                  "LEFT JOIN (SELECT page_path, count(*) AS pageviews FROM events WHERE type = 'pageview' AND "
                  f"{period_filter()} AND bot IS NULL GROUP BY page_path) AS p ON p.page_path = v.exit_page "
                  f"WHERE {period_filter('v.', 'started_at')} AND v.exit_page IS NOT NULL GROUP BY v.exit_page "
                  f"ORDER BY unique_exits DESC, total_exits DESC, v.exit_page LIMIT {BREAKDOWN_LIMIT}")


def interval(since: str, until: str) -> str:
    """The time series' bucket for a period: hours up to two days, days up to 90, then weeks."""
    length = _moment(until) - _moment(since)
    if length <= timedelta(days=2):
        return "hour"
    return "day" if length <= timedelta(days=90) else "week"


def _moment(text: str) -> datetime:
    """A stored time as a datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _bucket_start(moment: datetime, unit: str, first: datetime) -> datetime:
    """The start of the bucket a moment falls in (a week starts on Monday, never before the period)."""
    if unit == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "day":
        return day
    return max(day - timedelta(days=day.weekday()), first)


def buckets(since: str, until: str, unit: str) -> list[datetime]:
    """Every bucket's start in [since, until), so that empty buckets are shown as zeros."""
    start, end = _moment(since), _moment(until)
    first = _bucket_start(start, "day" if unit == "week" else unit, start)
    step = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}[unit]
    found, moment = [], _bucket_start(first, unit, first)
    while moment < end:
        found.append(moment)
        moment = _bucket_start(moment + step, unit, first) if unit == "week" else moment + step
    return found


def series(storage, since: str, until: str, mode: str, keys) -> tuple[list[str], list[tuple]]:
    """The visitors time series: per bucket, visitors, visits, page views, bounce rate and duration."""
    storage.refresh_visits()
    unit = interval(since, until)
    starts = buckets(since, until, unit)
    cut = 13 if unit == "hour" else 10
    # Visitors are distinct per bucket: read (bucket of the day or hour, visitor) parts and fold them, since a
    # week's visitors are not the sum of its days'.
    _, rows = query(storage, f"SELECT substr(started_at, 1, {cut}) AS part, visitor, count(*), sum(pageviews), "
                              f"sum(bounce), sum(duration) FROM visits WHERE {_VISITS} "
                              f"GROUP BY substr(started_at, 1, {cut}), visitor", keys, (mode, since, until))
    first = _moment(since)
    totals: dict[datetime, list] = {start: [set(), 0, 0, 0, 0] for start in starts}
    for part, visitor, visits, pageviews, bounces, duration in rows:
        moment = datetime.fromisoformat(part + (":00:00+00:00" if cut == 13 else "T00:00:00+00:00"))
        bucket = totals.get(_bucket_start(moment, unit, first))
        if bucket is None:
            continue
        if visitor is not None:
            bucket[0].add(visitor)
        for n, value in enumerate((visits, pageviews, bounces, duration), start=1):
            bucket[n] += int(value or 0)
    out = []
    for start in starts:
        visitors, visits, pageviews, bounces, duration = totals[start]
        out.append((iso(start), len(visitors), visits, pageviews, _rate(bounces, visits), _mean(duration, visits)))
    return ["time", "visitors", "visits", "pageviews", "bounce_rate", "visit_duration"], out


def _rate(part: float, whole: float) -> float | None:
    """A whole-number percentage, None over nothing."""
    return float(round(100 * part / whole)) if whole else None


def _mean(total: float, count: float) -> float | None:
    """A whole-number mean, None over nothing."""
    return float(round(total / count)) if count else None


def _figures(storage, since: str, until: str, mode: str, keys) -> dict[str, tuple[float | None, str]]:
    """The headline figures of one period, each with its unit."""
    _, rows = query(storage, f"SELECT count(DISTINCT visitor), count(*), coalesce(sum(pageviews), 0), "
                              f"coalesce(sum(bounce), 0), coalesce(sum(duration), 0), coalesce(sum(ordered), 0) "
                              f"FROM visits WHERE {_VISITS}", keys, (mode, since, until))
    visitors, visits, pageviews, bounces, duration, ordered = (int(v or 0) for v in rows[0])
    _, sales = query(storage, "SELECT currency, count(*), sum(revenue) FROM orders WHERE "
                               f"{period_filter(time='completed_at')} AND status = 'completed' GROUP BY currency",
                      keys, (mode, since, until))
    orders = sum(int(n) for _, n, _ in sales)
    currencies = {currency for currency, _, _ in sales}
    one = len(currencies) == 1 and None not in currencies
    revenue = float(sales[0][2]) if one and sales[0][2] is not None else None
    currency = sales[0][0] if one else ""
    return {
        "visitors": (visitors, "count"), "visits": (visits, "count"), "pageviews": (pageviews, "count"),
        "views_per_visit": (round(pageviews / visits, 2) if visits else None, "ratio"),
        "bounce_rate": (_rate(bounces, visits), "percent"), "visit_duration": (_mean(duration, visits), "seconds"),
        "orders": (orders, "count"), "revenue": (round(revenue, 2) if revenue is not None else None, currency),
        "average_order_value": (round(revenue / orders, 2) if revenue is not None and orders else None, currency),
        "conversion_rate": (round(100 * ordered / visits, 1) if visits else None, "percent"),
    }


def previous_period(since: str, until: str) -> tuple[str, str]:
    """The period of the same length just before [since, until)."""
    start, end = _moment(since), _moment(until)
    return iso(start - (end - start)), since


def change(value: float | None, previous: float | None) -> float | None:
    """The change from the previous period in % (PostHog's), None when there was nothing to compare with."""
    if value is None or not previous:
        return None
    return float(round(100 * (value - previous) / previous))


def overview(storage, since: str, until: str, mode: str, keys) -> tuple[list[str], list[tuple]]:
    """The headline figures with the previous period's and the change, each with its unit."""
    storage.refresh_visits()
    now = _figures(storage, since, until, mode, keys)
    before = _figures(storage, *previous_period(since, until), mode, keys)
    rows = [(name, value, before[name][0], change(value, before[name][0]), unit)
            for name, (value, unit) in now.items()]
    return ["metric", "value", "previous", "change", "unit"], rows

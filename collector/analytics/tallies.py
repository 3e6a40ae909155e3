"""The shop reports' rollups: per site and hour (and day, made of its hours), each measure's counts by up to
three values, kept with the web panels' rollups (storage/visits.py) so that a month of ten million events
answers from some thirty days' rows.

A measure is one SQL query over a period, its definition: rows of (value, detail, item, n, amount, first,
last) grouped by the values. Every figure is additive (counts, quantities, revenue, the first and last time
as min and max), so the hours' rows added up give the period's; what is not (distinct items, the funnel's
median) is worked out from rows that are (the items' own rows; the seconds and how many took them). `raw`
runs the definitions over a period, `read` adds up the tallies of its whole hours (its start rounded down,
its end up, as the web panels read theirs): the tests check that both give the same.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from ..access.sites import period_filter
from ..access.sites import scoped
from ..schemas import segment
from ..schemas.datacue import EVENT_TYPES
from . import funnel

_P = period_filter()
#: Every type an event row can have (Segment's messages without a DataCue meaning keep their own), named so
#: that a query reads the type-led covering index.
_TYPES = ", ".join(repr(t) for t in (*EVENT_TYPES, "interaction", *(t for t in segment.TYPES if t != "page")))
#: A measure's row: its values ('' for none), then its figures.
Row = tuple[str, str, str, int, float | None, str | None, str | None]
#: The columns of a `tallies` row, in this order.
COLUMNS = ("key", "mode", "grain", "bucket", "measure", "value", "detail", "item", "n", "amount", "first_at",
           "last_at")


@dataclass(frozen=True)
class Measure:
    """A query over a period (its period filters' parameters `repeat` times), and where one differs, the
    faster query of the same figures for one site's hour, with its parameters from (mode, start, end, key)."""

    sql: str
    repeat: int = 1
    hourly: str = ""
    hourly_params: Callable[[str, str, str, str], list] | None = None


_NOT_CANCELLED = (
    # One list of cancelled orders (by the browser or the backend), which keeps the plan linear whatever the
    # planner knows; one text value per order because SQLite's row-value IN is slow. A key has one mode,
    # so key and order id name an order.
    "ol.key || ' ' || ol.order_id NOT IN (SELECT key || ' ' || order_id FROM events"
    " WHERE type = 'order' AND subtype = 'cancelled' AND order_id IS NOT NULL"
    " UNION ALL SELECT key || ' ' || order_id FROM datacue_orders WHERE status = 'cancelled')")

#: The orders view's figures (see migrations 0013), for the orders completed in one hour only: the orders
#: view groups every order before a period applies, too slow to run for each hour. (A completed order
#: always has its id; saying so would let SQLite, without statistics, read a site's every order by id.)
_HOURLY_SALES = (
    "WITH ids AS (SELECT order_id FROM events WHERE type = 'order' AND subtype = 'completed' AND mode = ? AND"
    " event_time >= ? AND event_time < ? AND key = ? AND source IN ('datacue', 'segment') AND bot IS NULL"
    " UNION SELECT order_id FROM datacue_orders WHERE mode = ? AND coalesce(ordered_at, received_at) >= ? AND"
    " coalesce(ordered_at, received_at) < ? AND key = ? AND has_lines"
    "), sides AS ("
    " SELECT order_id, CASE WHEN subtype = 'cancelled' THEN 1 ELSE 0 END AS cancelled,"
    " CASE WHEN subtype = 'completed' THEN 1 ELSE 0 END AS completed,"
    " CASE WHEN subtype = 'completed' THEN revenue END AS revenue,"
    " CASE WHEN subtype = 'completed' THEN currency END AS currency,"
    " CASE WHEN subtype = 'completed' THEN event_time END AS completed_at, 0 AS from_backend"
    " FROM events WHERE type = 'order' AND source IN ('datacue', 'segment') AND bot IS NULL AND mode = ?"
    " AND key = ?"
    " AND order_id IN (SELECT order_id FROM ids)"
    " UNION ALL SELECT order_id, CASE WHEN status = 'cancelled' THEN 1 ELSE 0 END,"
    " CASE WHEN has_lines THEN 1 ELSE 0 END, CASE WHEN has_lines THEN revenue END,"
    " CASE WHEN has_lines THEN currency END, CASE WHEN has_lines THEN coalesce(ordered_at, received_at) END, 1"
    " FROM datacue_orders WHERE mode = ? AND key = ? AND order_id IN (SELECT order_id FROM ids)"
    "), orders AS (SELECT max(cancelled) AS cancelled, max(completed) AS completed,"
    " coalesce(max(CASE WHEN from_backend = 1 THEN revenue END), max(revenue)) AS revenue,"
    " coalesce(max(CASE WHEN from_backend = 1 THEN currency END), max(currency)) AS currency,"
    " min(completed_at) AS completed_at FROM sides GROUP BY order_id)"
    " SELECT coalesce(currency, ''), substr(completed_at, 1, 10), '', count(*), sum(revenue), NULL, NULL FROM orders"
    " WHERE cancelled = 0 AND completed = 1 AND completed_at >= ? AND completed_at < ?"
    " GROUP BY currency, substr(completed_at, 1, 10)")

#: The purchases of one site's hour: each order's cancellation looked up by its id (the global list of
#: cancelled orders grows with the store), the backend's cancelled orders of the site listed once.
_HOURLY_PURCHASES = (
    "SELECT coalesce(ol.product_id, ''), '', '', count(*), sum(coalesce(ol.quantity, 1)), NULL, NULL "
    "FROM order_lines ol WHERE ol.mode = ? AND ol.event_time >= ? AND ol.event_time < ? AND ol.key = ? "
    "AND NOT EXISTS (SELECT 1 FROM events c WHERE c.type = 'order' AND c.key = ol.key AND c.mode = ol.mode "
    "AND c.order_id = ol.order_id AND c.subtype = 'cancelled') "
    "AND ol.order_id NOT IN (SELECT order_id FROM datacue_orders WHERE key = ? AND status = 'cancelled' "
    "AND order_id IS NOT NULL) GROUP BY ol.product_id")

MEASURES: dict[str, Measure] = {
    # Per type and day (the report's rows).
    "events": Measure(f"SELECT type, substr(event_time, 1, 10), '', count(*), NULL, NULL, NULL FROM events "
                      f"WHERE type IN ({_TYPES}) AND {_P} AND bot IS NULL GROUP BY type, substr(event_time, 1, 10)"),
    "bots": Measure(f"SELECT bot, '', '', count(*), NULL, min(event_time), max(event_time) FROM events "
                    f"WHERE type IN ({_TYPES}) AND {_P} AND bot IS NOT NULL GROUP BY bot"),
    # Grouped by the mode (one in a period) so that a period without page views has no row.
    "pageviews": Measure(f"SELECT '', '', '', count(*), NULL, NULL, NULL FROM pageviews WHERE {_P} GROUP BY mode"),
    "product_views": Measure("SELECT coalesce(product_id, ''), '', '', count(*), NULL, NULL, NULL FROM product_views "
                             f"WHERE {_P} GROUP BY product_id"),
    "carts": Measure("SELECT coalesce(l.product_id, ''), '', '', count(*), sum(coalesce(l.quantity, 1)), NULL, NULL "
                     f"FROM event_lines l JOIN events e ON e.id = l.event_pk WHERE e.type = 'viewcart' AND "
                     f"{period_filter('e.')} AND e.bot IS NULL GROUP BY l.product_id"),
    "purchases": Measure("SELECT coalesce(ol.product_id, ''), '', '', count(*), sum(coalesce(ol.quantity, 1)), NULL, "
                         f"NULL FROM order_lines ol WHERE {period_filter('ol.')} AND {_NOT_CANCELLED} "
                         "GROUP BY ol.product_id",
                         hourly=_HOURLY_PURCHASES,
                         hourly_params=lambda mode, start, end, key: [mode, start, end, key, key]),
    "searches": Measure(
        # Whether a product view followed in the session before its next search.
        "SELECT term, '', '', count(*), sum(CASE WHEN EXISTS (SELECT 1 FROM product_views p"
        " WHERE p.key = s.key AND p.session_id = s.session_id AND p.event_time > s.event_time"
        " AND NOT EXISTS (SELECT 1 FROM searches n WHERE n.key = s.key AND n.session_id = s.session_id"
        " AND n.event_time > s.event_time AND n.event_time < p.event_time)) THEN 0 ELSE 1 END), NULL, NULL "
        f"FROM searches s WHERE {period_filter('s.')} AND term IS NOT NULL GROUP BY term"),
    "wishlist": Measure("SELECT coalesce(subtype, ''), coalesce(product_id, ''), '', count(*), NULL, NULL, NULL "
                        f"FROM events WHERE type = 'wishlist' AND {_P} AND bot IS NULL GROUP BY subtype, product_id"),
    "clicks": Measure("SELECT coalesce(subtype, ''), coalesce(banner_id, product_id, ''), '', count(*), NULL, NULL, "
                      f"NULL FROM events WHERE type = 'click' AND {_P} AND bot IS NULL "
                      "GROUP BY subtype, coalesce(banner_id, product_id, '')"),
    "interactions": Measure(
        "SELECT coalesce(item_type, ''), coalesce(interaction_type, ''), coalesce(item_id, ''), count(*), NULL, NULL, "
        f"NULL FROM events WHERE type = 'interaction' AND source = 'cobi' AND {_P} AND bot IS NULL "
        "GROUP BY item_type, interaction_type, item_id"),
    # Completed orders (not cancelled) per currency and day.
    "sales": Measure(f"SELECT coalesce(currency, ''), substr(completed_at, 1, 10), '', count(*), sum(revenue), NULL, "
                     f"NULL FROM orders WHERE {period_filter(time='completed_at')} AND status = 'completed' "
                     "GROUP BY currency, substr(completed_at, 1, 10)",
                     hourly=_HOURLY_SALES,
                     hourly_params=lambda mode, start, end, key: [mode, start, end, key] * 2 + [mode, key] * 2
                     + [start, end]),
}
#: The default funnel's measures (counted in Python from the visits' step events, see `funnel_rows`).
FUNNEL = "funnel"
FUNNEL_GAPS = "funnel_gaps"


def funnel_rows(rows: Iterable[tuple]) -> dict[str, list[Row]]:
    """The default funnel's tally of some units' step events: per step, the visits reaching it (`funnel`),
    and the whole seconds from the previous step with how many took them (`funnel_gaps`)."""
    steps = funnel.DEFAULT_STEPS
    counts, gaps = funnel.tally(rows, len(steps), None).get(None, ([0] * len(steps), [{} for _ in steps]))
    return {FUNNEL: [(str(step), "", "", n, None, None, None) for step, n in enumerate(counts) if n],
            FUNNEL_GAPS: [(str(step), str(seconds), "", n, None, None, None)
                          for step, found in enumerate(gaps) for seconds, n in found.items()]}


def plain(row: tuple) -> Row:
    """PostgreSQL sums as Decimal, SQLite as int or float: the same types from both."""
    value, detail, item, n, amount, first, last = row
    return (value, detail, item, int(n), float(amount) if isinstance(amount, Decimal | int) else amount, first, last)


def of_hour(execute: Callable[[str, list], Iterable[tuple]], key: str, mode: str, start: str, end: str
            ) -> dict[str, list[Row]]:
    """Every measure of one site's hour [start, end), run with `execute(sql, params)`."""
    found = {}
    for name, measure in MEASURES.items():
        if measure.hourly:
            rows = execute(measure.hourly, measure.hourly_params(mode, start, end, key))
        else:
            rows = execute(scoped(measure.sql, (key,)), [mode, start, end, key] * measure.repeat)
        found[name] = [plain(row) for row in rows]
    sql, params = funnel.query(funnel.DEFAULT_STEPS, None, None)
    found.update(funnel_rows(execute(scoped(sql, (key,)), params(mode, start, end, (key,)))))
    return found

"""What the reports read of the analytics tables: each reader first brings the visits, rollups and tallies
up to date with every committed event (refresh.py), then reads, so an answer counts everything stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..access.sites import scoped
from . import funnel
from . import tallies
from .periods import hours
from .periods import pieces
from .periods import within


def funnel_rows(analytics, steps: tuple[funnel.Step, ...], window: float | None, since: str, until: str, mode: str,
                keys: tuple[str, ...] | None, breakdown: str | None = None) -> tuple[list[str], list[tuple]]:
    """The funnel's rows over a period, a mode and the sites' keys, from the events: step, count, conversion
    from the previous step and from the first, dropped off, median seconds from the previous step; with a
    breakdown column, those rows for each of its values (the unit's first step-1 event's), led by the value."""
    if breakdown is not None and breakdown not in funnel.BREAKDOWN_COLUMNS:
        raise ValueError(f"a funnel breaks down by one of {', '.join(funnel.BREAKDOWN_COLUMNS)}; not {breakdown!r}")
    if window is None:
        analytics.refresh_visits()
    sql, params = funnel.query(steps, window, breakdown)
    rows = analytics.query_stream(scoped(sql, keys), params(mode, since, until, keys))
    counted = funnel.tally(rows, len(steps), window)
    if breakdown is None:
        counts, gaps = counted.get(None, ([0] * len(steps), [Counter() for _ in steps]))
        return funnel.COLUMNS, funnel.shape(steps, counts, gaps)
    ranked = sorted(counted, key=lambda v: (-counted[v][0][0], v is None, v or ""))
    shown, others = ranked[:funnel.BREAKDOWN_LIMIT], ranked[funnel.BREAKDOWN_LIMIT:]
    if others:
        counted["(other)"] = ([sum(counted[v][0][i] for v in others) for i in range(len(steps))],
                              [sum((counted[v][1][i] for v in others), Counter()) for i in range(len(steps))])
        shown.append("(other)")
    return [breakdown, *funnel.COLUMNS], [(value if value is not None else "(none)", *row) for value in shown
                                          for row in funnel.shape(steps, *counted[value])]


def tallied(analytics, names: Iterable[str], since: str, until: str, mode: str, keys) -> dict[str, list[tallies.Row]]:
    """Some measures over the whole hours of a period, added up from the tallies."""
    names = list(names)
    analytics.refresh_visits()
    ranges, buckets = within(pieces(*hours(since, until)))
    sql = ("SELECT measure, value, detail, item, sum(n), sum(amount), min(first_at), max(last_at) FROM tallies "
           f"WHERE mode = ? AND measure IN ({', '.join('?' for _ in names)}) AND {ranges}[[sites ]] "
           "GROUP BY measure, value, detail, item")
    params = (mode, *names, *buckets, *(keys or ()))
    found: dict[str, list[tallies.Row]] = {name: [] for name in names}
    for measure, *row in analytics.query(scoped(sql, keys), params)[1]:
        found[measure].append(tallies.plain(row))
    return found


def from_events(analytics, names: Iterable[str], since: str, until: str, mode: str,
                keys) -> dict[str, list[tallies.Row]]:
    """Some measures over a period, from the events (their definitions): the reference the tallies match."""
    found = {}
    for name in names:
        if name in (tallies.FUNNEL, tallies.FUNNEL_GAPS):
            analytics.refresh_visits()
            sql, params = funnel.query(funnel.DEFAULT_STEPS, None, None)
            rows = analytics.query_stream(scoped(sql, keys), params(mode, since, until, keys))
            found.update(tallies.funnel_rows(rows))
            continue
        measure = tallies.MEASURES[name]
        rows = analytics.query(scoped(measure.sql, keys), [mode, since, until, *(keys or ())] * measure.repeat)[1]
        found[name] = _added(tallies.plain(row) for row in rows)
    return {name: found[name] for name in names}


def _added(rows: Iterable[tallies.Row]) -> list[tallies.Row]:
    """Rows with the same values (of several sites) made one."""
    merged: dict[tuple[str, str, str], list] = {}
    for value, detail, item, n, amount, first, last in rows:
        row = merged.get((value, detail, item))
        if row is None:
            merged[(value, detail, item)] = [n, amount, first, last]
            continue
        row[0] += n
        row[1] = amount if row[1] is None else row[1] + (amount or 0)
        row[2] = first if row[2] is None else min(row[2], first or row[2])
        row[3] = last if row[3] is None else max(row[3], last or row[3])
    return [(*values, *figures) for values, figures in merged.items()]

"""Funnels counted as PostHog and Plausible count them: ordered steps, within a conversion window.

A unit counts at step N when it did steps 1 to N **in that order**: some event matching step 1, a later one
matching step 2, and so on (other events may come between; one event fills one step of a chain). Without a
window the unit is a visit (collector/analytics/visits.py: the tracker's session, else a visitor's events less than 30
minutes apart) that **starts** in the period, with all its events, as the web panels count visits; with a
window of N hours it is a visitor, and every step falls within N hours of the chain's step-1 event
(PostHog's and Plausible's rule), from the events of the period. So a step never counts more units than the
step before it, and no conversion exceeds 1.

Per step: the units counted, the conversion from the previous step and from the first, the units that
dropped off, and the median time in whole seconds from the previous step (from the chain that reached the
step first). The default funnel (its steps, a visit, no breakdown) is read from the tallies
(collector/analytics/tallies.py), which count it per hour with `tally` below; `docs/analysts.md#funnels` says where this
differs from the anchors.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass

from ..access.sites import period_filter
from ..clock import parse
from .visits import events_of_visits

#: The event columns a step may filter on (exact values).
FILTER_COLUMNS = ("product_id", "variant_id", "category_id", "category_name", "banner_id", "order_id", "term",
                  "payment_method", "item_type", "item_id", "interaction_type", "page_url", "source")
#: What a funnel may be broken down by: a column of each unit's first step-1 event (PostHog's "first touchpoint").
BREAKDOWN_COLUMNS = ("device", "browser", "os", "utm_source", "utm_medium", "utm_campaign", "page_path", "platform",
                     "country")
#: Breakdown values shown at most (the largest at step 1); the others are summed as "(other)".
BREAKDOWN_LIMIT = 20
_STEP = re.compile(r"^(?P<type>[a-z_]+)(?::(?P<subtype>[a-z_]+))?(?P<filters>(?:\[[a-z_]+=[^\]]*\])*)$")
_FILTER = re.compile(r"\[([a-z_]+)=([^\]]*)\]")


@dataclass(frozen=True)
class Step:
    """A step: events of a type (and subtype), optionally with some columns at given values."""

    type: str
    subtype: str | None = None
    filters: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """The step as written: `order:completed[payment_method=card]`."""
        return self.type + (f":{self.subtype}" if self.subtype else "") + "".join(f"[{c}={v}]" for c, v in self.filters)

    def condition(self, alias: str = "") -> tuple[str, list]:
        """The SQL condition of an event (named `alias`) that matches the step, and its parameters."""
        sql, params = [f"{alias}type = ?"], [self.type]
        if self.subtype is not None:
            sql.append(f"{alias}subtype = ?")
            params.append(self.subtype)
        for column, value in self.filters:
            sql.append(f"{alias}{column} = ?")
            params.append(value)
        return "(" + " AND ".join(sql) + ")", params


#: Product view → cart → order started → order completed.
DEFAULT_STEPS = (Step("pageview", "product"), Step("viewcart"), Step("order", "started"), Step("order", "completed"))
STEP_NAMES = {DEFAULT_STEPS[0]: "product view", DEFAULT_STEPS[1]: "cart", DEFAULT_STEPS[2]: "order started",
              DEFAULT_STEPS[3]: "order completed"}


def parse_steps(text: str) -> tuple[Step, ...]:
    """Steps written `type[:subtype][column=value]...`, separated by commas: 2 to 8 of them, or ValueError."""
    steps = []
    for part in (p.strip() for p in text.split(",")):
        found = _STEP.match(part)
        if not found:
            raise ValueError(f"not a step: {part!r}; write type[:subtype][column=value], e.g. order:completed")
        filters = tuple(_FILTER.findall(found["filters"]))
        for column, _ in filters:
            if column not in FILTER_COLUMNS:
                raise ValueError(f"a step filters on one of {', '.join(FILTER_COLUMNS)}; not {column!r}")
        steps.append(Step(found["type"], found["subtype"], filters))
    if not 2 <= len(steps) <= 8:
        raise ValueError(f"a funnel has 2 to 8 steps, not {len(steps)}")
    return tuple(steps)


def parse_window(text: str | None) -> float | None:
    """The conversion window: `session` (None: the steps within one session), or `Nh` or `Nd` per visitor
    (seconds), 1 hour to 90 days; else ValueError."""
    if text in (None, "", "session"):
        return None
    found = re.fullmatch(r"(\d+)([hd])", text.strip())
    seconds = int(found[1]) * (3600 if found[2] == "h" else 86400) if found else 0
    if not 3600 <= seconds <= 90 * 86400:
        raise ValueError(f"the window is `session`, or 1h to 90d per visitor (e.g. 24h, 14d); not {text!r}")
    return float(seconds)


@dataclass
class Reached:
    """How far one unit got: the steps done in order, and the chain that first reached each step."""

    level: int
    #: For each step reached (from the second), the seconds from the previous step in the chain that reached
    #: it first.
    gaps: list[float]


def reach(events: Iterable[tuple[float, tuple[int, ...]]], steps: int, window: float | None) -> Reached:
    """How far one unit's events (time in seconds, the indexes of the steps each matches; in time order)
    got through the steps, every step within `window` seconds of the chain's first (None: no limit).

    One pass, as ClickHouse's windowFunnel does it: for each step, the chain that reaches it with the
    latest start (which leaves the most room for the steps after it); the first time a step is reached is
    the earliest it can be, and that chain gives the step's time from the previous one.
    """
    chains: list[tuple[float, ...] | None] = [None] * steps
    gaps: list[float] = []
    level = 0
    for moment, matched, *_ in events:
        # Higher steps first: one event must not fill two steps of the same chain.
        for step in sorted(matched, reverse=True):
            if step == 0:
                chains[0] = (moment,)
            else:
                previous = chains[step - 1]
                if previous is None or (window is not None and moment - previous[0] > window):
                    continue
                chains[step] = (*previous, moment)
            if step + 1 > level:
                level = step + 1
                if step:
                    gaps.append(chains[step][-1] - chains[step][-2])
    return Reached(level, gaps)


def units(rows: Iterable[tuple], steps: int) -> Iterator[list]:
    """The step events of each unit, in order, as (time, steps matched, breakdown value): rows (unit, event
    time, the bit mask of the steps the event matches, the breakdown value) sorted by unit and time."""
    matched_by_mask = [tuple(i for i in range(steps) if mask >> i & 1) for mask in range(1 << steps)]
    current, events = None, []
    for unit, event_time, mask, value in rows:
        if unit != current:
            if events:
                yield events
            current, events = unit, []
        events.append((parse(event_time).timestamp(), matched_by_mask[mask], value))
    if events:
        yield events


def _matching(steps: tuple[Step, ...], alias: str) -> tuple[str, str, list]:
    """The bit mask of the steps an event matches (as SQL: only the columns the steps name are read, so the
    default steps read nothing but an index), the condition that it matches one, and their parameters."""
    conditions = [step.condition(alias) for step in steps]
    mask = " + ".join(f"(CASE WHEN {sql} THEN {1 << i} ELSE 0 END)" for i, (sql, _) in enumerate(conditions))
    values = [value for _, step_values in conditions for value in step_values]
    return mask, " OR ".join(sql for sql, _ in conditions), values


def query(steps: tuple[Step, ...], window: float | None, breakdown: str | None) -> tuple[str, Callable]:
    """The SQL of the units' step events, sorted by unit and time (see `units`), and a function of (mode,
    since, until, keys) giving its parameters. Without a window: the events of each visit that starts in the
    period (the tracker's sessions by their id; a visitor's events without one by time, through the indexes
    of such events); with one: each visitor's events in the period."""
    if window is not None:
        mask, where, values = _matching(steps, "")
        sql = (f"SELECT coalesce(anonymous_id, user_id) AS unit, event_time, {mask}, {breakdown or 'NULL'} FROM events "
               f"WHERE {period_filter()} AND bot IS NULL AND coalesce(anonymous_id, user_id) IS NOT NULL AND ({where}) "
               "ORDER BY coalesce(anonymous_id, user_id), event_time, id")
        return sql, lambda mode, since, until, keys: [*values, mode, since, until, *(keys or ()), *values]
    mask, where, values = _matching(steps, "e.")
    columns = (f"v.key || ' ' || v.session_id AS unit, e.event_time, e.id, {mask} AS mask, "
               f"{'e.' + breakdown if breakdown else 'NULL'} AS value")
    sql = (f"SELECT unit, event_time, mask, value FROM ({events_of_visits(columns, where)}) AS steps "
           "ORDER BY unit, event_time, id")
    return sql, lambda mode, since, until, keys: [*values, mode, since, until, *(keys or ()), *values] * 3


#: Per breakdown value: the units counted at each step, and per step the whole seconds from the previous step.
Tallies = dict[str | None, tuple[list[int], list[Counter]]]


def tally(rows: Iterable[tuple], steps: int, window: float | None) -> Tallies:
    """Count the units of some step-event rows (see `units`) per breakdown value of their first step-1 event."""
    tallies: Tallies = {}
    for events in units(rows, steps):
        reached = reach(events, steps, window)
        if not reached.level:
            continue
        value = next(value for _, matched, value in events if 0 in matched)
        counts, gaps = tallies.setdefault(value, ([0] * steps, [Counter() for _ in range(steps)]))
        for step in range(reached.level):
            counts[step] += 1
        for step, gap in enumerate(reached.gaps, 1):
            gaps[step][int(gap + 0.5)] += 1
    return tallies


#: The funnel report's columns.
COLUMNS = ["step", "count", "from_previous", "from_start", "dropped", "median_seconds"]


def median(counts: Counter) -> float | None:
    """The median of some whole seconds, each with how many times it came (None for none)."""
    total = sum(counts.values())
    if not total:
        return None
    ordered = sorted(counts.items())

    def nth(k: int) -> int:
        """The k-th smallest value (from 0)."""
        seen = 0
        for value, n in ordered:
            seen += n
            if seen > k:
                return value
        raise IndexError(k)

    return (nth((total - 1) // 2) + nth(total // 2)) / 2


def shape(steps: tuple[Step, ...], counts: list[int], gaps: list[Counter]) -> list[tuple]:
    """The rows of one funnel: per step, its name, count, conversions, drop-off and median time."""
    shaped = []
    for i, step in enumerate(steps):
        previous = counts[i - 1] if i else counts[0]
        shaped.append((STEP_NAMES.get(step, step.label), counts[i],
                       round(counts[i] / previous, 4) if previous else None,
                       round(counts[i] / counts[0], 4) if counts[0] else None,
                       previous - counts[i], median(gaps[i])))
    return shaped

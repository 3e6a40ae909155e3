"""A report's period as the buckets the rollups and tallies keep: whole hours, then whole days within them."""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from ..clock import parse

#: How an hour bucket is written.
HOUR = "%Y-%m-%dT%H"


def hours(since: str, until: str) -> tuple[datetime, datetime]:
    """A period in whole hours: its start rounded down, its end up."""
    start = parse(since).replace(minute=0, second=0, microsecond=0)
    end = parse(until)
    if end != end.replace(minute=0, second=0, microsecond=0):
        end = end.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return start, end


def pieces(start: datetime, end: datetime) -> list[tuple[str, str, str]]:
    """The rollup buckets that cover [start, end) (whole hours): (grain, first bucket, bucket past the last),
    whole days as days, the hours before and after them as hours."""
    first_day = start if start.hour == 0 else (start + timedelta(days=1)).replace(hour=0)
    last_day = end.replace(hour=0)
    if first_day >= last_day:
        return [("hour", start.strftime(HOUR), end.strftime(HOUR))]
    found = [("day", first_day.strftime("%Y-%m-%d"), last_day.strftime("%Y-%m-%d"))]
    if start < first_day:
        found.append(("hour", start.strftime(HOUR), first_day.strftime(HOUR)))
    if last_day < end:
        found.append(("hour", last_day.strftime(HOUR), end.strftime(HOUR)))
    return found


def within(covering: list[tuple[str, str, str]]) -> tuple[str, tuple]:
    """The SQL condition (and its parameters) that picks a rollup's or tally's rows of some buckets."""
    ranges = " OR ".join("(grain = ? AND bucket >= ? AND bucket < ?)" for _ in covering)
    return f"({ranges})", tuple(part for piece in covering for part in piece)

"""Running a report's SQL: scoped to the sites it may read, its numbers the same on both databases, and
rounded as SQL rounds."""

from __future__ import annotations

from decimal import ROUND_HALF_UP
from decimal import Decimal

from ..access.sites import scoped


def _numbers(rows: list[tuple]) -> list[tuple]:
    """PostgreSQL answers sums and rounded ratios as Decimal, SQLite as float: give both the same."""
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def query(analytics, sql: str, keys, params: tuple, repeat: int = 1) -> tuple[list[str], list[tuple]]:
    """Run a report's query: its (mode, since, until) `repeat` times, each with the sites' keys."""
    columns, rows = analytics.query(scoped(sql, keys), (*params, *(keys or ())) * repeat)
    return columns, _numbers(rows)


def half_up(value: float, digits: int = 0) -> float:
    """Round as SQL does (halves away from zero), not as Python does (halves to even)."""
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def percent(part: float, whole: float, digits: int = 0) -> float | None:
    """part per 100 of whole, rounded as SQL rounds; None over nothing."""
    return half_up(100 * part / whole, digits) if whole else None

"""How the dashboard writes numbers: thousands separators, percentages, durations, money in its currency."""

from __future__ import annotations


def number(value) -> str:
    """A count or an amount with thousands separators (two decimals when it has a fraction); – for none."""
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def percent(value) -> str:
    """A percentage as the reports give it (0 to 100)."""
    return "–" if value is None else f"{value:,.1f}".removesuffix(".0") + "%"


def duration(seconds) -> str:
    """Seconds as Plausible writes a visit's duration: 45s, 3m 12s, 1h 4m."""
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds // 3600:,}h {seconds % 3600 // 60}m"


def money(value, currency: str | None) -> str:
    """An amount in its currency, with two decimals: 1,234.50 USD."""
    if value is None:
        return "–"
    return f"{value:,.2f}" + (f" {currency}" if currency else "")


def ratio(value) -> str:
    """A ratio such as views per visit: up to two decimals, no trailing zeros."""
    return "–" if value is None else f"{value:,.2f}".rstrip("0").rstrip(".")


def text(value) -> str:
    """A name, or (none) where there is none."""
    return "(none)" if value is None or value == "" else str(value)


#: How each kind of cell and each unit of the overview is written (a currency code is money in it).
_WRITERS = {"number": number, "count": number, "percent": percent, "duration": duration, "seconds": duration,
            "ratio": ratio, "text": text}


def cell(value, kind: str) -> str:
    """One value written as its kind or unit says: number, count, percent, duration, seconds, ratio, text,
    or a currency code (money in that currency)."""
    writer = _WRITERS.get(kind)
    return writer(value) if writer else money(value, kind)

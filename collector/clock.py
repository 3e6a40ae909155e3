"""Time as the collector stores it: aware UTC datetimes written as ISO-8601 text."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime


def utcnow() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Format as ISO-8601 UTC with milliseconds and Z, so text order is time order."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # isoformat is several times faster than strftime, and this runs a few times per event.
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def parse(text: str) -> datetime:
    """A time as iso() writes it (or any ISO-8601 text with an offset or a Z), as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def now_iso() -> str:
    """Return the current UTC time formatted by iso()."""
    return iso(utcnow())


def event_time(received_at: datetime, sent_at: datetime | None, client_ts: datetime | None) -> datetime:
    """Correct the client's clock skew and never return a time after received_at.

    With both client times, the event happened (sent_at - client_ts) before the request reached us.
    With only a client timestamp (historical data sent from a server), it is taken as it is.
    """
    if client_ts is None:
        return received_at
    if sent_at is None:
        return min(client_ts, received_at)
    try:
        return min(received_at - (sent_at - client_ts), received_at)
    except OverflowError:  # a sent_at thousands of years after the timestamp (found by schemathesis: a 500)
        return min(client_ts, received_at)

"""What every reference record shares: its id, region and time fields, and created/updated/is_deleted."""

from __future__ import annotations

from datetime import UTC

import iso3166
from marshmallow import INCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validate

from ..clock import iso
from .common import EXTRAS_MAX_BYTES
from .common import TEXT_MAX
from .common import check_extras

#: Bound for amounts and coordinates: what a shop can charge, what a map holds.
_MONEY_MAX = 1e12


class Region(fields.String):
    """An ISO 3166-1 alpha-2 country code (the iso3166 package's list), stored upper-case."""

    default_error_messages = {"region": "Not an ISO 3166-1 alpha-2 country code (such as CA): {input!r}."}

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the code upper-case, or refuse one that names no country."""
        code = super()._deserialize(value, attr, data, **kwargs).strip().upper()
        if len(code) != 2 or code not in iso3166.countries_by_alpha2:
            raise self.make_error("region", input=value)
        return code


class RecordTime(fields.AwareDateTime):
    """An ISO-8601 date-time (UTC when it has no offset), stored as collector time text so that text
    order is time order (the `updated` comparison relies on it)."""

    def __init__(self, **kwargs):
        """Read naive times as UTC."""
        super().__init__(default_timezone=UTC, **kwargs)

    default_error_messages = {"range": "Not a time between the years 1 and 9999 in UTC."}

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the time as ISO text with milliseconds and Z."""
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return iso(moment)
        except OverflowError:  # 0001-01-01 at -08:00 is before year 1 in UTC (found by schemathesis: a 500)
            raise self.make_error("range") from None


class Flag(fields.Boolean):
    """A JSON boolean, true or false: not 0, 1 or "yes" (Cobi's models say boolean)."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Refuse anything but a JSON boolean."""
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class RecordDate(fields.Date):
    """A calendar date, YYYY-MM-DD, kept as that text."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the date as ISO text."""
        return super()._deserialize(value, attr, data, **kwargs).isoformat()


def name(**kwargs) -> fields.String:
    """A required or optional display name: not empty, bounded."""
    return fields.String(validate=validate.Length(min=1, max=TEXT_MAX), **kwargs)


def amount(minimum: float | None = None, exclusive: bool = False, **kwargs) -> fields.Float:
    """A finite number, optionally bounded below (`savings` >= 0, `amount` > 0)."""
    low = -_MONEY_MAX if minimum is None else minimum
    return fields.Float(allow_nan=False, validate=validate.Range(min=low, max=_MONEY_MAX, min_inclusive=not exclusive),
                        **kwargs)


def coordinate(limit: float, **kwargs) -> fields.Float:
    """A latitude (limit 90) or longitude (limit 180) in degrees."""
    return fields.Float(allow_nan=False, validate=validate.Range(min=-limit, max=limit), **kwargs)


def comma_list(item, error: str):
    """A validator for "a,b,c" text whose every item passes `item` (ids of branches, names of days)."""
    def check(value: str) -> None:
        """Refuse an empty list or an item that does not pass."""
        parts = [part.strip() for part in value.split(",")]
        bad = [part for part in parts if not item(part)]
        if bad:
            raise ValidationError(error.format(bad=bad[0]))
    return check


class RecordSchema(Schema):
    """The fields every record type has, and the bound on undeclared ones (kept, like event extras)."""

    class Meta:
        unknown = INCLUDE

    created = RecordTime(allow_none=True)
    updated = RecordTime(allow_none=True)
    is_deleted = Flag(allow_none=True)

    @post_load
    def bound_extras(self, data, **kwargs):
        """Keep undeclared fields, as long as together they stay small."""
        check_extras(self, data, EXTRAS_MAX_BYTES)
        return data


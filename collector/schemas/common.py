"""Fields and helpers shared by the DataCue and Cobi schemas."""

from __future__ import annotations

import ipaddress
import json
import re
from datetime import UTC
from datetime import datetime

from marshmallow import INCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import pre_load
from marshmallow import validate

#: Length caps for strings: ids, free text, URLs, user agents.
ID_MAX = 256
TEXT_MAX = 512
URL_MAX = 2048
UA_MAX = 1024
#: Size caps (compact JSON bytes) for the free-form objects whose extra keys are kept.
PROFILE_MAX_BYTES = 4096
EXTRAS_MAX_BYTES = 8192
CONTEXT_MAX_BYTES = 8192

#: Integers above this are epoch milliseconds, below it epoch seconds (year 5138 in seconds).
_EPOCH_MS_THRESHOLD = 100_000_000_000
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)


def one_of(choices) -> validate.OneOf:
    """Validate an enum, naming the value received and the values allowed."""
    return validate.OneOf(choices, error="Unknown value {input!r}; must be one of: {choices}.")


def text(max_length: int = TEXT_MAX, **kwargs) -> fields.String:
    """A string field with a length cap."""
    return fields.String(validate=validate.Length(max=max_length), **kwargs)


class Id(fields.Field):
    """An identifier: a non-empty string, or an integer that shops often use (stored as a string)."""

    default_error_messages = {
        "invalid": "Not a valid id: expected a string or an integer.",
        "empty": "Must not be empty.",
        "too_long": f"Longer than {ID_MAX} characters.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the id as a string."""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise self.make_error("invalid")
        value = str(value)
        if not value.strip():
            raise self.make_error("empty")
        if len(value) > ID_MAX:
            raise self.make_error("too_long")
        return value


#: A UUID already in its canonical form (lower-case hex, hyphenated): what trackers and SDKs send.
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Uuid(fields.UUID):
    """A UUID, kept as its canonical lower-case string."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the canonical string form."""
        # A canonical string is its own canonical form: parsing it into a UUID and back costs several
        # times the match, up to four times per record of the Data API.
        if isinstance(value, str) and _CANONICAL_UUID.fullmatch(value):
            return value
        return str(super()._deserialize(value, attr, data, **kwargs))


class Timestamp(fields.Field):
    """A point in time: an ISO-8601 string (UTC when no offset) or a positive epoch integer (s or ms)."""

    default_error_messages = {
        "invalid": "Not a valid timestamp: expected an ISO-8601 string or a positive epoch integer.",
        "range": "Timestamp out of range.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        """Return an aware UTC datetime."""
        if isinstance(value, bool):
            raise self.make_error("invalid")
        try:
            if isinstance(value, int):
                if value <= 0:
                    raise self.make_error("range")
                seconds = value / 1000 if value >= _EPOCH_MS_THRESHOLD else value
                parsed = datetime.fromtimestamp(seconds, tz=UTC)
            elif isinstance(value, str) and 10 <= len(value) <= 40:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=UTC)
                parsed = parsed.astimezone(UTC)
            else:
                raise self.make_error("invalid")
        except (ValueError, OverflowError, OSError):
            raise self.make_error("invalid") from None
        if parsed < _EARLIEST:
            raise self.make_error("range")
        return parsed


class Money(fields.Float):
    """A finite amount (a number, or a numeric string as some carts send)."""

    def __init__(self, **kwargs):
        """Bound amounts to something a shop can charge."""
        super().__init__(allow_nan=False, validate=validate.Range(min=-1e12, max=1e12), **kwargs)


class Currency(fields.String):
    """An ISO 4217 code such as USD, stored upper-case."""

    def __init__(self, **kwargs):
        """Accept three letters."""
        super().__init__(validate=validate.Regexp(r"^[A-Za-z]{3}$", error="Not an ISO 4217 currency code."),
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the code upper-case."""
        return super()._deserialize(value, attr, data, **kwargs).upper()


def json_size(value) -> int:
    """Return the size in bytes of value as compact JSON."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str).encode())


class BoundedDict(fields.Dict):
    """A free-form JSON object whose size is capped."""

    def __init__(self, max_bytes: int, **kwargs):
        """Remember the cap."""
        super().__init__(keys=fields.String(), **kwargs)
        self.max_bytes = max_bytes

    def _deserialize(self, value, attr, data, **kwargs):
        """Check the size after the usual dict checks."""
        value = super()._deserialize(value, attr, data, **kwargs)
        if json_size(value) > self.max_bytes:
            raise ValidationError(f"Larger than {self.max_bytes} bytes.")
        return value


def check_extras(schema: Schema, data: dict, max_bytes: int) -> None:
    """Bound the keys a schema keeps without declaring them."""
    extras = {k: v for k, v in data.items() if k not in schema.fields}
    if extras and json_size(extras) > max_bytes:
        raise ValidationError(f"Undeclared fields together are larger than {max_bytes} bytes.",
                              field_name="_schema")


class ContextSchema(Schema):
    """Device and page details: DataCue's `ip` and `user_agent`, plus what the tracker adds."""

    class Meta:
        unknown = INCLUDE

    ip = text(64, allow_none=True)
    user_agent = text(UA_MAX, allow_none=True)
    page_url = text(URL_MAX, allow_none=True)
    referrer = text(URL_MAX, allow_none=True)
    page_title = text(TEXT_MAX, allow_none=True)
    session_id = Id(allow_none=True)
    #: True on the event a page sends as it loads (the tracker's mark): that event is the page's view.
    page_load = fields.Boolean(allow_none=True)

    @pre_load
    def accept_dashed_user_agent(self, data, **kwargs):
        """Accept `user-agent`, the spelling of DataCue's older examples."""
        if isinstance(data, dict) and "user-agent" in data and "user_agent" not in data:
            data = dict(data)
            data["user_agent"] = data.pop("user-agent")
        return data

    @post_load
    def check(self, data, **kwargs):
        """Check the IP parses and the undeclared keys are bounded."""
        if data.get("ip"):
            try:
                ipaddress.ip_address(data["ip"])
            except ValueError:
                raise ValidationError("Not a valid IP address.", field_name="ip") from None
        check_extras(self, data, CONTEXT_MAX_BYTES)
        return data


def batch_schema(items_field: str) -> Schema:
    """The batch form `{"sent_at", items_field: [...], "dropped"}`; each item is validated on its own later.

    `dropped` is how many events the tracker had to drop from its full queue since its last delivery.
    """
    return Schema.from_dict({
        "sent_at": Timestamp(allow_none=True),
        "dropped": fields.Integer(strict=True, validate=validate.Range(min=0, max=1_000_000)),
        items_field: fields.List(fields.Raw(), required=True, validate=validate.Length(min=1)),
    }, name=f"{items_field.title()}BatchSchema")()

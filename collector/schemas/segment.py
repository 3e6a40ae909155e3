"""Segment's HTTP Tracking API (also RudderStack's): one message, and the batch that carries several.

Field names are Segment's (camelCase). What the SDKs really send decides the leniency: `null` and `""` ids
are absent (the Python SDKs send `null`, RudderStack's browser SDK `""`), numeric ids are strings, and a
time that does not parse is ignored (the event then takes the time it arrived) rather than losing the
message: no SDK resends a message it was refused.
"""

from __future__ import annotations

import ipaddress

from marshmallow import INCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validates_schema

from .common import ID_MAX
from .common import UA_MAX
from .common import URL_MAX
from .common import Timestamp
from .common import one_of
from .common import text

#: The message types of the Segment spec (RudderStack's browser SDK sends all but `screen`).
TYPES = ("track", "page", "screen", "identify", "group", "alias")
#: Most messages in one batch (Segment's documented limit; past it each message is refused on its own).
BATCH_MAX_MESSAGES = 2500


class OptionalId(fields.Field):
    """An id as the SDKs send one: a string or a number (kept as a string); `null` and `""` mean none."""

    default_error_messages = {
        "invalid": "Not a valid id: expected a string or a number.",
        "too_long": f"Longer than {ID_MAX} characters.",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the id as a string, or None for an empty one."""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise self.make_error("invalid")
        value = str(value).strip() if isinstance(value, str) else str(value)
        if len(value) > ID_MAX:
            raise self.make_error("too_long")
        return value or None


class LenientTimestamp(Timestamp):
    """A time the message gives; one that does not parse is treated as absent (and kept in the payload)."""

    def _deserialize(self, value, attr, data, **kwargs):
        """Return an aware UTC datetime, or None."""
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError:
            return None


class PageSchema(Schema):
    """`context.page`: where a browser message was sent from."""

    class Meta:
        unknown = INCLUDE

    url = text(URL_MAX, allow_none=True)
    referrer = text(URL_MAX, allow_none=True)
    path = text(URL_MAX, allow_none=True)
    title = text(allow_none=True)
    search = text(URL_MAX, allow_none=True)


class LibrarySchema(Schema):
    """`context.library`: the SDK that sent the message."""

    class Meta:
        unknown = INCLUDE

    name = text(allow_none=True)
    version = text(allow_none=True)


class ContextSchema(Schema):
    """`context`: the fields the collector reads; the rest is kept as sent."""

    class Meta:
        unknown = INCLUDE

    ip = text(64, allow_none=True)
    userAgent = text(UA_MAX, allow_none=True)
    page = fields.Nested(PageSchema, allow_none=True)
    library = fields.Nested(LibrarySchema, allow_none=True)
    traits = fields.Dict(keys=fields.String(), allow_none=True)
    campaign = fields.Dict(keys=fields.String(), allow_none=True)
    sessionId = OptionalId(allow_none=True)
    #: Read for its truth, as the SDKs' JavaScript would: any value is taken.
    direct = fields.Raw(allow_none=True)

    @post_load
    def forget_bad_ip(self, data, **kwargs):
        """An address that does not parse is no address (the event is still worth keeping)."""
        if data.get("ip"):
            try:
                ipaddress.ip_address(data["ip"])
            except ValueError:
                data["ip"] = None
        return data


class MessageSchema(Schema):
    """One message of any type; what each type needs is checked after the fields."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True, validate=one_of(TYPES))
    messageId = OptionalId(allow_none=True)
    anonymousId = OptionalId(allow_none=True)
    userId = OptionalId(allow_none=True)
    event = text(allow_none=True)
    name = text(allow_none=True)
    category = text(allow_none=True)
    properties = fields.Dict(keys=fields.String(), allow_none=True)
    traits = fields.Dict(keys=fields.String(), allow_none=True)
    context = fields.Nested(ContextSchema, allow_none=True)
    integrations = fields.Dict(keys=fields.String(), allow_none=True)
    groupId = OptionalId(allow_none=True)
    previousId = OptionalId(allow_none=True)
    timestamp = LenientTimestamp(allow_none=True)
    originalTimestamp = LenientTimestamp(allow_none=True)
    sentAt = LenientTimestamp(allow_none=True)
    channel = text(allow_none=True)

    @validates_schema
    def needs_what_its_type_needs(self, data, **kwargs):
        """An id for whom (Segment's no_user_anon_id), a name for a track, a group for a group call."""
        if not data.get("userId") and not data.get("anonymousId"):
            raise ValidationError("Give userId or anonymousId (neither was sent, or both were empty).",
                                  field_name="userId")
        if data.get("type") == "track" and not (data.get("event") or "").strip():
            raise ValidationError("A track call needs the name of its event.", field_name="event")
        if data.get("type") == "group" and not data.get("groupId"):
            raise ValidationError("A group call needs a groupId.", field_name="groupId")


MESSAGE = MessageSchema()

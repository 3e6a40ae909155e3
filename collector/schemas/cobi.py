"""Cobi user interactions (`POST /user-interactions`): one record, and the `{"records": [...]}` form."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields

from .common import ContextSchema
from .common import Id
from .common import Timestamp
from .common import Uuid
from .common import batch_schema
from .common import one_of
from .common import text

INTERACTION_TYPES = ("FILTER_CLICK", "SHARE", "PAGE_VIEW", "DISCOUNT_CODE")
#: KEYWORD is in Cobi's model schema and endpoint text, though not in its field table.
ITEM_TYPES = ("TAG", "OFFER", "SHOP", "KEYWORD")
PLATFORMS = ("ANDROID", "IOS", "WEB", "OTHER")


class InteractionSchema(Schema):
    """One interaction exactly as Cobi documents it, plus optional event_id, anonymous_id, context, sent_at."""

    interaction_type = fields.String(required=True, validate=one_of(INTERACTION_TYPES))
    user_id = Id(allow_none=True)
    student_id = Uuid(allow_none=True)
    item_type = fields.String(required=True, validate=one_of(ITEM_TYPES))
    item_id = Uuid(required=True)
    city = text(200, allow_none=True)
    country = text(200, allow_none=True)
    platform = fields.String(allow_none=True, validate=one_of(PLATFORMS))
    event_timestamp = Timestamp(required=True)
    source = fields.String(allow_none=True, validate=one_of(("COBI",)))
    recommendation_id = Uuid(allow_none=True)
    # Extensions the tracker uses; forwarding to Cobi leaves them out.
    event_id = Uuid()
    anonymous_id = Id(allow_none=True)
    context = fields.Nested(ContextSchema, allow_none=True)
    sent_at = Timestamp(allow_none=True)


RECORD = InteractionSchema()
#: The batch form, as Cobi's Data API: `{"records": [...]}`.
BATCH = batch_schema("records")

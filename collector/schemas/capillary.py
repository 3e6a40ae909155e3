"""Coupon codes, as Capillary's coupon upload carries them: a code of a series, tagged to a customer by
their mobile number, email, user id or external id, or to nobody (`NOT_TAGGED`).

A coupon is a reference record like the others (history, upserts, the rejected table), identified by its
series and code; the `capillary_coupons` view shows the current ones.
"""

from __future__ import annotations

from urllib.parse import quote

from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import pre_load
from marshmallow import validate
from marshmallow import validates_schema

from ..reference.record_types import RecordType
from ..reference.record_types import register
from .common import Id
from .common import one_of
from .common import text
from .record_fields import RecordSchema

FAMILY = "capillary"
NOT_TAGGED = "NOT_TAGGED"
#: How a coupon names its customer; Capillary's upload documents MOBILE and NOT_TAGGED, its redemption
#: upload the others.
IDENTIFIERS = ("MOBILE", "EMAIL", "USER_ID", "EXTERNAL_ID", NOT_TAGGED)
_MOBILE = validate.Regexp(r"^\+?[0-9]{6,15}$", error="Not a mobile number: 6 to 15 digits, optionally after +.")
_EMAIL = validate.Email(error="Not an email address.")


class CouponSchema(RecordSchema):
    """One coupon code of a series, and the customer it is tagged to."""

    series_id = Id(required=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))
    customer_identifier = fields.String(load_default=NOT_TAGGED, validate=one_of(IDENTIFIERS))
    customer_value = text(320, allow_none=True)

    @pre_load
    def upper_case_identifier(self, data, **kwargs):
        """Take `mobile` as `MOBILE`."""
        if isinstance(data, dict) and isinstance(data.get("customer_identifier"), str):
            data = {**data, "customer_identifier": data["customer_identifier"].strip().upper()}
        return data

    @validates_schema
    def customer_matches_identifier(self, data, **kwargs):
        """A tagged coupon names its customer in the identifier's form; a NOT_TAGGED one names nobody."""
        identifier, value = data.get("customer_identifier", NOT_TAGGED), data.get("customer_value")
        if identifier == NOT_TAGGED:
            if value:
                raise ValidationError("A NOT_TAGGED coupon names no customer; leave it empty or say how it is "
                                      "tagged.", field_name="customer_value")
            return
        if not value:
            raise ValidationError(f"Missing the customer's {identifier} for a coupon tagged by it.",
                                  field_name="customer_value")
        check = {"MOBILE": _MOBILE, "EMAIL": _EMAIL}.get(identifier)
        if check is not None:
            try:
                check(value)
            except ValidationError as exc:
                raise ValidationError(exc.messages, field_name="customer_value") from None


def _coupon_id(data: dict) -> str:
    """A coupon's stored id: its series and code, each escaped, so that no two pairs share one."""
    return f"{quote(str(data['series_id']), safe='')}/{quote(data['code'], safe='')}"


COUPONS = RecordType("coupons", FAMILY, CouponSchema(), "code", composite_id=_coupon_id)
register(COUPONS)

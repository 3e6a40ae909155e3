"""DataCue browser events (`POST /v1/events`): the envelope, every event type, and the batch form."""

from __future__ import annotations

from marshmallow import INCLUDE
from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import post_load
from marshmallow import validate
from marshmallow import validates_schema

from .common import EXTRAS_MAX_BYTES
from .common import PROFILE_MAX_BYTES
from .common import BoundedDict
from .common import ContextSchema
from .common import Currency
from .common import Id
from .common import Money
from .common import Timestamp
from .common import Uuid
from .common import batch_schema
from .common import check_extras
from .common import text

#: Most lines in one cart.
CART_MAX_LINES = 500


class CartLineSchema(Schema):
    """One cart or order line; `variant`/`price` (order started) normalise to `variant_id`/`unit_price`."""

    class Meta:
        unknown = INCLUDE

    product_id = Id(required=True)
    variant_id = Id(allow_none=True)
    variant = Id(allow_none=True)
    # strict: a fractional quantity is refused, not silently truncated (schemathesis found 2.5 -> 2).
    quantity = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=1_000_000))
    unit_price = Money(allow_none=True)
    price = Money(allow_none=True)
    currency = Currency(allow_none=True)

    @validates_schema
    def no_conflicting_spellings(self, data, **kwargs):
        """Refuse a line that spells the same thing twice with different values."""
        for documented, variant in (("variant_id", "variant"), ("unit_price", "price")):
            if data.get(documented) is not None and data.get(variant) is not None \
                    and data[documented] != data[variant]:
                raise ValidationError(f"Both {documented} and {variant} given with different values.",
                                      field_name=variant)

    @post_load
    def normalise(self, data, **kwargs):
        """Store one spelling: variant_id and unit_price."""
        variant = data.pop("variant", None)
        price = data.pop("price", None)
        if data.get("variant_id") is None and variant is not None:
            data["variant_id"] = variant
        if data.get("unit_price") is None and price is not None:
            data["unit_price"] = price
        check_extras(self, data, EXTRAS_MAX_BYTES)
        return data


class CartLine(fields.Field):
    """A cart line as an object, or as a bare product id (DataCue's older examples)."""

    def __init__(self, **kwargs):
        """No schema is made until the field loads a line: each copy of the field makes its own."""
        super().__init__(**kwargs)
        self._schema: CartLineSchema | None = None

    def nested_schemas(self) -> list[Schema]:
        """The schema this field loads with, for compiling (schemas/compiled.py)."""
        if self._schema is None:
            self._schema = CartLineSchema()
        return [self._schema]

    def _deserialize(self, value, attr, data, **kwargs):
        """Return the line as a normalised object."""
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            value = {"product_id": value}
        if not isinstance(value, dict):
            raise ValidationError("A cart line must be an object with a product_id, or a product id.")
        return self.nested_schemas()[0].load(value)


def cart(min_lines: int) -> fields.List:
    """A list of cart lines, bounded."""
    return fields.List(CartLine(), required=True,
                       validate=validate.Length(min=min_lines, max=CART_MAX_LINES))


class EventSchema(Schema):
    """Fields every event has; undeclared keys are kept in the payload, bounded in size."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    subtype = fields.String(allow_none=True)

    @post_load
    def bound_extras(self, data, **kwargs):
        """Keep undeclared keys, but not without limit."""
        check_extras(self, data, EXTRAS_MAX_BYTES)
        return data


class NoFields(EventSchema):
    """pageview home and page, login."""


class ProductEvent(EventSchema):
    """pageview product, wishlist add/remove."""

    product_id = Id(required=True)
    variant_id = Id(allow_none=True)


class CategoryView(EventSchema):
    """pageview category: `category_name` (2018 docs) or `category_id` (2021 docs)."""

    category_name = text(allow_none=True)
    category_id = Id(allow_none=True)

    @validates_schema
    def needs_a_category(self, data, **kwargs):
        """Require at least one way to name the category."""
        if not data.get("category_name") and not data.get("category_id"):
            raise ValidationError("Missing data for required field.", field_name="category_name")


class ViewCart(EventSchema):
    """viewcart: the cart's lines, possibly none."""

    cart = cart(min_lines=0)


class Search(EventSchema):
    """search: the term typed."""

    term = fields.String(required=True, validate=validate.Length(min=1, max=512))


#: The lists a recommendation widget names in its clicks and impressions (this collector's extension):
#: the answers' product lists, the home page's rows by category, and the banners (main, sub or the static
#: fallback, in whichever slot).
WIDGET_LISTS = ("related", "recent", "similar", "top", "categories", "banners")


def widget_list(**kwargs) -> fields.String:
    """The list a click or an impression came from."""
    return fields.String(validate=validate.OneOf(WIDGET_LISTS), **kwargs)


class BannerClick(EventSchema):
    """click banner; `list` when a widget showed it."""

    banner_id = Id(required=True)
    list = widget_list(allow_none=True)


class ProductClick(EventSchema):
    """click product; `list` when a widget recommended it."""

    product_id = Id(required=True)
    list = widget_list(allow_none=True)


class Impression(EventSchema):
    """impression products/banners (this collector's extension): a widget's list seen on screen, once per
    answer, with the ids it showed."""

    list = widget_list(required=True)
    ids = fields.List(Id(), validate=validate.Length(max=50))


class OrderStarted(EventSchema):
    """order started: a cart and, if known yet, the order id."""

    order_id = Id(allow_none=True)
    cart = cart(min_lines=1)


class OrderCompleted(EventSchema):
    """order completed."""

    order_id = Id(required=True)
    cart = cart(min_lines=1)
    payment_method = text(allow_none=True)


class OrderCancelled(EventSchema):
    """order cancelled."""

    order_id = Id(required=True)


#: type -> subtype -> schema; the subtype None means the type takes none.
EVENT_TYPES: dict[str, dict[str | None, Schema]] = {
    # "page" is this collector's extension: a page that is none of the three (the tracker's SPA routes).
    "pageview": {"home": NoFields(), "product": ProductEvent(), "category": CategoryView(), "page": NoFields()},
    "viewcart": {None: ViewCart()},
    "search": {None: Search()},
    "wishlist": {"add": ProductEvent(), "remove": ProductEvent()},
    "click": {"banner": BannerClick(), "product": ProductClick()},
    "impression": {"products": Impression(), "banners": Impression()},
    "order": {"started": OrderStarted(), "completed": OrderCompleted(), "cancelled": OrderCancelled()},
    "login": {None: NoFields()},
}


class TypedEvent(fields.Field):
    """The `event` object, validated by the schema its type and subtype pick."""

    def __init__(self, **kwargs):
        """No schema is made until the field loads an event: each copy of the field makes its own."""
        super().__init__(**kwargs)
        self._schemas: dict[str, dict[str | None, Schema]] | None = None

    @property
    def schemas(self) -> dict[str, dict[str | None, Schema]]:
        """This field's own schema for each type and subtype (a compiled copy compiles its own)."""
        if self._schemas is None:
            self._schemas = {kind: {sub: type(schema)() for sub, schema in subtypes.items()}
                             for kind, subtypes in EVENT_TYPES.items()}
        return self._schemas

    def nested_schemas(self):
        """The schemas this field loads with, for compiling (schemas/compiled.py)."""
        return [schema for subtypes in self.schemas.values() for schema in subtypes.values()]

    def _deserialize(self, value, attr, data, **kwargs):
        """Dispatch on type and subtype, naming the allowed values when either is unknown."""
        if not isinstance(value, dict):
            raise ValidationError("Must be an object with a type.")
        kind = value.get("type")
        if kind is None:
            raise ValidationError({"type": ["Missing data for required field."]})
        if not isinstance(kind, str) or kind not in EVENT_TYPES:
            raise ValidationError({"type": [
                f"Unknown event type {kind!r}; must be one of: {', '.join(EVENT_TYPES)}."]})
        subtypes = self.schemas[kind]
        subtype = value.get("subtype")
        if None in subtypes:
            if subtype not in (None, ""):
                raise ValidationError({"subtype": [f"{kind} events take no subtype; got {subtype!r}."]})
            if "subtype" in value:
                value = {k: v for k, v in value.items() if k != "subtype"}
            subtype = None  # "" means none too (found by schemathesis: it was a 500)
        elif subtype is None:
            raise ValidationError({"subtype": [
                f"Missing data for required field; {kind} needs one of: {', '.join(subtypes)}."]})
        elif not isinstance(subtype, str) or subtype not in subtypes:
            raise ValidationError({"subtype": [
                f"Unknown subtype {subtype!r} for {kind}; must be one of: {', '.join(subtypes)}."]})
        return subtypes[subtype].load(value)


class UserSchema(Schema):
    """Who did it: a user id once logged in, an anonymous id before; a free-form profile."""

    user_id = Id(allow_none=True)
    anonymous_id = Id(allow_none=True)
    profile = BoundedDict(PROFILE_MAX_BYTES, allow_none=True)

    @validates_schema
    def needs_an_id(self, data, **kwargs):
        """Require user_id or anonymous_id."""
        if not data.get("user_id") and not data.get("anonymous_id"):
            raise ValidationError("Give user_id (logged in) or anonymous_id (not logged in).",
                                  field_name="user_id")


class DataCueEventSchema(Schema):
    """One DataCue browser event, exactly as documented, plus optional event_id and sent_at."""

    event_id = Uuid()
    user = fields.Nested(UserSchema, required=True)
    event = TypedEvent(required=True)
    context = fields.Nested(ContextSchema, allow_none=True)
    timestamp = Timestamp(allow_none=True)
    sent_at = Timestamp(allow_none=True)


EVENT = DataCueEventSchema()
BATCH = batch_schema("events")

"""DataCue's backend API: products (one record per variant), banners, users and orders, as the DataCue
docs' field tables and its official PHP client send them.

Where the docs contradict themselves (a batch example without the required name and stock, which the
official client always sends; users keyed by email; `anonymous_ids` beside `anonymous_id`) the decisions
are in docs/decisions.md.
"""

from __future__ import annotations

from urllib.parse import quote

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import pre_load
from marshmallow import validate
from marshmallow import validates_schema

from ..reference.record_types import RecordType
from ..reference.record_types import register
from .common import EXTRAS_MAX_BYTES
from .common import PROFILE_MAX_BYTES
from .common import URL_MAX
from .common import BoundedDict
from .common import Id
from .common import Money
from .common import one_of
from .common import text
from .datacue import CART_MAX_LINES
from .datacue import CartLine
from .record_fields import Flag
from .record_fields import RecordSchema
from .record_fields import RecordTime

FAMILY = "datacue-backend"
#: Most items in one batch, and the largest body, as the official client assumes (MAX_LIST_DATA_SIZE,
#: MAX_BODY_SIZE in its Request.php).
MAX_ITEMS = 500
MAX_BODY_BYTES = 5 * 1024 * 1024
#: The longest product description kept (the docs call it "long text"; other text fields are TEXT_MAX).
DESCRIPTION_MAX = 65_536
ORDER_STATUSES = ("completed", "cancelled")


def variant_record_id(product_id: str, variant_id: str) -> str:
    """The stored id of one variant: both ids, each escaped, so that no two pairs share one."""
    return f"{quote(product_id, safe='')}/{quote(variant_id, safe='')}"


def _schema(class_name: str, declared: dict) -> type[Schema]:
    """A record schema: the declared fields plus created, updated and is_deleted, extras kept."""
    return RecordSchema.from_dict(declared, name=class_name)


def _category_fields() -> dict:
    """category_1 (required) to category_4, as products and banners have them."""
    return {"category_1": text(required=True), **{f"category_{n}": text(allow_none=True) for n in (2, 3, 4)}}


Product = _schema("ProductSchema", {
    "product_id": Id(required=True), "variant_id": Id(required=True), **_category_fields(),
    "category_extra": BoundedDict(EXTRAS_MAX_BYTES, allow_none=True),
    # The field table marks name and stock required, and every example of the official client's releases
    # sends both; the docs' own batch example has neither (docs/decisions.md: the table wins).
    "name": text(required=True), "brand": text(allow_none=True),
    "description": text(DESCRIPTION_MAX, allow_none=True),
    "color": text(allow_none=True), "size": text(allow_none=True),
    "price": Money(required=True), "full_price": Money(allow_none=True),
    "available": Flag(allow_none=True),
    "stock": fields.Integer(strict=True, required=True,
                            validate=validate.Range(min=-1_000_000_000, max=1_000_000_000)),
    "extra": BoundedDict(EXTRAS_MAX_BYTES, allow_none=True),
    "photo_url": text(URL_MAX, required=True), "link": text(URL_MAX, required=True), "owner_id": Id(allow_none=True),
})

Banner = _schema("BannerSchema", {
    "banner_id": Id(required=True), "type": fields.String(required=True, validate=one_of(("main", "sub"))),
    "name": text(allow_none=True), **_category_fields(),
    "photo_url": text(URL_MAX, required=True), "link": text(URL_MAX, required=True),
    "extra": BoundedDict(EXTRAS_MAX_BYTES, allow_none=True),
})


# The catalogue's categories (the official client from its 1.0.11 release: `$datacue->categories`), as
# its examples send them. Stored as `product-categories`: Cobi's Data API has a `categories` of its own.
Category = _schema("CategorySchema", {
    "category_id": Id(required=True), "name": text(required=True), "link": text(URL_MAX, allow_none=True),
    "extra": BoundedDict(EXTRAS_MAX_BYTES, allow_none=True),
})


class _CartItem(Schema):
    """A product in a user's cart: its product and variant ids."""

    product_id = Id(required=True)
    variant_id = Id(allow_none=True)


class UserSchema(RecordSchema):
    """A shop's user; `anonymous_ids` (the docs' examples, one id or several) is kept as a list."""

    user_id = Id(required=True)
    anonymous_id = Id(allow_none=True)
    anonymous_ids = fields.List(Id(), allow_none=True, validate=validate.Length(max=100))
    email = fields.Email(allow_none=True, validate=validate.Length(max=320))
    title = text(64, allow_none=True)
    # The field table says first_name is required; the official client's batch example has none.
    first_name = text(allow_none=True)
    last_name = text(allow_none=True)
    profile = BoundedDict(PROFILE_MAX_BYTES, allow_none=True)
    email_subscriber = Flag(allow_none=True)
    cart = fields.List(fields.Nested(_CartItem), allow_none=True, validate=validate.Length(max=CART_MAX_LINES))
    wishlist = fields.List(Id(), allow_none=True, validate=validate.Length(max=CART_MAX_LINES))
    timestamp = RecordTime(allow_none=True)

    @pre_load
    def one_id_is_a_list(self, data, **kwargs):
        """`"anonymous_ids": "v1"`, as the docs send it, is a list of one."""
        if isinstance(data, dict) and isinstance(data.get("anonymous_ids"), (str, int)):
            data = {**data, "anonymous_ids": [data["anonymous_ids"]]}
        return data


class OrderSchema(RecordSchema):
    """An order from the shop's backend: its lines normalise as the browser's order events do."""

    order_id = Id(required=True)
    user_id = Id(allow_none=True)
    cart = fields.List(CartLine(), validate=validate.Length(min=1, max=CART_MAX_LINES))
    order_status = fields.String(load_default="completed", validate=one_of(ORDER_STATUSES))
    timestamp = RecordTime(allow_none=True)

    @validates_schema
    def cart_unless_cancelled(self, data, **kwargs):
        """An order needs its lines; a cancellation alone (of an order the browser reported) does not."""
        if data.get("order_status") != "cancelled" and not data.get("cart"):
            raise ValidationError({"cart": ["Missing data for required field."]})


def _variant_id(data: dict) -> str:
    """A product record's id: product and variant together."""
    return variant_record_id(data["product_id"], data["variant_id"])


PRODUCTS = RecordType("products", FAMILY, Product(), "product_id", composite_id=_variant_id)
BANNERS = RecordType("banners", FAMILY, Banner(), "banner_id")
USERS = RecordType("users", FAMILY, UserSchema(), "user_id")
ORDERS = RecordType("orders", FAMILY, OrderSchema(), "order_id")
CATEGORIES = RecordType("product-categories", FAMILY, Category(), "category_id")
TYPES = (PRODUCTS, BANNERS, USERS, ORDERS, CATEGORIES)
register(*TYPES)
#: Each type by the name DataCue's paths and batches give it (`/v1/categories`, `"type": "categories"`).
BY_PATH = {"categories" if record_type is CATEGORIES else record_type.name: record_type for record_type in TYPES}

#: What a batch body holds: its type (unless the path names it) and its items.
BATCH = Schema.from_dict({
    "type": fields.String(validate=one_of(tuple(BY_PATH))),
    "batch": fields.List(fields.Raw(), required=True, validate=validate.Length(min=1)),
}, name="DataCueBatchSchema")()

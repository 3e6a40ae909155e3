"""Cobi's Data API (`POST /v1/data/<type>`): the fourteen record types, as Cobi's model pages give them.

`categories` and `keywords` have no published model; their fields follow `tags` (docs/decisions.md).
"""

from __future__ import annotations

import uuid

from marshmallow import Schema
from marshmallow import ValidationError
from marshmallow import fields
from marshmallow import validate
from marshmallow import validates_schema

from ..reference.record_types import STUDENT_RECORD_TYPE
from ..reference.record_types import RecordType
from ..reference.record_types import Reference
from ..reference.record_types import register
from .common import Uuid
from .common import text
from .record_fields import Flag
from .record_fields import RecordDate
from .record_fields import RecordSchema
from .record_fields import RecordTime
from .record_fields import Region
from .record_fields import amount
from .record_fields import comma_list
from .record_fields import coordinate
from .record_fields import name

FAMILY = "cobi-data"
#: Most records in one request, as Cobi documents ("up to 5000").
MAX_RECORDS = 5000
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _is_uuid(value: str) -> bool:
    """Whether text is a UUID."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _schema(class_name: str, declared: dict) -> type[Schema]:
    """A record schema: the declared fields plus created, updated and is_deleted."""
    return RecordSchema.from_dict(declared, name=class_name)


Customer = _schema("CustomerSchema", {
    "customer_id": Uuid(required=True), "user_id": Uuid(required=True), "region": Region(required=True),
    "birthdate": RecordDate(allow_none=True), "institute_id": Uuid(allow_none=True),
    "course_id": Uuid(allow_none=True), "gender": text(64, allow_none=True),
})

Transaction = _schema("TransactionSchema", {
    "transaction_id": Uuid(required=True), "shop_id": Uuid(required=True), "region": Region(required=True),
    "savings": amount(0, required=True), "amount": amount(0, exclusive=True, required=True),
    "student_id": Uuid(allow_none=True), "offer_id": Uuid(allow_none=True), "branch_id": Uuid(allow_none=True),
    "source": text(64, allow_none=True), "discount_name": text(allow_none=True),
    "discount_type": text(64, allow_none=True), "discount_value": amount(allow_none=True),
})


class OfferSchema(_schema("OfferFields", {
    "offer_id": Uuid(required=True), "shop_id": Uuid(required=True), "name": name(required=True),
    "type": fields.String(required=True, validate=validate.Length(min=1, max=64)),
    "value": amount(0, exclusive=True, required=True), "region": Region(required=True),
    "allowed_from": RecordTime(allow_none=True), "allowed_to": RecordTime(allow_none=True),
    "allowed_branches": fields.String(allow_none=True, validate=comma_list(
        _is_uuid, "allowed_branches is comma-separated branch ids; {bad!r} is not a UUID.")),
    "allowed_days": fields.String(allow_none=True, validate=comma_list(
        lambda day: day.lower() in _DAYS, "allowed_days is comma-separated week days; {bad!r} is not one.")),
    "is_enabled": Flag(allow_none=True),
})):
    """An offer of a shop; its validity window must not end before it starts."""

    @validates_schema
    def check_window(self, data, **kwargs):
        """Refuse allowed_to before allowed_from."""
        start, end = data.get("allowed_from"), data.get("allowed_to")
        if start and end and end < start:
            raise ValidationError("allowed_to is before allowed_from.", field_name="allowed_to")


Shop = _schema("ShopSchema", {
    "shop_id": Uuid(required=True), "name": name(required=True), "region": Region(required=True),
    "is_public": Flag(allow_none=True),
})
Branch = _schema("BranchSchema", {
    "branch_id": Uuid(required=True), "shop_id": Uuid(required=True), "name": name(required=True),
    "region": Region(required=True), "latitude": coordinate(90, allow_none=True),
    "longitude": coordinate(180, allow_none=True),
})
Category = _schema("CategorySchema", {"category_id": Uuid(required=True), "name": name(required=True)})
ShopCategory = _schema("ShopCategorySchema", {
    "shop_category_id": Uuid(required=True), "shop_id": Uuid(required=True), "category_id": Uuid(required=True),
    "region": Region(required=True),
})
Institute = _schema("InstituteSchema", {
    "institute_id": Uuid(required=True), "name": name(required=True), "region": Region(required=True),
})
Course = _schema("CourseSchema", {"course_id": Uuid(required=True), "name": name(required=True)})
Tag = _schema("TagSchema", {"tag_id": Uuid(required=True), "name": name(required=True)})
ShopTag = _schema("ShopTagSchema", {
    "shop_tag_id": Uuid(required=True), "shop_id": Uuid(required=True), "tag_id": Uuid(required=True),
})
Keyword = _schema("KeywordSchema", {"keyword_id": Uuid(required=True), "name": name(required=True)})
ShopKeyword = _schema("ShopKeywordSchema", {
    "shop_keyword_id": Uuid(required=True), "shop_id": Uuid(required=True), "keyword_id": Uuid(required=True),
})
StudentFavourite = _schema("StudentFavouriteSchema", {
    "favourite_id": Uuid(allow_none=True), "student_id": Uuid(required=True), "shop_id": Uuid(required=True),
})

_SHOP = Reference("shop_id", "shops")
#: The student of a favourite is a customer, named by its customer_id (docs/decisions.md).
_STUDENT = Reference("student_id", STUDENT_RECORD_TYPE)

TYPES = (
    RecordType("customers", FAMILY, Customer(), "customer_id"),
    RecordType("transactions", FAMILY, Transaction(), "transaction_id", (
        _SHOP, Reference("offer_id", "offers", same=("shop_id",)),
        Reference("branch_id", "branches", same=("shop_id",)),
    )),
    RecordType("offers", FAMILY, OfferSchema(), "offer_id", (_SHOP,)),
    RecordType("shops", FAMILY, Shop(), "shop_id"),
    RecordType("branches", FAMILY, Branch(), "branch_id", (_SHOP,)),
    RecordType("categories", FAMILY, Category(), "category_id"),
    RecordType("shop-categories", FAMILY, ShopCategory(), "shop_category_id",
               (_SHOP, Reference("category_id", "categories"))),
    RecordType("institutes", FAMILY, Institute(), "institute_id"),
    RecordType("courses", FAMILY, Course(), "course_id"),
    RecordType("tags", FAMILY, Tag(), "tag_id"),
    RecordType("shop-tags", FAMILY, ShopTag(), "shop_tag_id", (_SHOP, Reference("tag_id", "tags"))),
    RecordType("keywords", FAMILY, Keyword(), "keyword_id"),
    RecordType("shop-keywords", FAMILY, ShopKeyword(), "shop_keyword_id", (_SHOP, Reference("keyword_id", "keywords"))),
    # A favourite sent without its own id is one per student and shop.
    RecordType("student-favourites", FAMILY, StudentFavourite(), "favourite_id", (_STUDENT, _SHOP),
               fallback_id=lambda data: f"{data['student_id']}:{data['shop_id']}"),
)
register(*TYPES)

#: The request body: `{"records": [...]}`, each record validated on its own against its type.
BATCH = Schema.from_dict({
    "records": fields.List(fields.Raw(), required=True, validate=validate.Length(min=1)),
}, name="DataRecordsSchema")()

"""Valid Cobi Data API records of every type, their dependencies, and a client that sends them."""

from __future__ import annotations

import copy
import uuid

#: The shop of Cobi's own example (API_SPECS.md, models/shop), verbatim.
DOCS_SHOP = {"shop_id": "550e8400-e29b-41d4-a716-446655440000", "name": "Campus Bookstore", "region": "CA",
             "is_public": True, "created": "2023-01-15T14:30:00Z", "updated": "2023-06-22T09:15:30Z",
             "is_deleted": False}
SHOP = DOCS_SHOP["shop_id"]
CUSTOMER = "7d1e0c4a-93a1-4a55-9a44-6b0f6f3c1d01"
CATEGORY = "0f8b3c1e-2a47-4e0c-8d7e-1c6a5b4f3e21"
TAG = "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a99"
KEYWORD = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
BRANCH = "b1b2b3b4-c5c6-4d7d-8e8e-f9f0a1a2b3b4"
OFFER = "a0a1a2a3-b4b5-4c6c-9d7d-e8e9f0f1f2f3"

#: One valid record per type, each naming the records above.
EXAMPLES = {
    "shops": DOCS_SHOP,
    "customers": {"customer_id": CUSTOMER, "user_id": "2b8f1c3e-7a6d-4e5f-9c0b-1a2d3e4f5a6b", "region": "CA",
                  "birthdate": "2001-04-03", "institute_id": "c3c4c5c6-d7d8-4e9e-8f0f-a1a2b3b4c5c6",
                  "course_id": "d4d5d6d7-e8e9-4f0f-9a1a-b2b3c4c5d6d7", "gender": "female"},
    "categories": {"category_id": CATEGORY, "name": "Books"},
    "tags": {"tag_id": TAG, "name": "Student Discount"},
    "keywords": {"keyword_id": KEYWORD, "name": "textbooks"},
    "institutes": {"institute_id": "c3c4c5c6-d7d8-4e9e-8f0f-a1a2b3b4c5c6", "name": "University of Toronto",
                   "region": "CA"},
    "courses": {"course_id": "d4d5d6d7-e8e9-4f0f-9a1a-b2b3c4c5d6d7", "name": "Computer Science"},
    "branches": {"branch_id": BRANCH, "shop_id": SHOP, "name": "Downtown", "region": "CA", "latitude": 43.6532,
                 "longitude": -79.3832},
    "offers": {"offer_id": OFFER, "shop_id": SHOP, "name": "10% off textbooks", "type": "percentage", "value": 10,
               "region": "CA", "allowed_from": "2026-01-01T00:00:00Z", "allowed_to": "2026-12-31T23:59:59Z",
               "allowed_branches": BRANCH, "allowed_days": "monday,tuesday", "is_enabled": True},
    "shop-categories": {"shop_category_id": "e5e6e7e8-f9f0-4a1a-8b2b-c3c4d5d6e7e8", "shop_id": SHOP,
                        "category_id": CATEGORY, "region": "CA"},
    "shop-tags": {"shop_tag_id": "f6f7f8f9-0a0b-4c1c-9d2d-e3e4f5f6a7a8", "shop_id": SHOP, "tag_id": TAG},
    "shop-keywords": {"shop_keyword_id": "a7a8a9a0-1b1c-4d2d-8e3e-f4f5a6a7b8b9", "shop_id": SHOP,
                      "keyword_id": KEYWORD},
    "student-favourites": {"favourite_id": "b8b9b0b1-2c2d-4e3e-9f4f-a5a6b7b8c9c0", "student_id": CUSTOMER,
                           "shop_id": SHOP},
    "transactions": {"transaction_id": "c9c0c1c2-3d3e-4f4f-8a5a-b6b7c8c9d0d1", "shop_id": SHOP, "region": "CA",
                     "savings": 2.5, "amount": 22.5, "student_id": CUSTOMER, "offer_id": OFFER, "branch_id": BRANCH,
                     "source": "in-store", "discount_name": "10% off textbooks", "discount_type": "percentage",
                     "discount_value": 10.0},
}
#: An order in which every type's references exist before it is sent.
ORDER = list(EXAMPLES)


def example(type_name: str, **overrides) -> dict:
    """A copy of a type's example with fields changed (`...` removes one)."""
    record = copy.deepcopy(EXAMPLES[type_name])
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not ...}


def new_uuid() -> str:
    """A fresh record id."""
    return str(uuid.uuid4())


def secret_header(secret: str) -> dict:
    """Authorization as Cobi's Data API takes it."""
    return {"Authorization": f"Bearer {secret}"}


def upload(client, secret: str, type_name: str, records: list[dict], **kwargs):
    """POST records of one type; return the response."""
    return client.post(f"/v1/data/{type_name}", json={"records": records}, headers=secret_header(secret), **kwargs)


def load_dependencies(client, secret: str, type_name: str) -> None:
    """Send every type before this one in ORDER, so its references exist."""
    for earlier in ORDER[:ORDER.index(type_name)]:
        response = upload(client, secret, earlier, [EXAMPLES[earlier]])
        assert response.status_code == 200, response.get_json()

"""DataCue's backend API as an upstream: records (products, banners, users, orders) sent as DataCue's
batches, up to 500 of a type per request, with the upstream's key and secret.

New and changed records go to `POST URL/v1/batch` (create or replace, idempotent); deleted ones, and
cancelled orders, to `DELETE URL/v1/batch` with their ids, as DataCue's batch delete takes them. The
credential is `KEY:SECRET`: the body is signed with HMAC-SHA256 as DataCue's official client signs it,
or, as `KEY:SECRET:plain`, the secret itself is sent, as DataCue's docs show.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from ...reference import record_types
from ...schemas.datacue_backend import BY_PATH
from ...schemas.datacue_backend import FAMILY
from ...schemas.datacue_backend import MAX_ITEMS
from .kind import Credential
from .kind import Delivery
from .kind import TargetKind

#: The fields DataCue's batch delete names each type's records by.
_DELETE_IDS = {"products": ("product_id", "variant_id"), "banners": ("banner_id",), "users": ("user_id",),
               "orders": ("order_id",), "product-categories": ("category_id",)}
#: The name DataCue's batches give each stored type (categories are stored as `product-categories`).
_WIRE_NAMES = {record_type.name: name for name, record_type in BY_PATH.items()}
_PLAIN = ":plain"


def wants(event: dict) -> bool:
    """DataCue's backend records, nothing else (browser events go to a `datacue` target)."""
    return event["source"] == FAMILY


def _removes(version: dict) -> bool:
    """Whether a version deletes its record upstream: a deletion, or an order's cancellation."""
    data = version["data"]
    return bool(data.get("is_deleted")) or (version["type"] == "orders" and data.get("order_status") == "cancelled")


def lane(row: dict) -> tuple[str, int]:
    """Records share a request with others of their type going the same way (created or deleted)."""
    version = json.loads(row["payload"])
    return f"{version['type']} {'delete' if _removes(version) else 'create'}", MAX_ITEMS


def authorization(credential: str, body: bytes) -> str:
    """Basic KEY:hex(HMAC-SHA256(body, SECRET)), or Basic KEY:SECRET for a credential ending in :plain."""
    plain = credential.endswith(_PLAIN)
    key, _, secret = credential.removesuffix(_PLAIN).partition(":")
    password = secret if plain else hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return "Basic " + base64.b64encode(f"{key}:{password}".encode()).decode()


def build(rows: list[dict]) -> Delivery:
    """One batch of one type's records: their declared fields to create, or their ids to delete."""
    versions = [json.loads(row["payload"]) for row in rows]
    type_name = versions[0]["type"]
    if _removes(versions[0]):
        method = "DELETE"
        batch = [{name: v["data"][name] for name in _DELETE_IDS[type_name]} for v in versions]
    else:
        method = "POST"
        declared = record_types.get(type_name).schema.declared_fields
        batch = [{k: value for k, value in v["data"].items() if k in declared and k != "is_deleted"}
                 for v in versions]
    body = json.dumps({"type": _WIRE_NAMES[type_name], "batch": batch}).encode()
    ids = ",".join(row["event_id"] for row in rows)
    return Delivery(url=rows[0]["url"].rstrip("/") + "/v1/batch", body=body, method=method,
                    headers={"Content-Type": "application/json",
                             "Authorization": authorization(rows[0]["secret"], body),
                             "Idempotency-Key": hashlib.sha256(ids.encode()).hexdigest()[:32]})


KIND = TargetKind(name="datacue_backend",
                  url_help="DataCue API base URL for backend records (batches go to URL/v1/batch).",
                  credential=Credential("--upstream-key-secret",
                                        "KEY:SECRET of the DataCue account, for datacue_backend targets (bodies "
                                        "signed with HMAC-SHA256; KEY:SECRET:plain sends the secret itself)."),
                  build=build, wants=wants, lane=lane)

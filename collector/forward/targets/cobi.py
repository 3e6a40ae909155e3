"""Cobi: each interaction posted alone to URL/user-interactions; reference records to URL/v1/data/<type> in
batches of up to 5,000, as Cobi's Data API takes them. Documented fields only."""

from __future__ import annotations

import hashlib
import json

from ...reference import record_types
from ...schemas.cobi_data import FAMILY
from ...schemas.cobi_data import MAX_RECORDS
from .kind import Credential
from .kind import Delivery
from .kind import TargetKind
from .kind import one_event

#: Cobi's documented interaction fields; our extensions (event_id, anonymous_id, context, sent_at) stay home.
COBI_FIELDS = ("interaction_type", "user_id", "student_id", "item_type", "item_id", "city", "country", "platform",
               "event_timestamp", "source", "recommendation_id")


def wants(event: dict) -> bool:
    """Cobi interactions and Cobi's reference records."""
    return event["source"] in ("cobi", FAMILY)


def lane(row: dict) -> tuple[str, int]:
    """Interactions go one per request; records share a request with others of their type."""
    if row["source"] != FAMILY:
        return "", 1
    return json.loads(row["payload"])["type"], MAX_RECORDS


def body(event: dict) -> dict:
    """The Cobi interaction, documented fields only; the anonymous id stands in as the pseudo user id."""
    data = event["data"]
    interaction = {k: data[k] for k in COBI_FIELDS if data.get(k) is not None}
    if "user_id" not in interaction and data.get("anonymous_id"):
        interaction["user_id"] = data["anonymous_id"]
    return interaction


def records(rows: list[dict]) -> Delivery:
    """One Data API request of records of one type: their declared fields, as they were accepted."""
    versions = [json.loads(row["payload"]) for row in rows]
    type_name = versions[0]["type"]
    declared = record_types.get(type_name).schema.declared_fields
    payload = {"records": [{k: v for k, v in version["data"].items() if k in declared} for version in versions]}
    ids = ",".join(row["event_id"] for row in rows)
    return Delivery(url=rows[0]["url"].rstrip("/") + f"/v1/data/{type_name}", body=json.dumps(payload).encode(),
                    headers={"Content-Type": "application/json", "Authorization": f"Bearer {rows[0]['secret']}",
                             "Idempotency-Key": hashlib.sha256(ids.encode()).hexdigest()[:32]})


def build(rows: list[dict]) -> Delivery:
    """One interaction, or one type's records, with the target's bearer token."""
    if rows[0]["source"] == FAMILY:
        return records(rows)
    return one_event(rows, "/user-interactions", body, f"Bearer {rows[0]['secret']}")


KIND = TargetKind(name="cobi", url_help="Cobi API base URL (interactions go to URL/user-interactions, reference "
                                        "records to URL/v1/data/<type>).",
                  credential=Credential("--upstream-token", "The Cobi bearer token to send with."), build=build,
                  wants=wants, lane=lane)

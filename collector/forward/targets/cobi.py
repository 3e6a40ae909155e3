"""Cobi: each interaction posted alone to URL/user-interactions, documented fields only."""

from __future__ import annotations

from .kind import Credential
from .kind import Delivery
from .kind import TargetKind
from .kind import one_event

#: Cobi's documented interaction fields; our extensions (event_id, anonymous_id, context, sent_at) stay home.
COBI_FIELDS = ("interaction_type", "user_id", "student_id", "item_type", "item_id", "city", "country", "platform",
               "event_timestamp", "source", "recommendation_id")


def wants(event: dict) -> bool:
    """Cobi interactions only."""
    return event["source"] == "cobi"


def body(event: dict) -> dict:
    """The Cobi interaction, documented fields only; the anonymous id stands in as the pseudo user id."""
    data = event["data"]
    interaction = {k: data[k] for k in COBI_FIELDS if data.get(k) is not None}
    if "user_id" not in interaction and data.get("anonymous_id"):
        interaction["user_id"] = data["anonymous_id"]
    return interaction


def build(rows: list[dict]) -> Delivery:
    """One interaction, with the target's bearer token."""
    return one_event(rows, "/user-interactions", body, f"Bearer {rows[0]['secret']}")


KIND = TargetKind(name="cobi", url_help="Cobi API base URL (interactions go to URL/user-interactions).",
                  credential=Credential("--upstream-token", "The Cobi bearer token to send with."), build=build,
                  wants=wants)

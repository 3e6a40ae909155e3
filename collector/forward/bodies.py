"""What each upstream receives, built from an outbox row's event."""

from __future__ import annotations

import base64

#: Cobi's documented interaction fields; our extensions (event_id, anonymous_id, context, sent_at) stay home.
COBI_FIELDS = ("interaction_type", "user_id", "student_id", "item_type", "item_id", "city", "country", "platform",
               "event_timestamp", "source", "recommendation_id")


def wants(kind: str, event: dict) -> bool:
    """Tell whether a target of this kind takes this event."""
    if kind == "datacue":
        # pageview/page is this collector's extension: DataCue would refuse it.
        return event["source"] == "datacue" and not (event["type"] == "pageview" and event["subtype"] == "page")
    if kind == "cobi":
        return event["source"] == "cobi"
    return True


def _cart_line(line: dict, started: bool) -> dict:
    """Spell a line as the DataCue docs do: variant/price for started orders, variant_id/unit_price otherwise."""
    names = {"variant_id": "variant", "unit_price": "price"} if started else {}
    return {names.get(k, k): v for k, v in line.items() if v is not None}


def datacue(event: dict) -> dict:
    """The DataCue browser-event envelope: user, event, context (ip, user_agent) and timestamp."""
    data = event["data"]
    body_event = dict(data["event"])
    if "cart" in body_event:
        started = body_event["type"] == "order" and body_event.get("subtype") == "started"
        body_event["cart"] = [_cart_line(line, started) for line in body_event["cart"]]
    user = {k: v for k, v in data["user"].items() if v is not None}
    context = {k: v for k, v in (("ip", event.get("ip")), ("user_agent", event.get("user_agent"))) if v}
    body = {"user": user, "event": body_event, "timestamp": event["event_time"]}
    if context:
        body["context"] = context
    return body


def cobi(event: dict) -> dict:
    """The Cobi interaction, documented fields only; the anonymous id stands in as the pseudo user id."""
    data = event["data"]
    body = {k: data[k] for k in COBI_FIELDS if data.get(k) is not None}
    if "user_id" not in body and data.get("anonymous_id"):
        body["user_id"] = data["anonymous_id"]
    return body


def webhook_item(event: dict) -> dict:
    """One event in a webhook delivery, with the ids a receiver dedupes on."""
    return {"event_id": event["event_id"], "key_mode": event.get("mode"), "source": event["source"],
            "type": event["type"], "subtype": event["subtype"], "received_at": event["received_at"],
            "event_time": event["event_time"], "payload": event["data"]}


def basic_auth(key: str) -> str:
    """DataCue's browser-event auth: the key alone, empty password."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()

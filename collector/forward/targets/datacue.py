"""DataCue: each browser event posted alone to URL/v1/events, as the DataCue docs define it."""

from __future__ import annotations

import base64

from .kind import Credential
from .kind import Delivery
from .kind import TargetKind
from .kind import one_event


def wants(event: dict) -> bool:
    """DataCue's own events, and Segment's that map onto one DataCue takes (ecommerce.py); pageview/page and
    the widgets' impressions are this collector's extensions, which DataCue would refuse."""
    if (event["type"] == "pageview" and event["subtype"] == "page") or event["type"] == "impression":
        return False
    return event["source"] == "datacue" or (event["source"] == "segment" and bool(event.get("to_datacue")))


def _cart_line(line: dict, started: bool) -> dict:
    """Spell a line as the DataCue docs do: variant/price for started orders, variant_id/unit_price otherwise."""
    names = {"variant_id": "variant", "unit_price": "price"} if started else {}
    return {names.get(k, k): v for k, v in line.items() if v is not None}


def body(event: dict) -> dict:
    """The DataCue browser-event envelope: user, event, context (ip, user_agent) and timestamp."""
    data = event["data"].get("datacue") or event["data"]  # a Segment message carries its DataCue event
    body_event = dict(data["event"])
    if body_event["type"] == "click":
        body_event.pop("list", None)  # the widgets' extension
    if "cart" in body_event:
        started = body_event["type"] == "order" and body_event.get("subtype") == "started"
        body_event["cart"] = [_cart_line(line, started) for line in body_event["cart"]]
    user = {k: v for k, v in data["user"].items() if v is not None}
    context = {k: v for k, v in (("ip", event.get("ip")), ("user_agent", event.get("user_agent"))) if v}
    envelope = {"user": user, "event": body_event, "timestamp": event["event_time"]}
    if context:
        envelope["context"] = context
    return envelope


def basic_auth(key: str) -> str:
    """DataCue's browser-event auth: the key alone, empty password."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def build(rows: list[dict]) -> Delivery:
    """One event, with the target's DataCue key."""
    return one_event(rows, "/v1/events", body, basic_auth(rows[0]["secret"]))


KIND = TargetKind(name="datacue", url_help="DataCue API base URL (events go to URL/v1/events).",
                  credential=Credential("--upstream-key", "The DataCue API key to send with."), build=build,
                  wants=wants)

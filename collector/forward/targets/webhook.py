"""Webhooks: signed batches of events, DataCue and Cobi alike, the Standard Webhooks way."""

from __future__ import annotations

import hashlib
import json
import time

from ...clock import now_iso
from ..signing import new_secret
from ..signing import sign
from .kind import Credential
from .kind import Delivery
from .kind import TargetKind

#: Most events in one webhook delivery.
BATCH = 100


def item(event: dict) -> dict:
    """One event in a webhook delivery, with the ids a receiver dedupes on."""
    return {"event_id": event["event_id"], "key_mode": event.get("mode"), "source": event["source"],
            "type": event["type"], "subtype": event["subtype"], "event_name": event.get("event_name"),
            "received_at": event["received_at"],
            "event_time": event["event_time"], "payload": event["data"]}


def build(rows: list[dict]) -> Delivery:
    """One Standard Webhooks message; its id is the same whenever the same events are sent again."""
    items = [item(json.loads(row["payload"])) for row in rows]
    body = json.dumps({"type": "events", "timestamp": now_iso(), "data": {"events": items}}).encode()
    ids = ",".join(sorted(entry["event_id"] for entry in items))
    message_id = "msg_" + hashlib.sha256(ids.encode()).hexdigest()[:32]
    timestamp = int(time.time())
    return Delivery(url=rows[0]["url"], body=body, headers={
        "Content-Type": "application/json", "webhook-id": message_id, "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(rows[0]["secret"], message_id, timestamp, body)})


KIND = TargetKind(name="webhook", url_help="A URL that takes signed batches of events.",
                  credential=Credential("--secret", "Webhook signing secret (whsec_...); one is made and printed "
                                        "when omitted.", generate=new_secret,
                                        announce="webhook signing secret (give it to the receiver)"),
                  build=build, batch=BATCH)

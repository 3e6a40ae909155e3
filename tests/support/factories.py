"""Valid bodies and the headers that carry a key, for any test to build on."""

from __future__ import annotations

import base64
import uuid

from collector.recommendations.answers import answers


def basic(key: str) -> dict:
    """Authorization header the DataCue way: base64('KEY:')."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def bearer(key: str) -> dict:
    """Authorization header the Cobi way."""
    return {"Authorization": f"Bearer {key}"}


def make_event(type_="pageview", subtype="home", user=None, **fields) -> dict:
    """A valid DataCue envelope; event fields and envelope keys (prefixed env_) can be overridden."""
    envelope = {k[4:]: fields.pop(k) for k in list(fields) if k.startswith("env_")}
    event = {"type": type_}
    if subtype is not None:
        event["subtype"] = subtype
    event.update(fields)
    return {"user": user or {"anonymous_id": "anon-1"}, "event": event, **envelope}


def make_interaction(**overrides) -> dict:
    """A valid Cobi interaction with every required field."""
    record = {"interaction_type": "PAGE_VIEW", "item_type": "SHOP",
              "item_id": "550e8400-e29b-41d4-a716-446655440000", "event_timestamp": "2026-11-20T10:00:00Z"}
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not ...}


def new_id() -> str:
    """A fresh event id."""
    return str(uuid.uuid4())


def stored_status(body) -> int:
    """What a stored DataCue event is answered: 200 with recommendations for a single event that loads a
    page (home and product page views, searches, cart views), else 204."""
    event = body.get("event") if isinstance(body, dict) else None
    return 200 if isinstance(event, dict) and answers(event.get("type"), event.get("subtype")) else 204


def post_event(client, key: str, body: dict | list, status: int | None | str = "stored", **request):
    """Post one DataCue event, or a batch, to /v1/events with the key's Basic header (and the other
    arguments of `request`: headers, environ_base); assert the answer's status (by default, the one a
    stored event gets) unless `status` is None; return the answer."""
    headers = {**basic(key), **request.pop("headers", {})}
    response = client.post("/v1/events", json=body, headers=headers, **request)
    if status == "stored":
        status = stored_status(body)
    if status is not None:
        assert response.status_code == status, response.get_data(as_text=True)
    return response

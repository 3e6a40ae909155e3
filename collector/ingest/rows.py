"""Turn a validated DataCue event or Cobi interaction into an `events` row with its lines."""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ..clock import event_time
from ..clock import iso
from ..schemas.datacue import EVENT_TYPES
from ..storage.columns import LINE_COLUMNS
from . import traffic
from .agents import describe
from .ecommerce import HomeRule
from .ecommerce import datacue_event

#: Event fields that have a column of the same name.
_DATACUE_COLUMNS = ("product_id", "variant_id", "category_id", "category_name", "banner_id", "order_id", "term",
                    "payment_method")


#: Cobi platforms that are apps, not browsers: their user agent is their HTTP stack's (see agents.describe).
APP_PLATFORMS = frozenset({"ANDROID", "IOS"})


@dataclass(frozen=True)
class RequestMeta:
    """What the request tells about every event in it."""

    key: str
    mode: str
    received_at: datetime
    sent_at: datetime | None
    ip: str | None
    user_agent: str | None
    language: str | None = None


@functools.lru_cache(maxsize=4096)  # the same visitors send again and again; parsing costs more than the rest
def stored_ip(raw: str | None, policy: str, v4_prefix: int, v6_prefix: int) -> str | None:
    """Return the IP as it may be stored: truncated to its network, full, or not at all."""
    if policy == "none" or not raw:
        return None
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    if policy == "full":
        return str(address)
    prefix = v4_prefix if address.version == 4 else v6_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def _jsonable(value):
    """Serialise datetimes the way the store writes times."""
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def dump_payload(data: dict) -> str:
    """Return the validated event as compact JSON text."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def _order_total(lines: list[dict]) -> tuple[float | None, str | None]:
    """Sum quantity x unit price when every line has a price and one currency is used."""
    currencies = {line.get("currency") for line in lines} - {None}
    if len(currencies) > 1 or any(line.get("unit_price") is None for line in lines):
        return None, currencies.pop() if len(currencies) == 1 else None
    total = sum(Decimal(str(line["unit_price"])) * (line.get("quantity") or 1) for line in lines)
    return float(total), currencies.pop() if currencies else None


def _lines(cart: list[dict] | None) -> list[dict]:
    """A cart's lines as `event_lines` rows, numbered."""
    return [{**dict.fromkeys(LINE_COLUMNS), **line, "line_no": n} for n, line in enumerate(cart or ())]


def _complete_context(context: dict, meta: RequestMeta) -> None:
    """Add what the tracker leaves to the collector: UTM parameters from page_url, language from the headers."""
    if "utm" not in context:
        utm = traffic.utm_tags(context.get("page_url"))
        if utm:
            context["utm"] = utm
    if meta.language and "language" not in context:
        context["language"] = meta.language


def _base_row(data: dict, meta: RequestMeta, client_ts: datetime | None, privacy: tuple) -> dict:
    """Fill the columns both APIs share: ids, times, network details."""
    context = data.get("context") or {}
    if context:
        _complete_context(context, meta)
    sent_at = data.get("sent_at") or meta.sent_at
    ip = stored_ip(context.get("ip") or meta.ip, *privacy)
    if context.get("ip"):
        context["ip"] = ip  # the payload must not keep more of the address than the column
    if not data.get("event_id"):
        data["event_id"] = str(uuid.uuid4())
    user_agent = context.get("user_agent") or meta.user_agent
    agent = describe(user_agent, app=data.get("platform") in APP_PLATFORMS)
    referrer = context.get("referrer") or None
    page = traffic.read(context.get("page_url"), referrer)
    return {
        "event_id": data["event_id"], "key": meta.key, "mode": meta.mode,
        "session_id": context.get("session_id"), "page_load": None,
        "page_url": context.get("page_url"), "referrer": referrer,
        "page_path": page.page_path, "referrer_domain": page.referrer_domain,
        "utm_source": page.utm_source, "utm_medium": page.utm_medium, "utm_campaign": page.utm_campaign,
        "ip": ip, "user_agent": user_agent,
        "browser": agent.browser, "browser_version": agent.browser_version, "os": agent.os,
        "os_version": agent.os_version, "device": agent.device,
        # Referrer spam is a bot's work (it fakes visits to advertise the referrer), kept and left out alike.
        "bot": agent.bot or page.spam,
        "client_ts": iso(client_ts) if client_ts else None,
        "sent_at": iso(sent_at) if sent_at else None,
        "received_at": iso(meta.received_at),
        "event_time": iso(event_time(meta.received_at, sent_at, client_ts)),
    }


def datacue_row(data: dict, meta: RequestMeta, privacy: tuple) -> dict:
    """Map a validated DataCue envelope to columns; cart lines go to `lines`."""
    row = dict.fromkeys(("item_type", "item_id", "interaction_type", "student_id", "platform", "city",
                         "country", "revenue", "currency", "item_known", "student_known", "event_name"))
    row.update(_base_row(data, meta, data.get("timestamp"), privacy))
    event, user = data["event"], data["user"]
    # Only fields the event's type declares fill columns; undeclared extras stay in the payload alone.
    declared = EVENT_TYPES[event["type"]][event.get("subtype")].fields
    columns = {name: event.get(name) if name in declared else None for name in _DATACUE_COLUMNS}
    cart = event.get("cart") if "cart" in declared else None
    lines = _lines(cart)
    if event["type"] == "order" and lines:
        row["revenue"], row["currency"] = _order_total(lines)
    row.update({
        "source": "datacue", "type": event["type"], "subtype": event.get("subtype"),
        # The tracker marks the event a page sends as it loads: that page's view (analytics/visits.py).
        "page_load": 1 if (data.get("context") or {}).get("page_load") else None,
        "user_id": user.get("user_id"), "anonymous_id": user.get("anonymous_id"),
        **columns,
        "payload": dump_payload(data), "lines": lines,
    })
    return row


def cobi_row(data: dict, meta: RequestMeta, privacy: tuple) -> dict:
    """Map a validated Cobi interaction to columns."""
    row = dict.fromkeys(("subtype", "product_id", "variant_id", "category_id", "category_name", "banner_id",
                         "order_id", "term", "payment_method", "revenue", "currency", "item_known", "student_known",
                         "event_name"))
    row.update(_base_row(data, meta, data["event_timestamp"], privacy))
    row.update({
        "source": "cobi", "type": "interaction",
        "user_id": data.get("user_id"), "anonymous_id": data.get("anonymous_id"),
        "item_type": data["item_type"], "item_id": data["item_id"],
        "interaction_type": data["interaction_type"], "student_id": data.get("student_id"),
        "platform": data.get("platform"), "city": data.get("city"), "country": data.get("country"),
        "payload": dump_payload(data), "lines": [],
    })
    return row


#: Segment libraries that run in a browser: the request's own address and user agent are the visitor's.
BROWSER_LIBRARIES = frozenset({"analytics.js", "RudderLabs JavaScript SDK"})
#: Empty referrers as RudderStack's browser SDK spells them.
_NO_REFERRER = ("", "$direct")


def _from_browser(message: dict, context: dict) -> bool:
    """Whether the request came from the visitor's device (a browser SDK, or `context.direct` as Segment's
    HTTP API documents), so that its address and user agent are the visitor's, not a shop server's."""
    library = (context.get("library") or {}).get("name")
    return bool(context.get("direct") or library in BROWSER_LIBRARIES
                or message.get("channel") in ("browser", "web"))


def _from_app(message: dict, context: dict) -> bool:
    """Whether a mobile SDK sent the message (its user agent is an HTTP stack's, not a bot's)."""
    device, system = context.get("device") or {}, context.get("os") or {}
    return (message.get("channel") == "mobile" or str(device.get("type", "")).lower() in ("ios", "android")
            or str(system.get("name", "")).lower() in ("ios", "android"))


def _segment_page(message: dict, context: dict) -> tuple[str | None, str | None]:
    """The page address and referrer: `context.page`, else a page call's own properties."""
    page = context.get("page") or {}
    props = message.get("properties") or {}
    url = page.get("url") or (props.get("url") if isinstance(props.get("url"), str) else None)
    referrer = page.get("referrer") or (props.get("referrer") if isinstance(props.get("referrer"), str) else None)
    return url, (None if referrer in _NO_REFERRER else referrer)


def _segment_name(message: dict) -> str | None:
    """A track's event name, a page's or screen's name."""
    if message["type"] == "track":
        return message["event"].strip()
    name = message.get("name") or (message.get("properties") or {}).get("name")
    return name if isinstance(name, str) and name else None


def _segment_revenue(row: dict, lines: list[dict], props: dict) -> None:
    """An order's revenue: its lines' sum as for DataCue orders, else the order's `revenue` or `total`."""
    row["revenue"], row["currency"] = _order_total(lines) if lines else (None, None)
    if row["revenue"] is None:
        amount = next((props[k] for k in ("revenue", "total") if isinstance(props.get(k), (int, float))
                       and not isinstance(props.get(k), bool)), None)
        row["revenue"] = float(amount) if amount is not None and abs(amount) <= 1e12 else None
    if row["currency"] is None and isinstance(props.get("currency"), str) and len(props["currency"]) == 3:
        row["currency"] = props["currency"].upper()


#: The home page rule of the settings' defaults.
DEFAULT_HOME = HomeRule()


def segment_row(data: dict, meta: RequestMeta, privacy: tuple, home: HomeRule = DEFAULT_HOME) -> dict:
    """Map a validated Segment message to columns: its own type and name, or the DataCue event it counts
    as (docs/decisions.md), with the corrected time; the message, so mapped, is the payload."""
    context = data.get("context") or {}
    browser = _from_browser(data, context)
    if not browser:  # a shop's server: its address and HTTP library are not the visitor's
        meta = dataclasses.replace(meta, ip=None, user_agent=None, language=None)
    url, referrer = _segment_page(data, context)
    data["messageId"] = data.get("messageId") or str(uuid.uuid4())
    shaped = {"event_id": data["messageId"], "sent_at": data.get("sentAt"),
              "platform": "IOS" if _from_app(data, context) else None,
              "context": {"ip": context.get("ip"), "user_agent": context.get("userAgent"), "page_url": url,
                          "referrer": referrer, "session_id": context.get("sessionId")}}
    row = dict.fromkeys(("subtype", *_DATACUE_COLUMNS, "item_type", "item_id", "interaction_type", "student_id",
                         "platform", "city", "country", "revenue", "currency", "item_known", "student_known"))
    row.update(_base_row(shaped, meta, data.get("originalTimestamp") or data.get("timestamp"), privacy))
    if context.get("ip"):
        context["ip"] = row["ip"]  # the payload keeps no more of the address than the column
    campaign = context.get("campaign") or {}
    for column, field in (("utm_source", "source"), ("utm_medium", "medium"), ("utm_campaign", "name")):
        if row[column] is None and isinstance(campaign.get(field), str) and campaign[field]:
            row[column] = campaign[field][:512]
    mapped = datacue_event(data, home)
    row["to_datacue"] = bool(mapped and mapped.forwardable)  # read by the DataCue target's filter, not stored
    lines = []
    if mapped is None:
        row.update(type=data["type"], subtype=None)
    else:
        event = mapped.event
        row.update(type=event["type"], subtype=event.get("subtype"),
                   **{name: event.get(name) for name in _DATACUE_COLUMNS})
        lines = _lines(event.get("cart"))
        if event["type"] == "order":
            _segment_revenue(row, lines, data.get("properties") or {})
        if mapped.forwardable:
            user = {"user_id": data.get("userId"), "anonymous_id": data.get("anonymousId")}
            data["datacue"] = {"user": {k: v for k, v in user.items() if v}, "event": event}
    if data["type"] == "identify" and context.get("traits"):
        # RudderStack's SDKs send identify traits in context.traits, Segment's at the top: one place for both.
        data["traits"] = {**context["traits"], **(data.get("traits") or {})}
    data.pop("writeKey", None)
    row.update({
        "source": "segment", "event_name": _segment_name(data),
        "user_id": data.get("userId"), "anonymous_id": data.get("anonymousId"),
        "payload": dump_payload(data), "lines": lines,
    })
    return row

"""Segment's e-commerce events (spec v2) as the DataCue events the shop reports count.

Each mapped Segment message keeps its own name and properties; the mapping only decides its `type`,
`subtype` and the columns the reports read (product, category, banner, order, search term, cart lines).
The choices, and the events left unmapped, are in docs/decisions.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import ValidationError

from ..schemas.common import TEXT_MAX
from ..schemas.compiled import compiled
from ..schemas.datacue import EVENT_TYPES


@dataclass(frozen=True)
class Mapped:
    """What a Segment message is in DataCue's terms: the DataCue `event` object (its type, subtype and
    fields, cart lines included) and whether DataCue itself would take it (else it is not forwarded there)."""

    event: dict
    forwardable: bool


@dataclass(frozen=True)
class HomeRule:
    """Which Segment page calls are the home page: by page name (any case) or by path."""

    names: frozenset[str] = frozenset({"home", "homepage"})
    paths: frozenset[str] = frozenset({"/"})

    @classmethod
    def of(cls, names: str, paths: str) -> HomeRule:
        """The rule the settings SEGMENT_HOME_NAMES and SEGMENT_HOME_PATHS (comma-separated) describe."""
        return cls(frozenset(n.strip().lower() for n in names.split(",") if n.strip()),
                   frozenset(p.strip() for p in paths.split(",") if p.strip()))

    def matches(self, name: str | None, path: str | None) -> bool:
        """Whether a page of this name or path is the home page."""
        return bool((name and name.strip().lower() in self.names) or (path and path in self.paths))


def _product_id(props: dict):
    """The product's id: `product_id`, else its `sku` (the spec allows them to be the same)."""
    return props.get("product_id") or props.get("sku")


def _line(product: dict, currency) -> dict | None:
    """One product of `products[]` as a DataCue cart line (None without an id)."""
    if not isinstance(product, dict) or not _product_id(product):
        return None
    line = {"product_id": _product_id(product), "variant_id": product.get("variant"),
            "quantity": product.get("quantity"), "unit_price": product.get("price"), "currency": currency}
    return {k: v for k, v in line.items() if v is not None}


def _cart(props: dict) -> list[dict]:
    """`products[]` as DataCue cart lines, each priced in the event's currency."""
    products = props.get("products")
    lines = [_line(p, props.get("currency")) for p in products] if isinstance(products, list) else []
    return [line for line in lines if line is not None]


def _term(query) -> str | None:
    """A search's text: `query` as sent, or an object's `query`/`term`, else the object as JSON."""
    if isinstance(query, dict):
        inner = query.get("query") or query.get("term")
        query = inner if isinstance(inner, str) else json.dumps(query, sort_keys=True)
    if query is None or isinstance(query, (dict, list)):
        return None
    return str(query)[:TEXT_MAX] or None


def _order_id(props: dict):
    """The order's id; a checkout's id when the order has none yet."""
    return props.get("order_id") or props.get("checkout_id")


#: A track event's name (lower case) -> how to make its DataCue event from the properties.
TRACKS: dict[str, Callable[[dict], dict]] = {
    "product viewed": lambda p: {"type": "pageview", "subtype": "product", "product_id": _product_id(p),
                                 "variant_id": p.get("variant")},
    "product list viewed": lambda p: {"type": "pageview", "subtype": "category",
                                      "category_name": p.get("category") or p.get("list_id")},
    "product clicked": lambda p: {"type": "click", "subtype": "product", "product_id": _product_id(p)},
    "promotion clicked": lambda p: {"type": "click", "subtype": "banner",
                                    "banner_id": p.get("promotion_id") or p.get("creative")},
    "products searched": lambda p: {"type": "search", "term": _term(p.get("query"))},
    "cart viewed": lambda p: {"type": "viewcart", "cart": _cart(p)},
    "product added to wishlist": lambda p: {"type": "wishlist", "subtype": "add", "product_id": _product_id(p),
                                            "variant_id": p.get("variant")},
    "product removed from wishlist": lambda p: {"type": "wishlist", "subtype": "remove",
                                                "product_id": _product_id(p), "variant_id": p.get("variant")},
    "checkout started": lambda p: {"type": "order", "subtype": "started", "order_id": _order_id(p),
                                   "cart": _cart(p)},
    "order completed": lambda p: {"type": "order", "subtype": "completed", "order_id": _order_id(p),
                                  "cart": _cart(p), "payment_method": p.get("payment_method")},
    "order cancelled": lambda p: {"type": "order", "subtype": "cancelled", "order_id": _order_id(p)},
    "signed in": lambda p: {"type": "login"},
    "user signed in": lambda p: {"type": "login"},
}
#: Ecommerce v1 names the v2 spec lists as aliases.
TRACKS["viewed product category"] = TRACKS["product list viewed"]
TRACKS["clicked product"] = TRACKS["product clicked"]

#: Orders are kept as orders even when DataCue's schema would refuse them (no products listed): their
#: revenue still counts, from the order's `revenue` or `total`.
_ORDERS_WITHOUT_LINES = ("completed", "cancelled", "started")


#: DataCue's schema of each type and subtype, compiled as the intake's DataCue events load them (the
#: differential test reaches the same classes through the DataCue event's `event` field).
_TYPE_SCHEMAS = {kind: {subtype: compiled(type(schema)) for subtype, schema in subtypes.items()}
                 for kind, subtypes in EVENT_TYPES.items()}


def _validated(event: dict) -> dict | None:
    """The event as DataCue's schema of its type takes it (ids as strings, lines normalised), or None."""
    try:
        return _TYPE_SCHEMAS[event["type"]][event.get("subtype")].load(event)
    except ValidationError:
        return None


def datacue_event(message: dict, home: HomeRule) -> Mapped | None:
    """The DataCue event a validated Segment message counts as, or None for one with no DataCue meaning
    (identify, group, alias, screen, and tracks outside the table)."""
    props = message.get("properties") or {}
    if message["type"] == "page":
        page = (message.get("context") or {}).get("page") or {}
        path = props.get("path") if isinstance(props.get("path"), str) else page.get("path")
        name = message.get("name") or (props.get("name") if isinstance(props.get("name"), str) else None)
        return Mapped({"type": "pageview", "subtype": "home" if home.matches(name, path) else "page"}, True)
    if message["type"] != "track":
        return None
    make = TRACKS.get(message["event"].strip().lower())
    if make is None:
        return None
    event = {k: v for k, v in make(props).items() if v is not None}
    valid = _validated(event)
    if valid is not None:
        return Mapped(valid, True)
    if event["type"] == "order" and event.get("subtype") in _ORDERS_WITHOUT_LINES and event.get("order_id"):
        return Mapped({**event, "order_id": str(event["order_id"]), "cart": _validated_lines(event)}, False)
    return None


def _validated_lines(event: dict) -> list[dict]:
    """The cart lines of an order DataCue would refuse as a whole, each line checked on its own."""
    lines = []
    for line in event.get("cart") or ():
        checked = _validated({"type": "viewcart", "cart": [line]})
        if checked is not None:
            lines.extend(checked["cart"])
    return lines

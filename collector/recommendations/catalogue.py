"""The catalogue as answers show it: one row per product, its best variant to offer, and whether it may be
offered at all (some variant available and not out of stock, and not deleted).

DataCue's backend records (one per variant) win; a shop that sends no catalogue is described by what its
product pages report in datacueConfig's `product_update` (one entry per variant, no link: the page's own
address is the product's link).
"""

from __future__ import annotations

import json

#: rec_products' columns, in order.
PRODUCT_COLUMNS = ("key", "mode", "product_id", "variant_id", "name", "brand", "price", "photo_url", "link",
                   "category_1", "category_2", "category_3", "category_4", "extra", "offered", "source")
#: Category levels.
LEVELS = ("category_1", "category_2", "category_3", "category_4")


def _offerable(variant: dict) -> bool:
    """Whether a variant may be recommended: not marked unavailable, and not out of stock (no stock given:
    the shop does not track it)."""
    stock = variant.get("stock")
    return variant.get("available") is not False and not (isinstance(stock, (int, float)) and stock <= 0)


def _text(value) -> str | None:
    """A field shown as text: strings and numbers as text, anything else (objects, lists) left out."""
    if isinstance(value, bool) or value is None:
        return None
    return str(value) if isinstance(value, (str, int, float)) else None


def _price(value) -> float | None:
    """A price as a number, or None."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _row(key: str, mode: str, product_id: str, variants: list[dict], source: str, link: str | None = None) -> dict:
    """The product's row: the first variant that may be offered (else the first), and whether any may."""
    offered = [v for v in variants if _offerable(v)]
    best = (offered or variants)[0]
    extra = best.get("extra")
    return {"key": key, "mode": mode, "product_id": product_id, "variant_id": _text(best.get("variant_id")),
            "name": _text(best.get("name")), "brand": _text(best.get("brand")), "price": _price(best.get("price")),
            "photo_url": _text(best.get("photo_url")), "link": _text(best.get("link")) or link,
            **{level: _text(best.get(level)) for level in LEVELS},
            "extra": json.dumps(extra, ensure_ascii=False) if isinstance(extra, dict) and extra else None,
            "offered": 1 if offered else 0, "source": source}


def backend_product(key: str, mode: str, product_id: str, variants: list[dict]) -> dict:
    """A product from its variants' current backend records (none left: deleted, never offered)."""
    if not variants:
        return {**dict.fromkeys(PRODUCT_COLUMNS), "key": key, "mode": mode, "product_id": product_id,
                "offered": 0, "source": "backend"}
    return _row(key, mode, product_id, variants, "backend")


def reported_product(key: str, mode: str, product_id: str, event: dict, page_url: str | None) -> dict | None:
    """A product as its page reported it in `product_update`, or None when the page reported none."""
    update = event.get("event", {}).get("product_update") if isinstance(event.get("event"), dict) else None
    variants = [v for v in update if isinstance(v, dict)] if isinstance(update, list) else []
    if not variants:
        return None
    shaped = []
    for variant in variants:
        categories = variant.get("category_ids")
        categories = [c for c in categories if isinstance(c, (str, int))] if isinstance(categories, list) else []
        shaped.append({**variant, **dict(zip(LEVELS, categories[:len(LEVELS)], strict=False))})
    return _row(key, mode, product_id, shaped, "browser", link=page_url)


def answer_product(row: dict) -> dict:
    """A product object as DataCue's answers carry it: ids, name, price, photo, link, categories, extra."""
    found = {"product_id": row["product_id"], "variant_id": row["variant_id"], "name": row["name"],
             "price": row["price"], "photo_url": row["photo_url"], "link": row["link"]}
    for level in LEVELS:
        if row[level] is not None:
            found[level] = row[level]
    found["extra"] = json.loads(row["extra"]) if row["extra"] else {}
    return found

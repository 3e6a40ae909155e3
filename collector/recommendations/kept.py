"""What a process keeps between answers: each site's catalogue as answers show it, brought up to date at
every answer with only the rows the worker changed since (so never staler than the store), and the short
lists every page reads (best sellers, trending products, banners), kept a few seconds.

A product is kept as the JSON text of its object in an answer, not as a dict: an answer is then joined
from text (no encoding per request), and tens of thousands of kept products are a few strings each, which
the garbage collector never walks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from dataclasses import field
from typing import NamedTuple

from .catalogue import LEVELS
from .catalogue import PRODUCT_COLUMNS
from .catalogue import answer_product

#: How long a process keeps a site's best sellers, trending products and banners, in seconds.
KEEP_SECONDS = 5.0
#: Catalogue rows a process keeps per site before it starts afresh (a product object is some 1 KB).
SHELF_ROWS = 50_000
#: The catalogue's rows as answers read them.
PRODUCTS = f"SELECT {', '.join(PRODUCT_COLUMNS)} FROM rec_products"

_lists: dict[tuple, tuple[float, object]] = {}
_shelves: dict[tuple, Shelf] = {}


class Shown(NamedTuple):
    """A product as answers show it: may it be offered, its categories (category_1..4, None where it has
    none), and its object in an answer as JSON text."""

    offered: bool
    levels: tuple
    text: str


@dataclass
class Shelf:
    """One site's catalogue as this process knows it: each product read so far, or None where the
    catalogue has no row; and the last change it has seen."""

    changed: int = -1
    rows: dict[str, Shown | None] = field(default_factory=dict)

    def catch_up(self, read, key: str, mode: str) -> None:
        """Take the rows the worker changed since this shelf last looked (one indexed read when none)."""
        latest = read("SELECT max(changed) AS changed FROM rec_products WHERE key = ? AND mode = ?",
                      (key, mode))[0]["changed"] or 0
        if latest == self.changed:
            return
        if latest < self.changed or len(self.rows) > SHELF_ROWS:  # another store at this path, or too many
            self.rows.clear()
        else:
            for row in read(f"{PRODUCTS} WHERE key = ? AND mode = ? AND changed > ?", (key, mode, self.changed)):
                if row["product_id"] in self.rows:
                    self.rows[row["product_id"]] = _shelved(row)
        self.changed = latest

    def fetch(self, read, key: str, mode: str, ids: list[str]) -> dict[str, Shown]:
        """These products' entries, reading the ones not yet on the shelf."""
        missing = [i for i in dict.fromkeys(ids) if i not in self.rows]
        if missing:
            found = catalogue_rows(read, key, mode, missing)
            self.rows.update({i: _shelved(found[i]) if i in found else None for i in missing})
        return {i: self.rows[i] for i in ids if self.rows.get(i) is not None}


def catalogue_rows(read, key: str, mode: str, ids: list[str]) -> dict[str, dict]:
    """The catalogue rows of these products, by id (a product never described has none), read 500 at a
    time."""
    found = {}
    for part in range(0, len(ids), 500):
        chunk = ids[part:part + 500]
        for row in read(f"{PRODUCTS} WHERE key = ? AND mode = ? AND product_id IN ({', '.join('?' for _ in chunk)})",
                        (key, mode, *chunk)):
            found[row["product_id"]] = row
    return found


def _shelved(row: dict) -> Shown:
    """A catalogue row as a shelf keeps it."""
    return Shown(bool(row["offered"]), tuple(row[level] for level in LEVELS),
                 json.dumps(answer_product(row), ensure_ascii=False, separators=(",", ":")))


def shelf(store: int, key: str, mode: str) -> Shelf:
    """This process's shelf of one store's site and mode."""
    found = _shelves.get((store, key, mode))
    if found is None:
        if len(_shelves) > 1000:
            _shelves.clear()
        found = _shelves[(store, key, mode)] = Shelf()
    return found


def kept(key: tuple, load):
    """load() for this key, kept KEEP_SECONDS in this process (a few hundred sites' lists at most)."""
    found = _lists.get(key)
    now = time.monotonic()
    if found is None or found[0] < now:
        if len(_lists) > 1000:
            _lists.clear()
        found = _lists[key] = (now + KEEP_SECONDS, load())
    return found[1]

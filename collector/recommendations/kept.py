"""What a process keeps between answers: each site's catalogue as answers show it and the lists of the
products answers read, brought up to date at every answer with only the rows the worker changed since (so
never staler than the store), and the short lists every page reads (best sellers, trending products,
banners), kept a few seconds.

A product is kept as the JSON text of its object in an answer, not as a dict: an answer is then joined
from text (no encoding per request), and tens of thousands of kept products are a few strings each, which
the garbage collector never walks.
"""

from __future__ import annotations

import json
import time
import weakref
from dataclasses import dataclass
from dataclasses import field

from .catalogue import LEVELS
from .catalogue import PRODUCT_COLUMNS
from .catalogue import answer_product

#: How long a process keeps a site's best sellers, trending products and banners, in seconds.
KEEP_SECONDS = 5.0
#: Catalogue rows a process keeps per site (some 0.5 KB each): the whole catalogue of most shops.
SHELF_ROWS = 200_000
#: Catalogue rows a shelf reads in product order per answer until it holds the whole catalogue (one by
#: one as answers name them, a catalogue's long tail would be read for hours, a few rows per answer).
WARM_ROWS = 500
#: Products whose lists (rec_lists, some 1.5 KB each) a process keeps per site, as answers read them.
LISTS_ROWS = 20_000
#: The catalogue's rows as answers read them.
PRODUCTS = f"SELECT {', '.join(PRODUCT_COLUMNS)} FROM rec_products"
#: A product's lists as a shelf keeps them, (sold, bought, viewed, alike): was it ever bought, then each
#: list best first as rec_lists' JSON text (an answer decodes the few it uses: a product page its own
#: three, a home page its seeds' bought lists), in a plain tuple the garbage collector never walks.
SOLD, BOUGHT, VIEWED, ALIKE = range(4)
#: A product the worker has made no lists for.
NO_LISTS = (0, "[]", "[]", "[]")

_kept: dict[tuple, tuple[float, object]] = {}
#: A product not yet looked for on a shelf.
_UNREAD = object()
_shelves: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


#: A product as answers show it: may it be offered, its categories (category_1..4, None where it has none),
#: and its object in an answer as JSON text. A plain tuple of strings, which the garbage collector stops
#: tracking (a named tuple it would walk at every full collection, some 100,000 of them).
Shown = tuple[bool, tuple, str]


@dataclass
class Shelf:
    """One site's catalogue and lists as this process knows them: each product read so far (None where the
    catalogue has no row), how far the catalogue was read in order (None once all of it was), each
    product's lists read so far (rec_lists' texts), and the last change seen to each."""

    changed: int = -1
    rows: dict[str, Shown | None] = field(default_factory=dict)
    warmed: str | None = ""
    lists_changed: int = -1
    lists: dict[str, tuple] = field(default_factory=dict)

    def catch_up(self, read, key: str, mode: str) -> None:
        """Take the rows the worker changed since this shelf last looked (one indexed read when none), and
        read the next rows of the catalogue while it is not all here."""
        latest = read("SELECT (SELECT max(changed) FROM rec_products WHERE key = ? AND mode = ?) AS products, "
                      "(SELECT max(changed) FROM rec_lists WHERE key = ? AND mode = ?) AS lists",
                      (key, mode, key, mode))[0]
        products, lists = latest["products"] or 0, latest["lists"] or 0
        if products != self.changed:
            if products < self.changed or len(self.rows) > SHELF_ROWS:  # another store at this path, or too many
                self.rows.clear()
                self.warmed = ""
            else:
                for row in read(f"{PRODUCTS} WHERE key = ? AND mode = ? AND changed > ?", (key, mode, self.changed)):
                    if row["product_id"] in self.rows:
                        self.rows[row["product_id"]] = _shelved(row)
            self.changed = products
        if lists != self.lists_changed:
            if lists < self.lists_changed or len(self.lists) > LISTS_ROWS:
                self.lists.clear()
            else:
                for row in read("SELECT product_id FROM rec_lists WHERE key = ? AND mode = ? AND changed > ?",
                                (key, mode, self.lists_changed)):
                    self.lists.pop(row["product_id"], None)
            self.lists_changed = lists
        if self.warmed is not None:
            found = read(f"{PRODUCTS} WHERE key = ? AND mode = ? AND product_id > ? ORDER BY product_id LIMIT ?",
                         (key, mode, self.warmed, WARM_ROWS))
            self.rows.update((row["product_id"], _shelved(row)) for row in found)
            self.warmed = found[-1]["product_id"] if len(found) == WARM_ROWS and len(self.rows) < SHELF_ROWS else None

    def fetch(self, read, key: str, mode: str, ids: list[str]) -> list[Shown | None]:
        """These products' entries in the same order (None for a product the catalogue lacks), reading the
        ones not yet on the shelf. Each id is looked up once: in a catalogue of 100,000 products a lookup
        is a few cache misses, and a page makes dozens."""
        rows = self.rows
        found = [rows.get(i, _UNREAD) for i in ids]
        missing = [i for i, shown in zip(ids, found, strict=True) if shown is _UNREAD]
        if missing:
            missing = list(dict.fromkeys(missing))
            read_now = catalogue_rows(read, key, mode, missing)
            rows.update({i: _shelved(read_now[i]) if i in read_now else None for i in missing})
            found = [rows[i] for i in ids]
        return found

    def lists_of(self, read, key: str, mode: str, products: list[str]) -> dict[str, tuple]:
        """These products' lists (see SOLD), reading the ones not yet kept."""
        missing = [p for p in dict.fromkeys(products) if p not in self.lists]
        if missing:
            found = rows_by_product(read, "SELECT product_id, sold, bought, viewed, alike FROM rec_lists", key, mode,
                                    missing)
            self.lists.update({p: (found[p]["sold"], found[p]["bought"], found[p]["viewed"], found[p]["alike"])
                               if p in found else NO_LISTS for p in missing})
        return {p: self.lists[p] for p in products}


def catalogue_rows(read, key: str, mode: str, ids: list[str]) -> dict[str, dict]:
    """The catalogue rows of these products, by id (a product never described has none)."""
    return rows_by_product(read, PRODUCTS, key, mode, ids)


def rows_by_product(read, select: str, key: str, mode: str, ids: list[str]) -> dict[str, dict]:
    """The rows a SELECT of a recommendation table gives for these products of a site, by id, read 500 at
    a time (a cart of thousands of lines stays under the databases' limits on placeholders)."""
    found = {}
    for part in range(0, len(ids), 500):
        chunk = ids[part:part + 500]
        for row in read(f"{select} WHERE key = ? AND mode = ? AND product_id IN ({', '.join('?' for _ in chunk)})",
                        (key, mode, *chunk)):
            found[row["product_id"]] = row
    return found


def _shelved(row: dict) -> Shown:
    """A catalogue row as a shelf keeps it."""
    return (bool(row["offered"]), tuple(row[level] for level in LEVELS),
            json.dumps(answer_product(row), ensure_ascii=False, separators=(",", ":")))


def shelf(storage, key: str, mode: str) -> Shelf:
    """This process's shelf of one store's site and mode (forgotten with the store: a new store object at
    the same address must not inherit it)."""
    sites = _shelves.setdefault(storage, {})
    found = sites.get((key, mode))
    if found is None:
        if len(sites) > 1000:
            sites.clear()
        found = sites[(key, mode)] = Shelf()
    return found


def kept(key: tuple, load):
    """load() for this key, kept KEEP_SECONDS in this process (a few hundred sites' lists at most)."""
    found = _kept.get(key)
    now = time.monotonic()
    if found is None or found[0] < now:
        if len(_kept) > 1000:
            _kept.clear()
        found = _kept[key] = (now + KEEP_SECONDS, load())
    return found[1]

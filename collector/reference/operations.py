"""DataCue's backend operations on reference records: create or replace, update the fields named, delete.

Each operation turns what the client sent into whole records (an update is merged into the current
record, a deletion is the current record marked deleted, an order's deletion is its cancellation) and
hands them to the one record path (`reference.writes.store`): the same validation, history, chunked commits and
rejected table as Cobi's Data API. What cannot become a record (an update of a record that does not
exist) is refused here, kept in `rejected` too, and answered item by item.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote

from ..errors import ApiError
from ..errors import InvalidRecord
from ..errors import NotFound
from ..schemas.datacue_backend import ORDERS
from ..schemas.datacue_backend import PRODUCTS
from ..schemas.datacue_backend import USERS
from ..schemas.datacue_backend import variant_record_id
from .record_types import RecordType
from .writes import Result
from .writes import Sender
from .writes import Upload
from .writes import store

#: The fields an order update may carry: orders are created and cancelled, never edited (the docs).
_ORDER_UPDATE = ("order_id", "order_status")


@dataclass
class Outcome:
    """What became of one item of a request, as DataCue's answers list it."""

    index: int
    ids: dict
    ok: bool
    status: str = ""
    code: str = ""
    message: str = ""
    errors: dict | None = None

    def as_dict(self) -> dict:
        """DataCue's per-item status (`OK` or `error` with `error`), with our index and field errors."""
        found = {**self.ids, "index": self.index, "status": "OK" if self.ok else "error"}
        if self.ok:
            found["result"] = self.status
        else:
            found["error"] = self.message
            if self.errors:
                found["errors"] = self.errors
        return found


def item_ids(record_type: RecordType, item) -> dict:
    """The ids an item names, as sent (for the answer): product and variant, or the type's id."""
    if not isinstance(item, dict):
        return {}
    names = ("product_id", "variant_id") if record_type is PRODUCTS else (record_type.id_field,)
    return {name: item[name] for name in names if isinstance(item.get(name), (str, int))
            and not isinstance(item.get(name), bool)}


def _stored_id(record_type: RecordType, ids: dict) -> str | None:
    """The stored record id of an item's ids, or None when they are incomplete."""
    if record_type is PRODUCTS:
        if "product_id" in ids and "variant_id" in ids:
            return variant_record_id(str(ids["product_id"]), str(ids["variant_id"]))
        return None
    value = ids.get(record_type.id_field)
    return None if value is None else str(value)


def ids_of(record_type: RecordType, record_id: str) -> dict:
    """The ids a stored record id stands for: a variant's product and variant apart, else the type's id."""
    if record_type is PRODUCTS:
        return dict(zip(("product_id", "variant_id"), map(unquote, record_id.split("/")), strict=True))
    return {record_type.id_field: record_id}


class _Request:
    """One request's items on their way to the store: whole records, or why an item cannot be one."""

    def __init__(self, record_type: RecordType, sender: Sender):
        """Remember the type and who sends it where."""
        self.record_type, self.sender = record_type, sender
        self.key_row, self.storage = sender.key_row, sender.storage
        self.records: list[tuple[int, dict]] = []
        self.refused: dict[int, Outcome] = {}
        self.rejected: list[dict] = []
        #: Stored ids whose current version is a deletion (filled by current()).
        self.deleted: set[str] = set()
        #: Items answered without a new version (a record deleted before, deleted again).
        self.done: dict[int, Outcome] = {}

    def refuse(self, index: int, item, error: ApiError) -> None:
        """Refuse an item before it is a record: answered, and kept in `rejected` (written by finish)."""
        self.refused[index] = Outcome(index, item_ids(self.record_type, item), False, code=error.code,
                                      message=error.message, errors=error.errors)
        self.rejected.append(self.sender.refusals.row(self.key_row, self.record_type.family, error,
                                          json.dumps(item, ensure_ascii=False, default=str)))

    def current(self, items: list[tuple[int, object]]) -> dict[str, dict]:
        """The current records the items name, by stored id (a user named by email alone found by it)."""
        ids = set()
        for _, item in items:
            stored = _stored_id(self.record_type, item_ids(self.record_type, item))
            if stored is not None:
                ids.add(stored)
        rows = self.storage.current_records(self.key_row["key"], self.record_type.name, ids)
        self.deleted = {record_id for record_id, row in rows.items() if row["is_deleted"]}
        return {record_id: row["data"] for record_id, row in rows.items() if not row["is_deleted"]}

    def target(self, index: int, item, current: dict[str, dict]) -> dict | None:
        """The current record an update or deletion names, or None once the item is refused."""
        if not isinstance(item, dict):
            self.refuse(index, item, InvalidRecord("An item must be a JSON object."))
            return None
        ids = item_ids(self.record_type, item)
        stored = _stored_id(self.record_type, ids)
        if stored is None and self.record_type is USERS and isinstance(item.get("email"), str):
            # The docs' batch update names users by email alone: that email must name one user.
            found = self.storage.records_where(self.key_row["key"], "users", "email", item["email"])
            if len(found) == 1:
                return next(iter(found.values()))
            self.refuse(index, item, NotFound(f"No single user has the email {item['email']!r}: "
                                              f"{len(found)} do. Send user_id."))
            return None
        if stored is None:
            needed = "product_id and variant_id" if self.record_type is PRODUCTS else self.record_type.id_field
            self.refuse(index, item, InvalidRecord(f"An item must name the record by {needed}.",
                                                   errors={"_schema": [f"Missing {needed}."]}))
            return None
        if stored not in current:
            what = _singular(self.record_type)
            self.refuse(index, item, NotFound(f"{what} not found: {_label(ids)}."))
            return None
        return current[stored]

    def finish(self) -> list[Outcome]:
        """Store the whole records and answer every item, in the order sent."""
        outcomes = {**self.refused, **self.done}
        if self.rejected:  # one transaction for all, before any answer
            self.storage.write([], self.rejected)
        if self.records:
            sender = self.sender
            upload = store(Upload(self.record_type, self.key_row, sender.sent_by, sender.refusals),
                           [record for _, record in self.records], self.storage, sender.chunk)
            results: list[Result] = [r for chunk in upload.chunks for r in chunk.results]
            for (index, record), result in zip(self.records, results, strict=True):
                ok = result.status != "refused"
                outcomes[index] = Outcome(index, item_ids(self.record_type, record), ok, result.status,
                                          result.code, result.message, None if ok else result.errors or None)
        return [outcomes[i] for i in sorted(outcomes)]


def merged(current: dict, changes: dict) -> dict:
    """A record with an update's fields; an object field (profile, extra) keeps the keys the update
    does not name, so `{"profile": {"location": "singapore"}}` changes the location alone."""
    record = dict(current)
    for name, value in changes.items():
        earlier = record.get(name)
        record[name] = {**earlier, **value} if isinstance(earlier, dict) and isinstance(value, dict) else value
    return record


def _cancel(state: _Request, current: dict[str, dict], index: int, item: dict) -> None:
    """Queue an order's cancellation: its current record (none, for an order only the browser reported)
    marked cancelled."""
    stored = _stored_id(ORDERS, item_ids(ORDERS, item))
    state.records.append((index, {**current.get(stored, {}), "order_id": item.get("order_id"),
                                  "order_status": "cancelled"}))


def _singular(record_type: RecordType) -> str:
    """A type's record as a message names it: Product, User, Category."""
    name = record_type.name.rsplit("-", 1)[-1]
    return (name[:-3] + "y" if name.endswith("ies") else name.removesuffix("s")).capitalize()


def _label(ids: dict) -> str:
    """Ids as a message names them: product_id p1, variant_id v1."""
    return ", ".join(f"{name} {value}" for name, value in ids.items())


def create(record_type: RecordType, sender: Sender, items: list) -> list[Outcome]:
    """Create or replace each record whole (POST): idempotent, a resend changes nothing."""
    state = _Request(record_type, sender)
    state.records = list(enumerate(items))
    return state.finish()


def update(record_type: RecordType, sender: Sender, items: list) -> list[Outcome]:
    """Change the fields each item names in its current record (PUT); a record not there is refused.

    An order is only cancelled this way, and an order not sent by the backend (a browser's) can be:
    its cancellation is kept as an order record of its own, which the orders view merges.
    """
    state = _Request(record_type, sender)
    current = state.current(list(enumerate(items)))
    for index, item in enumerate(items):
        if record_type is ORDERS:
            extra = sorted(set(item) - set(_ORDER_UPDATE)) if isinstance(item, dict) else []
            if not isinstance(item, dict) or extra or item.get("order_status") != "cancelled":
                state.refuse(index, item, InvalidRecord(
                    'An order can only be cancelled: send "order_status": "cancelled" (and order_id), nothing else.',
                    errors={name: ["Orders cannot be updated, only created or cancelled."]
                            for name in extra or ["order_status"]}))
            else:
                _cancel(state, current, index, item)
            continue
        found = state.target(index, item, current)
        if found is not None:
            state.records.append((index, merged(found, item)))
    return state.finish()


def delete(record_type: RecordType, sender: Sender, items: list, cancel_orders: bool = True) -> list[Outcome]:
    """Delete each named record (kept in history, gone from the views); an order is cancelled instead,
    unless `cancel_orders` is off (deleting all of a site's orders, to send them all again)."""
    state = _Request(record_type, sender)
    current = state.current(list(enumerate(items)))
    for index, item in enumerate(items):
        if cancel_orders and record_type is ORDERS and isinstance(item, dict) and "order_id" in item:
            _cancel(state, current, index, item)
            continue
        stored = _stored_id(record_type, item_ids(record_type, item)) if isinstance(item, dict) else None
        if stored in state.deleted:
            # Deleting is idempotent: a client retrying a deletion whose answer it lost is told it is done.
            state.done[index] = Outcome(index, item_ids(record_type, item), True, "deleted")
            continue
        found = state.target(index, item, current)
        if found is not None:
            state.records.append((index, {**found, "is_deleted": True}))
    return state.finish()


def delete_product(sender: Sender, product_id: str) -> list[Outcome]:
    """Delete every variant of a product; NotFound when it has none."""
    key_row, storage = sender.key_row, sender.storage
    variants = storage.records_where(key_row["key"], PRODUCTS.name, "product_id", product_id)
    if not variants:
        if storage.records_where(key_row["key"], PRODUCTS.name, "product_id", product_id, deleted=True):
            return []  # every variant deleted before: done, as a retried deletion expects
        raise NotFound(f"Product not found: product_id {product_id}.")
    return delete(PRODUCTS, sender, [{"product_id": v["product_id"], "variant_id": v["variant_id"]}
                                      for v in variants.values()])

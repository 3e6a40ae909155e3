"""Reference data: what a record type is (its schema, its id, the records it names) and the registry of types.

Each API family that sends reference data (Cobi's Data API; DataCue's backend API) declares its types
here through `register`; storage, the views, imports and forwarding read them from the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from marshmallow import Schema


@dataclass(frozen=True)
class Reference:
    """A field of a record that names a record of another type, which must exist (and not be deleted)."""

    field: str
    type: str
    #: Fields the named record must share with this one (an offer named by a transaction is of its shop).
    same: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordType:
    """One type of reference record, such as Cobi's `shops`."""

    #: The name in the URL and in the store, e.g. `shop-tags`.
    name: str
    #: The API family that sends it; also the outbox `source` of its forwarded versions.
    family: str
    schema: Schema
    #: The field holding the record's id.
    id_field: str
    references: tuple[Reference, ...] = ()
    #: The id of a record that may lack `id_field` (a favourite without its own id), from its other fields.
    fallback_id: Callable[[dict], str] | None = None
    #: The id of a record whose id is several fields (a DataCue variant: product and variant), used always.
    composite_id: Callable[[dict], str] | None = None

    @property
    def view(self) -> str:
        """The analysts' view of the current records, e.g. `cobi_shop_tags`."""
        return f"{self.family.split('-')[0]}_{self.name.replace('-', '_')}"

    def record_id(self, data: dict) -> str:
        """The id a validated record is stored under."""
        if self.composite_id is not None:
            return self.composite_id(data)
        value = data.get(self.id_field)
        if value is None and self.fallback_id is not None:
            return self.fallback_id(data)
        return str(value)


#: The record type a Cobi interaction's item_type names, and the type its student_id names (by customer_id).
ITEM_RECORD_TYPES = {"TAG": "tags", "OFFER": "offers", "SHOP": "shops", "KEYWORD": "keywords"}
STUDENT_RECORD_TYPE = "customers"


@dataclass
class Version:
    """One validated record of a request, on its way to the store."""

    #: Its place in the request (0-based), for the answer.
    index: int
    record_id: str
    data: dict

    @property
    def updated(self) -> str | None:
        """The record's own updated time (collector time text), if it has one."""
        return self.data.get("updated")

    @property
    def is_deleted(self) -> bool:
        """Whether this version deletes the record."""
        return bool(self.data.get("is_deleted"))


@dataclass(frozen=True)
class Outcome:
    """What became of one record: stored, deleted, stale (older than the current one: kept in history
    only), or refused (with why). A version identical to one kept before is answered as it was then."""

    status: str
    message: str = ""
    #: Whether this very version was kept before (a request or a file sent again): nothing changed.
    repeated: bool = False


_TYPES: dict[str, RecordType] = {}


def register(*types: RecordType) -> None:
    """Make record types known to the store, the APIs and forwarding."""
    for record_type in types:
        _TYPES[record_type.name] = record_type


def get(name: str) -> RecordType | None:
    """The record type with this name, or None."""
    return _TYPES.get(name)


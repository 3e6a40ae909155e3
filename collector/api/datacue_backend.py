"""DataCue's backend API: products, banners, users, orders, categories and batch, with the site's key and
secret.

The paths are the DataCue docs' and those its official PHP client calls, in both its 2019 form
(`POST /v1/orders`, `PUT /v1/orders/<id>` to cancel, `PUT /v1/batch/<type>`, the overview and
`DELETE /v1/clients`) and its 1.0.11-1.0.13 one (categories, `PATCH` to cancel, batches as bare arrays,
`DELETE /v1/batch/<type>/all`, `GET /v1/clients/sync`).
Single calls answer 201 (created) or 204 (updated, deleted) as the docs say; batches answer DataCue's
`{"status": [...]}`, one entry per item, with 207 Multi-Status as the docs say of every batch.
"""

from __future__ import annotations

import functools

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import jsonify
from flask import request

from ..access import server_keys
from ..errors import InvalidBatch
from ..errors import InvalidRecord
from ..errors import MissingReference
from ..errors import NotFound
from ..errors import PayloadTooLarge
from ..ingest.rejections import Refusals
from ..ingest.rejections import validated
from ..reference import operations
from ..reference.writes import Sender
from ..schemas import datacue_backend
from ..web import limits
from ..web.bodies import client_of
from ..web.bodies import parsed_body
from ..web.bodies import read_body
from ..web.context import current_storage
from ..web.logs import note

bp = Blueprint("datacue_backend", __name__)

#: Each type by the name its paths give it (categories are stored as `product-categories`).
TYPES = datacue_backend.BY_PATH
# PATCH is how the official client cancels orders from its 1.0.11 release: an update naming the status.
_OPERATIONS = {"POST": operations.create, "PUT": operations.update, "PATCH": operations.update,
               "DELETE": operations.delete}
#: The error an item's refusal is answered with when it was the request's only item.
_ERRORS = {error.code: error for error in (InvalidRecord, MissingReference, NotFound)}


class _NoContent(Response):
    """An answer without a body (204), so without a Content-Type."""

    default_mimetype = None


class _Call:
    """One authenticated backend request: its site, its secret's id, its store and its body."""

    def __init__(self):
        """Authenticate with the key and secret (either form), and apply the key's rate limits."""
        self.storage = current_storage()
        self.body = functools.cache(self._read)
        self.key_row, server_key = server_keys.authenticate(request, self.storage, self.body)
        note(key_name=self.key_row["name"])
        limits.check(self.key_row)
        config = current_app.config
        self.sender = Sender(self.key_row, server_key["id"], self.storage, Refusals.of(config, client_of(request)),
                             config["DATA_CHUNK"])

    @staticmethod
    def _read() -> bytes:
        """The body; none for a GET or a DELETE that sends none (the client signs the empty text)."""
        if request.method in ("GET", "DELETE") and not request.content_length and "chunked" not in \
                request.headers.get("Transfer-Encoding", "").lower():
            return b""
        return read_body(request, datacue_backend.MAX_BODY_BYTES)

    def document(self, parse):
        """The body parsed by `parse(json)`; a body refused here is kept in `rejected` with its reason."""
        return parsed_body(self.storage, current_app.config, self.key_row, datacue_backend.FAMILY, self.body, parse)

    def run(self, operation, record_type, items: list) -> list[operations.Outcome]:
        """Apply an operation to items of a type, counting what was accepted and refused."""
        return _counted(operation(record_type, self.sender, items))


def _counted(outcomes: list[operations.Outcome]) -> list[operations.Outcome]:
    """Outcomes, counted for the request's log line (accepted, rejected)."""
    accepted = sum(o.ok for o in outcomes)
    note(accepted=accepted, rejected=len(outcomes) - accepted)
    return outcomes


def _object(document) -> dict:
    """A single record's body: a JSON object."""
    if not isinstance(document, dict):
        raise InvalidRecord("The body must be one JSON object.")
    return document


def _single(outcomes: list[operations.Outcome], status: int):
    """A single call's answer: `status` when it was stored, else its item's error in the one shape."""
    outcome = outcomes[0]
    if not outcome.ok:
        raise _ERRORS.get(outcome.code, InvalidRecord)(outcome.message, errors=outcome.errors)
    if status == 204:
        return _NoContent(status=204)
    response = jsonify({**outcome.ids, "status": "OK", "result": outcome.status})
    response.status_code = status
    return response


def _with_path_ids(document: dict, ids: dict) -> dict:
    """The body with the ids its path names; a body naming other ids is refused."""
    for name, value in ids.items():
        if name in document and str(document[name]) != value:
            raise InvalidRecord(f"The body's {name} {document[name]!r} differs from the path's {value!r}.",
                                errors={name: ["Differs from the id in the path."]})
    return {**document, **ids}


def _path_ids(name: str, record_id: str, variant_id: str | None) -> dict:
    """The ids a single record's path names."""
    if name == "products":
        return {"product_id": record_id, "variant_id": variant_id}
    return {TYPES[name].id_field: record_id}


@bp.post("/v1/<any(products, banners, users, orders, categories):name>")
def create(name: str):
    """Create or replace one record (201)."""
    call = _Call()
    return _single(call.run(operations.create, TYPES[name], [call.document(_object)]), 201)


@bp.route("/v1/products/<record_id>/<variant_id>", methods=["PUT", "DELETE"], defaults={"name": "products"})
@bp.route("/v1/<any(banners, users, orders, categories):name>/<record_id>", methods=["PUT", "DELETE"],
          defaults={"variant_id": None})
@bp.route("/v1/<any(orders):name>/<record_id>", methods=["PATCH"], defaults={"variant_id": None})
def one(name: str, record_id: str, variant_id: str | None):
    """Update the fields a body names (PUT; PATCH cancels an order), or delete (an order: cancel) one
    record (204)."""
    call = _Call()
    ids = _path_ids(name, record_id, variant_id)
    item = _with_path_ids(call.document(_object), ids) if request.method in ("PUT", "PATCH") else ids
    return _single(call.run(_OPERATIONS[request.method], TYPES[name], [item]), 204)


@bp.delete("/v1/products/<product_id>")
def product(product_id: str):
    """Delete a product: every variant of it (204; 404 when it has none)."""
    call = _Call()
    _counted(operations.delete_product(call.sender, product_id))
    return _NoContent(status=204)


def _batch_items(document, path_type: str | None):
    """A batch body's type and items: `{"type", "batch"}`, `{"batch"}` under a path that names the type, or
    (the official client from its 1.0.11 release) the items alone, a JSON array, under such a path."""
    if isinstance(document, list) and path_type:
        document = {"batch": document}
    if not isinstance(document, dict):
        raise InvalidBatch('The body must be {"type": ..., "batch": [...]}, or under /v1/batch/<type> the '
                           "items alone, [...].")
    loaded = validated(datacue_backend.BATCH, document, InvalidBatch, "The batch is invalid")
    name = path_type or loaded.get("type")
    if name is None:
        raise InvalidBatch(f"Say what the batch holds: type is one of {', '.join(TYPES)}.",
                           errors={"type": ["Missing data for required field."]})
    if path_type and loaded.get("type") not in (None, path_type):
        raise InvalidBatch(f"The body's type {loaded['type']!r} differs from the path's {path_type!r}.")
    items = loaded["batch"]
    if len(items) > datacue_backend.MAX_ITEMS:
        raise PayloadTooLarge(f"The batch holds {len(items)} items; the limit is {datacue_backend.MAX_ITEMS}.")
    return TYPES[name], items


def _named(record_type, items: list) -> list:
    """A deletion's items: an id alone (the official client sends users', categories' and orders' so)
    stands for the record it names."""
    return [{record_type.id_field: item} if isinstance(item, str) and record_type is not datacue_backend.PRODUCTS
            else item for item in items]


@bp.route("/v1/batch", methods=["POST", "PUT", "DELETE"], defaults={"name": None})
@bp.route("/v1/batch/<any(products, banners, users, orders, categories):name>", methods=["POST", "PUT", "DELETE"])
@bp.route("/v1/batch/<any(orders):name>", methods=["PATCH"])
def batch(name: str | None):
    """Create, update or delete up to 500 records of one type (PATCH: cancel orders); DataCue's per-item
    `status` list."""
    call = _Call()
    record_type, items = call.document(lambda document: _batch_items(document, name))
    if request.method == "DELETE":
        items = _named(record_type, items)
    outcomes = call.run(_OPERATIONS[request.method], record_type, items)
    # 207 Multi-Status for every batch read, as DataCue's docs answer each batch: the status of each item
    # says what to resend, whether none, some or all were refused (docs/decisions.md).
    response = jsonify({"type": name or _wire_name(record_type), "status": [o.as_dict() for o in outcomes]})
    response.status_code = 207
    return response


def _wire_name(record_type) -> str:
    """The name DataCue's paths give a type (categories are stored as `product-categories`)."""
    return next(name for name, each in TYPES.items() if each is record_type)


@bp.get("/v1/overview", defaults={"name": None})
@bp.get("/v1/overview/<any(products, banners, users, orders, categories):name>")
def overview(name: str | None):
    """The ids of the site's current records of each type (or one), as a client re-syncing asks."""
    call = _Call()
    names = [name] if name else list(TYPES)
    # Products as product and variant pairs; the other types as their ids.
    return jsonify({n: [ids if n == "products" else ids[TYPES[n].id_field] for ids in _current_ids(call, TYPES[n])]
                    for n in names})


def _current_ids(call: _Call, record_type) -> list[dict]:
    """The ids of a type's current records of the site, in order."""
    return [operations.ids_of(record_type, record_id)
            for record_id in call.storage.record_ids(call.key_row["key"], record_type.name)]


def _delete_all(call: _Call, record_type) -> None:
    """Delete every current record of a type of the site, a batch at a time (an order too: every version
    is kept in history, and a client re-syncing sends them all again)."""
    items = _current_ids(call, record_type)
    for start in range(0, len(items), datacue_backend.MAX_ITEMS):
        part = items[start:start + datacue_backend.MAX_ITEMS]
        _counted(operations.delete(record_type, call.sender, part, cancel_orders=False))


@bp.delete("/v1/clients")
def clear():
    """Delete every backend record of the site but its orders (the client's `clear`); history keeps every
    version."""
    call = _Call()
    for record_type in (t for t in datacue_backend.TYPES if t.name != "orders"):
        _delete_all(call, record_type)
    return _NoContent(status=204)


@bp.delete("/v1/batch/<any(products, banners, users, orders, categories):name>/all")
def delete_all(name: str):
    """Delete every record of one type of the site (the client's `deleteAll`, from its 1.0.11 release)."""
    call = _Call()
    _delete_all(call, TYPES[name])
    return _NoContent(status=204)


@bp.get("/v1/clients/sync")
def sync():
    """What the site's store holds of each type, and so what a client should send again (the client's
    `sync`, "get sync requirement", from its 1.0.11 release): a type with no current record needs a sync.
    docs/decisions.md says why this shape."""
    call = _Call()
    held = {name: len(call.storage.record_ids(call.key_row["key"], record_type.name))
            for name, record_type in TYPES.items()}
    return jsonify({name: {"records": count, "sync": count == 0} for name, count in held.items()})

"""The OpenAPI document of the public endpoints: each operation described from the marshmallow schemas with
apispec, and the document made of the app's registered routes, so that a route without a description is
found (`undocumented`, which a test holds empty) and a description without a route is left out."""

from __future__ import annotations

import functools
import re

import iso3166
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from marshmallow import INCLUDE
from marshmallow import Schema
from marshmallow import fields
from werkzeug.routing import Rule

from ..imports import files
from ..imports import kinds
from ..schemas import capillary
from ..schemas import cobi
from ..schemas import cobi_data
from ..schemas import datacue
from ..schemas import datacue_backend
from ..schemas import record_fields
from ..schemas import segment
from ..schemas.common import BoundedDict
from ..schemas.common import Id
from ..schemas.common import Timestamp

_ERROR = {"$ref": "#/components/schemas/Error"}
#: An identifier: a string with something other than spaces in it, or an integer.
_ID = {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 256, "pattern": r"\S"}, {"type": "integer"}]}
_ERRORS = {
    "400": "Not JSON, or not a valid event (the message names each field); kept in `rejected`",
    "401": "No key, or an unknown key", "403": "Key revoked, origin not allowed, or a forgotten visitor",
    "409": "The event id was already used for an event from the other API (DataCue vs Cobi)",
    "413": "Body, batch or event over its limit", "415": "Content type or encoding the collector does not read",
    "429": "Over a rate limit; retry after `Retry-After` seconds",
    "503": "The store cannot be written just now; nothing was stored; retry after `Retry-After` seconds",
}


class ErrorSchema(Schema):
    """Every error the collector answers (a refused batch adds its counts and results)."""

    class Meta:
        unknown = INCLUDE

    code = fields.String(required=True, metadata={"description": "machine-readable, e.g. invalid_event"})
    message = fields.String(required=True, metadata={"description": "what was wrong, for a person"})
    errors = fields.Dict(metadata={"description": "per-field messages, when validation failed"})


class BatchResultSchema(Schema):
    """The answer to a batch: counts, and per-item results when some items were refused (207)."""

    class Meta:
        unknown = INCLUDE

    received = fields.Integer(required=True)
    stored = fields.Integer(required=True)
    duplicates = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    results = fields.List(fields.Dict())


class DataResultSchema(Schema):
    """Cobi's consistent answer (the Data API, a batch of interactions): the request's id and type, and one
    entry per batch."""

    request_id = fields.String(required=True)
    type = fields.String(required=True)
    batches = fields.List(fields.Dict(), required=True, metadata={
        "description": "batch (1-based), status (200, 207, 400) and data: status, type, message, request_id, "
                       "batch_id, error, and the collector's counts and per-record errors (the Data API) or "
                       "results (interactions)"})


def _custom_fields(converter):
    """Describe the collector's own field types in OpenAPI terms."""
    def described(_converter, field, **kwargs):
        """The OpenAPI form of one of the collector's own field types (none for the others)."""
        if isinstance(field, Id):
            return dict(_ID)
        if isinstance(field, Timestamp):
            # The collector takes times from 1970-01-02 to 9999 (epoch seconds, or milliseconds above 1e11);
            # a pattern can only say "from 1970".
            return {"anyOf": [{"type": "string", "format": "date-time",
                               "pattern": "^(19[7-9][0-9]|[2-9][0-9]{3})-"},
                              {"type": "integer", "minimum": 86400, "maximum": 253402300799999}]}
        if isinstance(field, datacue.TypedEvent):
            return {"oneOf": [{"$ref": f"#/components/schemas/{_event_name(kind, subtype)}"}
                              for kind, subtypes in datacue.EVENT_TYPES.items() for subtype in subtypes]}
        if isinstance(field, datacue.CartLine):
            return {"anyOf": [{"$ref": "#/components/schemas/CartLine"}, _ID]}
        if isinstance(field, BoundedDict):
            return {"type": "object"}
        if isinstance(field, record_fields.Region):
            return {"type": "string", "enum": sorted(iso3166.countries_by_alpha2)}
        if isinstance(field, record_fields.RecordDate):
            return {"type": "string", "format": "date"}
        return {}
    converter.add_attribute_function(described)


def _event_name(kind: str, subtype: str | None) -> str:
    """The component name of one DataCue event type and subtype."""
    return "Event_" + kind + (f"_{subtype}" if subtype else "")


def _single_and_batch(spec: APISpec, single: str, batch: str, created: dict, answered: str | None = None,
                      result: str = "BatchResult") -> dict:
    """The POST operation of an ingest endpoint: one item or a batch, JSON or text/plain (a single item
    `answered` with that component where the API answers one with a body of 200; a batch with `result`)."""
    body = {"schema": {"oneOf": [{"$ref": f"#/components/schemas/{single}"},
                                 {"$ref": f"#/components/schemas/{batch}"}]}}
    batch_result = {"application/json": {"schema": {"$ref": f"#/components/schemas/{result}"}}}
    ok = {"description": "A batch: every item stored (or a repeat)", "content": batch_result}
    if answered:
        ok = {"description": "A batch: every item stored (or a repeat); or one event that loads a page (a home "
                             "or product page view, a search, a cart view) stored, answered with the page's "
                             "recommendations",
              "content": {"application/json": {"schema": {"anyOf": [
                  {"$ref": "#/components/schemas/BatchResult"}, {"$ref": f"#/components/schemas/{answered}"}]}}}}
    return {"post": {
        "security": [{"basic": []}, {"bearer": []}, {"key": []}],
        "requestBody": {"required": True, "content": {"application/json": body, "text/plain": body}},
        "responses": {
            **created,
            "200": ok,
            "207": {"description": "A batch: some items stored, the others refused (see results)",
                    "content": batch_result},
            **{status: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
               for status, text in _ERRORS.items()},
        },
    }}


def _recommendations(spec: APISpec) -> None:
    """DataCue's answer to a page view: banners and product objects (docs/recommendations.md)."""
    text = {"type": "string", "nullable": True}
    spec.components.schema("RecommendedProduct", {
        "type": "object", "required": ["product_id"],
        "properties": {"product_id": {"type": "string"}, "variant_id": text, "name": text,
                       "price": {"type": "number", "nullable": True}, "photo_url": text, "link": text,
                       **{f"category_{n}": {"type": "string"} for n in range(1, 5)},
                       "extra": {"type": "object", "additionalProperties": True}}})
    spec.components.schema("RecommendedBanner", {
        "type": "object", "required": ["banner_id"],
        "properties": {"banner_id": {"type": "string"}, "name": {"type": "string"}, "photo_url": text,
                       "link": text}})
    lists = {name: {"type": "array", "items": {"$ref": f"#/components/schemas/Recommended{kind}"}}
             for name, kind in (("main_banners", "Banner"), ("sub_banners", "Banner"),
                                ("similar_product_skus", "Product"), ("related_product_skus", "Product"),
                                ("recent_product_skus", "Product"))}
    spec.components.schema("Recommendations", {
        "type": "object", "additionalProperties": False, "properties": lists,
        "description": "A home page view: main_banners, sub_banners, related_product_skus, recent_product_skus; "
                       "a product page view: similar_product_skus, related_product_skus, recent_product_skus; "
                       "a search or a cart view: related_product_skus."})


def _data_api(spec: APISpec, plugin: MarshmallowPlugin) -> None:
    """One path per Cobi record type: `{"records": [...]}` with a secret key, answered with `batches[]`."""
    spec.components.security_scheme("secret", {"type": "http", "scheme": "bearer",
                                               "description": "a secret server key, sk_live_... or sk_test_..."})
    spec.components.schema("DataResult", schema=DataResultSchema)
    result = {"application/json": {"schema": {"$ref": "#/components/schemas/DataResult"}}}
    errors = {**_ERRORS, "400": "Not JSON, no records, or every record refused (per record in `batches`); "
                                "kept in `rejected`",
              "401": "No secret key, an unknown or revoked one, or a publishable key", "404": "Unknown record type",
              "403": "The secret's key was revoked", "413": "Over 5,000 records, or the body over its limit"}
    errors.pop("409")
    for record_type in cobi_data.TYPES:
        name = record_type.schema.__class__.__name__.removesuffix("Schema").removesuffix("Fields")
        spec.components.schema(f"Cobi{name}", schema=record_type.schema.__class__)
        body = {"type": "object", "required": ["records"], "properties": {"records": {
            "type": "array", "minItems": 1, "maxItems": cobi_data.MAX_RECORDS,
            "items": {"$ref": f"#/components/schemas/Cobi{name}"}}}}
        spec.path(f"/v1/data/{record_type.name}", operations={"post": {
            "summary": f"Upsert {record_type.name} (Cobi Data API)", "security": [{"secret": []}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": {"description": "Every record stored (or already stored)", "content": result},
                "207": {"description": "Some records refused (see batches[].data.errors)", "content": result},
                **{status: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
                   for status, text in errors.items()},
            }}})


class BackendBatchResultSchema(Schema):
    """DataCue's batch answer: one status per item, in the order sent."""

    class Meta:
        unknown = INCLUDE

    type = fields.String(required=True)
    status = fields.List(fields.Dict(), required=True, metadata={
        "description": "per item: its ids, index, status (OK or error), and error (a sentence) with errors "
                       "(per field) when refused"})


def _responses(success: dict, errors: dict) -> dict:
    """An operation's answers: its successes, then the errors in the one shape."""
    return {**success, **{status: {"description": text, "content": {"application/json": {"schema": _ERROR}}}
                          for status, text in errors.items()}}


def _backend_api(spec: APISpec, plugin: MarshmallowPlugin) -> None:
    """DataCue's backend API: single records (POST, PUT, DELETE), batches, the overview and clear."""
    spec.components.security_scheme("key_and_secret", {
        "type": "http", "scheme": "basic",
        "description": "Basic base64(KEY:SECRET), or base64(KEY:hex(HMAC-SHA256(body, SECRET))) as DataCue's "
                       "official client sends"})
    spec.components.schema("BackendBatchResult", schema=BackendBatchResultSchema)
    security = [{"key_and_secret": []}]
    errors = {**_ERRORS, "400": "Not JSON, or the record is invalid (the message names each field); kept in "
                                "`rejected`",
              "401": "No secret, a wrong one, a signature over another body, or the key alone",
              "403": "The secret's key was revoked", "404": "No such record",
              "413": "Over 500 items, or the body over 5 MiB"}
    errors.pop("409")
    done = {"204": {"description": "Stored (updated, deleted or cancelled)"}}
    json_body = {"application/json": {"schema": {"$ref": "#/components/schemas/BackendBatchResult"}}}
    batch_answers = {"207": {"description": "Each item's status (OK, or error with why), whether none, some or all "
                                            "were refused", "content": json_body}}
    for path_name, record_type in datacue_backend.BY_PATH.items():
        name = "DataCue" + {"categories": "Category"}.get(path_name, path_name.rstrip("s").capitalize())
        whole = plugin.converter.schema2jsonschema(record_type.schema.__class__)
        if "anonymous_ids" in whole["properties"]:  # one id alone, as the docs' examples send it, or a list
            listed = whole["properties"]["anonymous_ids"]
            whole["properties"]["anonymous_ids"] = {"nullable": True, "anyOf": [
                {k: v for k, v in listed.items() if k != "nullable"}, _ID]}
        spec.components.schema(name, whole)
        # An update names only the fields it changes.
        spec.components.schema(f"{name}Update", {**{k: v for k, v in whole.items() if k != "required"}})
        path_ids = ["product_id", "variant_id"] if record_type.name == "products" else [record_type.id_field]
        one = f"/v1/{path_name}/" + "/".join(f"{{{i}}}" for i in path_ids)
        parameters = [{"name": i, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
                      for i in path_ids]
        update = ({"type": "object", "required": ["order_status"], "additionalProperties": False,
                   "properties": {"order_id": _ID, "order_status": {"type": "string", "enum": ["cancelled"]}}}
                  if record_type.name == "orders" else {"$ref": f"#/components/schemas/{name}Update"})
        spec.path(f"/v1/{path_name}", operations={"post": {
            "summary": f"Create or replace one of {path_name}", "security": security,
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": f"#/components/schemas/{name}"}}}},
            "responses": _responses({"201": {"description": "Stored", "content": {"application/json": {
                "schema": {"type": "object"}}}}}, errors)}})
        changing = {"parameters": parameters, "security": security,
                    "requestBody": {"required": True, "content": {"application/json": {"schema": update}}},
                    "responses": _responses(done, errors)}
        spec.path(one, operations={
            "put": {"summary": "Update the fields named (orders: cancel)", **changing},
            **({"patch": {"summary": "Cancel the order (the official client from its 1.0.11 release)", **changing}}
               if path_name == "orders" else {}),
            "delete": {"summary": "Delete (orders: cancel)", "security": security, "parameters": parameters,
                       "responses": _responses(done, errors)}})
    spec.path("/v1/products/{product_id}", operations={"delete": {
        "summary": "Delete every variant of a product", "security": security,
        "parameters": [{"name": "product_id", "in": "path", "required": True,
                        "schema": {"type": "string", "minLength": 1}}],
        "responses": _responses(done, errors)}})
    names = list(datacue_backend.BY_PATH)
    items = {"type": "array", "minItems": 1, "maxItems": datacue_backend.MAX_ITEMS,
             "items": {"anyOf": [{"type": "object"}, {"type": "string", "description": "an id, to delete"}]}}
    batch = {"type": "object", "required": ["batch"], "properties": {"type": {"type": "string", "enum": names},
                                                                      "batch": items}}
    operation = {"security": security, "requestBody": {"required": True, "content": {"application/json": {
        "schema": batch}}}, "responses": _responses(batch_answers, errors)}
    spec.path("/v1/batch", operations={m: {**operation, "summary": f"Batch {s} (type in the body)"}
                                       for m, s in (("post", "create"), ("put", "update"), ("delete", "delete"))})
    typed = {**operation, "requestBody": {"required": True, "content": {"application/json": {
        "schema": {"anyOf": [batch, {**items, "description": "the items alone (the official client from its "
                                                             "1.0.11 release)"}]}}}}}
    type_parameter = [{"name": "type", "in": "path", "required": True, "schema": {"type": "string", "enum": names}}]
    methods = (("post", "create"), ("put", "update"), ("delete", "delete"))
    spec.path("/v1/batch/{type}", operations={m: {**typed, "summary": f"Batch {s} of one type",
                                                  "parameters": type_parameter} for m, s in methods})
    # Orders' batches also take PATCH; the path of its own lists every method it answers.
    spec.path("/v1/batch/orders", operations={
        **{m: {**typed, "summary": f"Batch {s} of orders"} for m, s in methods},
        "patch": {**typed, "summary": "Cancel orders (the official client from its 1.0.11 release)"}})
    spec.path("/v1/batch/{type}/all", operations={"delete": {
        "summary": "Delete every record of one type of the site (kept in history)", "security": security,
        "parameters": type_parameter, "responses": _responses(done, errors)}})
    sync = {"200": {"description": "Per type: its current records, and whether it needs sending again (none held)",
                    "content": {"application/json": {"schema": {"type": "object"}}}}}
    spec.path("/v1/clients/sync", operations={"get": {
        "summary": "What the site's store holds of each type", "security": security,
        "responses": _responses(sync, errors)}})
    ids = {"200": {"description": "The ids of the current records", "content": {"application/json": {
        "schema": {"type": "object"}}}}}
    spec.path("/v1/overview", operations={"get": {"summary": "Ids of every type's current records",
                                                  "security": security, "responses": _responses(ids, errors)}})
    spec.path("/v1/overview/{type}", operations={"get": {
        "summary": "Ids of one type's current records", "security": security,
        "parameters": [{"name": "type", "in": "path", "required": True, "schema": {"type": "string", "enum": names}}],
        "responses": _responses(ids, errors)}})
    spec.path("/v1/clients", operations={"delete": {
        "summary": "Delete every product, banner, user and category of the site (kept in history)",
        "security": security,
        "responses": _responses(done, errors)}})


def _segment_message(kind: str | None) -> dict:
    """A Segment message as JSON Schema: of one type (a single-message path), or of any (a batch item)."""
    text = {"type": "string", "maxLength": 512, "nullable": True}
    optional_id = {"nullable": True, "anyOf": [{"type": "string", "maxLength": 256}, {"type": "number"}]}
    some_id = {"anyOf": [{"type": "string", "maxLength": 256, "pattern": r"\S"}, {"type": "number"}]}
    obj = {"type": "object", "nullable": True}
    time = {"description": "ISO-8601 or epoch (s or ms); a value that does not parse is ignored"}
    page = {"type": "object", "nullable": True, "properties": {
        **{name: {"type": "string", "maxLength": 2048, "nullable": True} for name in ("url", "referrer", "path",
                                                                                      "search")},
        "title": text}}
    context = {"type": "object", "nullable": True, "properties": {
        "ip": {"type": "string", "maxLength": 64, "nullable": True,
               "description": "the visitor's address; one that does not parse is ignored"},
        "userAgent": {"type": "string", "maxLength": 1024, "nullable": True}, "page": page,
        "library": {"type": "object", "nullable": True, "properties": {"name": text, "version": text}},
        "traits": obj, "campaign": obj, "sessionId": optional_id,
        "direct": {"description": "true: the request comes from the visitor's device"}}}
    types = [kind] if kind else list(segment.TYPES)
    message = {"type": "object", "required": [] if kind else ["type"], "properties": {
        # On a single-message path the type is the path's: leaving it out (or null) is the same.
        "type": {"type": "string", "enum": [*types, None], "nullable": True} if kind else {"type": "string",
                                                                                         "enum": types},
        **{name: optional_id for name in ("messageId", "anonymousId", "userId", "groupId", "previousId")},
        **{name: text for name in ("event", "name", "category", "channel")},
        **{name: obj for name in ("properties", "traits", "integrations")}, "context": context,
        **{name: time for name in ("timestamp", "originalTimestamp", "sentAt")}},
        # userId or anonymousId, not empty (SDKs send null or "" for the one they do not have).
        "anyOf": [{"required": [name], "properties": {name: some_id}} for name in ("userId", "anonymousId")]}
    needs = {"track": ("event", {"type": "string", "maxLength": 512, "pattern": r"\S"}), "group": ("groupId", some_id)}
    if kind in needs:
        name, schema = needs[kind]
        message["allOf"] = [{"required": [name], "properties": {name: schema}}]
    return message


def _segment_api(spec: APISpec, prefix: str) -> None:
    """Segment's HTTP Tracking API (and RudderStack's), under its prefix: every path the SDKs post to."""
    spec.components.security_scheme("write_key", {"type": "apiKey", "in": "query", "name": "writeKey",
                                                  "description": "the publishable key (RudderStack's beacons)"})
    spec.components.schema("SegmentMessage", _segment_message(None))
    spec.components.schema("SegmentBatch", {"type": "object", "required": ["batch"], "properties": {
        "batch": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/SegmentMessage"},
                  "description": f"up to {segment.BATCH_MAX_MESSAGES} messages; each refused alone"},
        "sentAt": {"description": "when the batch was sent, for messages without their own"},
        **{name: {"description": "merged under each message's own (ignored unless an object)"}
           for name in ("context", "integrations")},
        "writeKey": {"description": "the publishable key, when no header or query parameter carries it"}}})
    success = {"type": "object", "required": ["success"], "properties": {
        "success": {"type": "boolean", "enum": [True]}, "received": {"type": "integer"},
        "stored": {"type": "integer"}, "duplicates": {"type": "integer"}, "rejected": {"type": "integer"},
        "refused": {"type": "array", "items": {"type": "object"},
                    "description": "a batch's refused messages: index, messageId, code, message, errors"}}}
    errors = {**_ERRORS, "400": "Not JSON, a message that is not valid, or a batch of which none is; kept in "
                                "`rejected`",
              "401": "No write key, or an unknown, revoked or expired one",
              "403": "The key's origins do not include the page's", "409": "The messageId was already used for "
                                                                          "a DataCue or Cobi event of this site",
              "413": "Body over SEGMENT_MAX_BATCH_BYTES, or a single message over 32 KiB"}
    security = [{"basic": []}, {"bearer": []}, {"write_key": []}]
    body = {"application/json": None, "text/plain": None}

    def operation(summary: str, schema: dict, done: str) -> dict:
        """One POST operation of Segment's API: its summary, body schema and success."""
        return {"post": {"summary": summary, "security": security,
                         "requestBody": {"required": True, "content": {t: {"schema": schema} for t in body}},
                         "responses": _responses({"200": {"description": done, "content": {
                             "application/json": {"schema": success}}}}, errors)}}

    for kind in segment.TYPES:
        one = operation(f"One {kind} message (the type may be left out)", _segment_message(kind),
                        "Stored (or a repeat of a messageId already stored)")
        spec.path(f"{prefix}/v1/{kind}", operations=one)
        spec.path(f"{prefix}/v1/{kind[0]}", operations=one)
    batch = operation("A batch of messages", {"$ref": "#/components/schemas/SegmentBatch"},
                      "Stored, every message or some (the others listed in `refused` and kept in `rejected`)")
    for path in ("/v1/batch", "/v1/b", "/beacon/v1/batch"):
        spec.path(prefix + path, operations=batch)
    spec.path(f"{prefix}/v1/m", operations={"post": {
        "summary": "analytics.js' usage counters: taken and not kept, whatever the body", "requestBody": {
            "content": {t: {"schema": {}} for t in body}},
        "responses": {"200": {"description": "Taken", "content": {"application/json": {"schema": success}}}}}})


def _job_schema() -> dict:
    """An import job as the jobs API answers it."""
    count = {"type": "integer", "minimum": 0}
    moment = {"type": "string", "format": "date-time"}
    return {"type": "object", "required": ["id", "kind", "status", "counts", "links"], "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": list(kinds.KINDS)},
        "status": {"type": "string", "enum": ["STARTED", "PROCESSING", "COMPLETED", "COMPLETED_WITH_ERRORS",
                                              "FAILED"]},
        "reason": {"type": "string", "nullable": True, "description": "why the job FAILED"},
        "waiting": {"type": "string", "nullable": True,
                    "description": "why no worker has taken the job yet (set once it waits 10 s; null otherwise)"},
        "file_name": {"type": "string"}, "file_bytes": count,
        "format": {"type": "string", "enum": list(files.FORMATS), "nullable": True},
        "counts": {"type": "object", "properties": {
            "rows": {**count, "nullable": True}, "processed": count, "stored": count, "duplicates": count,
            "refused": count}},
        "created_at": moment, "updated_at": moment, "started_at": {**moment, "nullable": True},
        "finished_at": {**moment, "nullable": True},
        "links": {"type": "object", "properties": {"self": {"type": "string"}, "errors": {"type": "string"}}}}}


def _imports_api(spec: APISpec) -> None:
    """Import jobs (a secret key) and Capillary's coupon upload (its token header)."""
    spec.components.schema("ImportJob", _job_schema())
    spec.components.security_scheme("capillary_token", {"type": "apiKey", "in": "header",
                                                        "name": "X-CAP-API-OAUTH-TOKEN",
                                                        "description": "the site's secret server key"})
    job = {"application/json": {"schema": {"$ref": "#/components/schemas/ImportJob"}}}
    errors = {**_ERRORS, "400": "No file, or an unknown kind or format; kept in `rejected` without the file",
              "401": "No secret key, an unknown or revoked one, or a publishable key",
              "403": "The secret's key was revoked", "413": "The file is over COLLECTOR_MAX_UPLOAD_BYTES",
              "415": "Not multipart/form-data"}
    errors.pop("409")
    reading = {k: v for k, v in errors.items() if k in ("400", "401", "403", "429", "503")}
    error_file = {"200": {"description": "The refused rows: row_number, reason, message, errors, row",
                          "content": {"text/csv": {"schema": {"type": "string"}}}}}
    largest = 2**63 - 1
    job_id = [{"name": "job_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1, "maximum": largest}}]
    secret = [{"secret": []}]
    spec.path("/v1/imports", operations={
        "post": {"summary": "Upload a file of history as an import job", "security": secret,
                 "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                     "type": "object", "required": ["file", "kind"], "properties": {
                         "file": {"type": "string", "format": "binary"},
                         "kind": {"type": "string", "enum": list(kinds.KINDS)},
                         "format": {"type": "string", "enum": list(files.FORMATS)}}}}}},
                 "responses": _responses({"202": {"description": "The file and its job are stored; a worker runs it",
                                                  "content": job}}, errors)},
        "get": {"summary": "The site's import jobs, newest first", "security": secret, "parameters": [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
            {"name": "before", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": largest}}],
                "responses": _responses({"200": {"description": "A page of jobs and the next page's link",
                                                 "content": {"application/json": {"schema": {
                                                     "type": "object", "properties": {
                                                         "jobs": {"type": "array", "items": {
                                                             "$ref": "#/components/schemas/ImportJob"}},
                                                         "next": {"type": "string", "nullable": True}}}}}}},
                                        reading)}})
    spec.path("/v1/imports/{job_id}", operations={"get": {
        "summary": "An import job's status and counts", "security": secret, "parameters": job_id,
        "responses": _responses({"200": {"description": "The job", "content": job}},
                                {**reading, "404": "No such job of this site"})}})
    spec.path("/v1/imports/{job_id}/errors", operations={"get": {
        "summary": "An import job's refused rows, as CSV", "security": secret, "parameters": job_id,
        "responses": _responses(error_file, {**reading, "404": "No such job of this site"})}})
    series = [{"name": "couponSeriesId", "in": "path", "required": True,
               "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}]
    capillary_answer = {"application/json": {"schema": {"type": "object", "required": ["success", "status", "result"],
                                                  "properties": {"success": {"type": "boolean"},
                                                                 "status": {"type": "integer"},
                                                                 "result": {"type": "object"}}}}}
    token = [{"capillary_token": []}, {"secret": []}]
    spec.path("/coupon/api/v1/upload/file/{couponSeriesId}", operations={"post": {
        "summary": "Upload coupon codes of a series (Capillary)", "security": token, "parameters": series,
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file", "customerIdentifier"], "properties": {
                "file": {"type": "string", "format": "binary"},
                "customerIdentifier": {"type": "string", "enum": list(capillary.IDENTIFIERS)},
                "customerIdentifierColumn": {"type": "string", "pattern": "^[0-9]{1,3}$"}}}}}},
        "responses": _responses({"200": {"description": "The upload's job, in Capillary's body",
                                         "content": capillary_answer}}, errors)}})
    spec.path("/coupon/api/v1/upload/getUploadStatus/{couponSeriesId}", operations={"get": {
        "summary": "Every upload job of a series (Capillary)", "security": token, "parameters": series,
        "responses": _responses({"200": {"description": "The series' jobs, in Capillary's body",
                                         "content": capillary_answer}}, reading)}})
    spec.path("/coupon/api/v1/upload/errorFile/{job_id}", operations={"get": {
        "summary": "A coupon upload's refused rows, as CSV (its errorFileUrl)", "security": token,
        "parameters": job_id, "responses": _responses(error_file, {**reading, "404": "No such job of this site"})}})
    spec.path("/coupon/api/v1/upload/successFile/{job_id}", operations={"get": {
        "summary": "A coupon upload's stored codes, as CSV (its successFileUrl)", "security": token,
        "parameters": job_id, "responses": _responses(
            {"200": {"description": "The codes stored: series_id, code, customer_identifier, customer_value",
                     "content": {"text/csv": {"schema": {"type": "string"}}}}},
            {**reading, "404": "No such job of this site"})}})


def _analysts_api(spec: APISpec) -> None:
    """The reports API and the HTTP export, for analyst tokens, over a period, a mode and a site."""
    from ..analytics import funnel
    from ..reports import exports
    from ..reports import registry

    spec.components.security_scheme("analyst", {"type": "http", "scheme": "bearer",
                                                "description": "an analyst token, an_... (collector tokens create)"})
    scope = [{"name": "site", "in": "query", "schema": {"type": "string"},
              "description": "a publishable key or its name (default: every site the token may read)"},
             {"name": "since", "in": "query", "schema": {"type": "string"},
              "description": "7d, 12h, 30m or an ISO date"},
             {"name": "until", "in": "query", "schema": {"type": "string"}},
             {"name": "mode", "in": "query", "schema": {"type": "string", "enum": ["live", "test"]}}]
    errors = {"400": "A period, mode or format the API does not take", "401": "No analyst token, or an unknown one",
              "403": "A site this token may not read", "404": "No such report, or no such site",
              "503": "The store cannot be read just now; retry after `Retry-After` seconds"}
    report = {"type": "object", "required": ["report", "columns", "rows"], "properties": {
        "report": {"type": "string"}, "title": {"type": "string"}, "site": {"type": "string", "nullable": True},
        "mode": {"type": "string"}, "since": {"type": "string"}, "until": {"type": "string"},
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "array"}}}}
    spec.path("/v1/reports/{name}", operations={"get": {
        "summary": "An analyst report over a period, a mode and a site", "security": [{"analyst": []}],
        "parameters": [{"name": "name", "in": "path", "required": True,
                        "schema": {"type": "string", "enum": sorted(registry.REPORTS)}}, *scope,
                       {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]},
                        "description": "json (the default), or csv: a header of the columns, then the rows"},
                       {"name": "steps", "in": "query", "schema": {"type": "string"},
                        "description": "funnel: its steps, e.g. pageview:product,viewcart,order:completed"},
                       {"name": "window", "in": "query", "schema": {"type": "string"},
                        "description": "funnel: session (the default), or Nh / Nd per visitor"},
                       {"name": "breakdown", "in": "query", "schema": {"type": "string",
                                                                        "enum": list(funnel.BREAKDOWN_COLUMNS)},
                        "description": "funnel: one funnel per value of a column of the first step's event"},
                       {"name": "page", "in": "query", "schema": {"type": "string"},
                        "description": "overview, visitors, pages, entry_pages, exit_pages: the visits that "
                                       "viewed this page (a path such as /p/lamp), or this page's row"}],
        "responses": _responses({"200": {"description": "The report's columns and rows", "content": {
            "application/json": {"schema": report}, "text/csv": {"schema": {"type": "string"}}}}}, errors)}})
    spec.path("/v1/export", operations={"get": {
        "summary": "A site's events of a period, streamed as CSV, NDJSON or Parquet", "security": [{"analyst": []}],
        "parameters": [*scope, {"name": "format", "in": "query", "schema": {"type": "string",
                                                                             "enum": list(exports.FORMATS)}},
                       {"name": "type", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
                        "style": "form", "explode": True}],
        "responses": _responses({"200": {"description": "The events, streamed", "content": {
            "text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}},
            "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}}}}}, errors)}})


#: The routes that are not the HTTP API this document describes, by endpoint, and why.
UNDOCUMENTED = {
    "dashboard.page": "an HTML page", "dashboard.login": "the dashboard's sign-in form",
    "dashboard.logout": "the dashboard's sign-out form", "dashboard.style": "a stylesheet",
    "dashboard.download": "the dashboard's CSV links (GET /v1/reports/{name} answers the same data)",
    "static_files.demo": "the demo shop's pages", "static_files.demo_events": "the demo shop's pages",
    "static_files.demo_events_json": "the demo shop's events page's data",
    "static_files.demo_spa": "the demo shop's single-page app",
    "static_files.served": "the tracker and widget scripts and stylesheet",
    "metrics.scrape": "Prometheus' text format, for a scraper",
    "health.openapi": "this document",
}
#: A variable of a route: `<name>`, `<int:name>`, `<any(a, b):name>`.
_VARIABLE = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")
#: The methods a route answers that no document lists (Flask's HEAD, the CORS preflight).
_IMPLIED = {"HEAD", "OPTIONS"}


def route_pattern(rule: Rule) -> re.Pattern:
    """The document paths a route serves: its variables as `{name}` parameters, or, for `any()`, each choice."""
    pattern, end = "", 0
    for found in _VARIABLE.finditer(rule.rule):
        pattern += re.escape(rule.rule[end:found.start()])
        converter, arguments, _ = found.groups()
        choices = [re.escape(c.strip()) for c in arguments.split(",")] if converter == "any" else ["[^/{}]+"]
        pattern += "(?:" + "|".join([*choices, r"\{[^/}]+\}"]) + ")"
        end = found.end()
    return re.compile(pattern + re.escape(rule.rule[end:]) + "$")


def _routes(app) -> list[tuple[Rule, re.Pattern, set[str]]]:
    """The app's documented routes: each with the paths it serves and the methods it answers."""
    return [(rule, route_pattern(rule), {m.lower() for m in rule.methods - _IMPLIED})
            for rule in app.url_map.iter_rules() if rule.endpoint not in UNDOCUMENTED]


def document(app) -> dict:
    """The OpenAPI 3.0 document of an app: the described operations of the routes it has (built once)."""
    found = app.extensions.get("collector.openapi")
    if found is None:
        described = _described(app.config["SEGMENT_PREFIX"])
        routes = _routes(app)
        paths = {}
        for path, operations in described["paths"].items():
            methods = set().union(*(m for _, pattern, m in routes if pattern.match(path)))
            kept = {m: o for m, o in operations.items() if m in methods or m == "parameters"}
            if set(kept) - {"parameters"}:
                paths[path] = kept
        found = app.extensions["collector.openapi"] = {**described, "paths": paths}
    return found


def undocumented(app) -> list[str]:
    """Each method of a route that no operation of the document describes (the endpoints in UNDOCUMENTED
    aside): what a new route lacks until its operations are described here."""
    paths = document(app)["paths"]
    missing = []
    for rule, pattern, methods in _routes(app):
        for method in sorted(methods):
            if not any(pattern.match(path) and method in operations for path, operations in paths.items()):
                missing.append(f"{method.upper()} {rule.rule} ({rule.endpoint})")
    return missing


@functools.cache
def _described(segment_prefix: str) -> dict:
    """Every operation described, by path, with the components they use (per prefix of the Segment API)."""
    plugin = MarshmallowPlugin()
    spec = APISpec(title="Storefront event collector", version="1", openapi_version="3.0.3", plugins=[plugin],
                   info={"description": "DataCue browser events and Cobi user interactions, stored durably. "
                                        "A 2xx answer means the events are committed."})
    _custom_fields(plugin.converter)
    spec.components.security_scheme("basic", {"type": "http", "scheme": "basic",
                                              "description": "the key as the user name, no password"})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("key", {"type": "apiKey", "in": "query", "name": "key"})
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("BatchResult", schema=BatchResultSchema)
    # A cart line as documented: `variant` and `price` are accepted as older spellings, not advertised.
    line = plugin.converter.schema2jsonschema(datacue.CartLineSchema)
    for alias in ("variant", "price"):
        line["properties"].pop(alias)
    spec.components.schema("CartLine", line)
    for kind, subtypes in datacue.EVENT_TYPES.items():
        for subtype, schema in subtypes.items():
            # Several subtypes share a schema class: convert it without registering it under its own name.
            component = plugin.converter.schema2jsonschema(schema)
            component["properties"] = {**component.get("properties", {}), "type": {"type": "string", "enum": [kind]},
                                       "subtype": ({"type": "string", "enum": [subtype]} if subtype else
                                                   {"type": "string", "enum": ["", None], "nullable": True})}
            required = ["type", *(["subtype"] if subtype else []), *component.get("required", [])]
            component["required"] = list(dict.fromkeys(required))
            spec.components.schema(_event_name(kind, subtype), component)
    spec.components.schema("DataCueEvent", schema=datacue.DataCueEventSchema)
    # CategoryView's rule: an id or a name for the category.
    spec.components.schemas[_event_name("pageview", "category")]["anyOf"] = [
        {"required": ["category_id"], "properties": {"category_id": _ID}},
        {"required": ["category_name"], "properties": {"category_name": {"type": "string", "minLength": 1}}}]
    # ContextSchema's post-load rule: an IP address, when there is one.
    spec.components.schemas["Context"]["properties"]["ip"] = {
        "nullable": True, "anyOf": [{"type": "string", "format": "ipv4"}, {"type": "string", "format": "ipv6"},
                                    {"type": "string", "maxLength": 0}]}
    # UserSchema's rule, in schema terms: a user id or an anonymous id, not null.
    spec.components.schemas["User"]["anyOf"] = [
        {"required": [name], "properties": {name: _ID}} for name in ("user_id", "anonymous_id")]
    spec.components.schema("CobiInteraction", schema=cobi.InteractionSchema)
    # The 201 answer: the interaction as stored (normalised, with the collector's received_at).
    created = plugin.converter.schema2jsonschema(cobi.InteractionSchema)
    for name in ("received_at", "event_timestamp"):  # times come back as ISO-8601 UTC text
        created["properties"][name] = {"type": "string", "format": "date-time"}
    created["additionalProperties"] = True
    spec.components.schema("CobiCreated", created)
    for name, batch, field, item in (("DataCueBatch", datacue.BATCH, "events", "DataCueEvent"),
                                     ("CobiBatch", cobi.BATCH, "records", "CobiInteraction")):
        # The batch schema takes any items (each is validated on its own, and refused alone); the
        # document says what a valid item is.
        component = plugin.converter.schema2jsonschema(batch)
        component["properties"][field]["items"] = {"$ref": f"#/components/schemas/{item}"}
        spec.components.schema(name, component)
    _recommendations(spec)
    events = _single_and_batch(spec, "DataCueEvent", "DataCueBatch",
                               {"204": {"description": "One event stored (or a repeat of one already stored) "
                                                       "that loads no page"}}, answered="Recommendations")
    interactions = _single_and_batch(spec, "CobiInteraction", "CobiBatch", {"201": {
        "description": "One interaction stored; the body is the interaction with received_at",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CobiCreated"}}}}},
        result="DataResult")
    spec.path("/v1/events", operations={**events, "put": events["post"]})
    spec.path("/", operations=events)
    spec.path("/user-interactions", operations=interactions)
    spec.path("/v1/user-interactions", operations=interactions)
    _data_api(spec, plugin)
    _backend_api(spec, plugin)
    _imports_api(spec)
    _analysts_api(spec)
    _segment_api(spec, segment_prefix.rstrip("/"))
    for path, text in (("/healthz", "The process serves"),
                       ("/readyz", "The database answers; `worker_last_seen_seconds`: how long ago a `collector "
                                   "worker` said it was alive (null: none has run on this store)")):
        spec.path(path, operations={"get": {"responses": {
            "200": {"description": text},
            **({"503": {"description": "The database does not answer",
                        "content": {"application/json": {"schema": _ERROR}}}} if path == "/readyz" else {})}}})
    return spec.to_dict()
